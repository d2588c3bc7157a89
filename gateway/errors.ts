// The one error type of the gateway: a stable code, an HTTP status and a message for the user.

/** Stable error codes; clients and tests match on these, never on messages. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'METHOD_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'SITE_NOT_ALLOWED'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_LIMIT'
  | 'PARTICIPANT_LIMIT'
  | 'NOT_A_PARTICIPANT'
  | 'NOT_HOST'
  | 'PARTICIPANT_NOT_FOUND'
  | 'REMOVED'
  | 'HOST_LINK_USED'
  | 'BAD_ORIGIN'
  | 'TICKET_INVALID'
  | 'UNKNOWN_HOST'
  | 'UPSTREAM_FAILED'
  | 'UPSTREAM_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'DRAINING'
  | 'SSRF_BLOCKED'
  | 'STATE_UNAVAILABLE'
  | 'INTEGRITY_MISMATCH'
  | 'INTERNAL';

/** An error the gateway turns into a response in one place (see respondWithError). */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

/** Converts anything thrown into a GatewayError; unknown errors become INTERNAL with a bland message. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('INTERNAL', 500, 'The gateway failed to handle this request.', { cause: err });
}

/** The store could not be reached: the request fails clearly instead of losing what it changes. */
export function stateUnavailable(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('STATE_UNAVAILABLE', 503, 'The gateway cannot reach its session store right now. Try again in a moment.', { cause: err });
}

/** JSON body of an error response, as the API documents it. */
export function errorBody(err: GatewayError): string {
  return JSON.stringify({ error: { code: err.code, message: err.message } });
}

/** The escape of each character escapeHtml replaces, by character code. */
const ESCAPES: (string | undefined)[] = [];
ESCAPES[0x26] = '&amp;';
ESCAPES[0x3c] = '&lt;';
ESCAPES[0x3e] = '&gt;';
ESCAPES[0x22] = '&quot;';
ESCAPES[0x27] = '&#39;';

/**
 * Escapes text for HTML element content and quoted attribute values. A loop over the codes rather
 * than a replace with a callback: every proxied page's injected tag escapes the session's JSON
 * (mostly quotes), and the callback's calls were ~2.8 µs of the loaded gateway's ~230 per 50 KB
 * page (bench/README.md, session 23).
 */
export function escapeHtml(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const entity = code < 0x3f ? ESCAPES[code] : undefined;
    if (entity === undefined) continue;
    out += text.slice(last, i) + entity;
    last = i + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** A small self-contained HTML page that explains an error to a person. */
export function errorPage(err: GatewayError): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(err.message)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .3em}</style></head><body><h1>${escapeHtml(err.message)}</h1><p>Error code <code>${err.code}</code> (HTTP ${err.status}).</p></body></html>`;
}
