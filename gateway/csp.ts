// Content-Security-Policy of proxied pages: sources are mapped to the proxied hosts they stand
// for, the injected script is allowed by a nonce, and the rest of the policy is kept.

/** Maps a source origin (e.g. `https://cdn.example.com`) to the origin the browser uses, or null to keep it. */
export type MapOrigin = (origin: string) => string | null;

/** What rewriting a policy needs to know. */
export interface CspContext {
  /** The real origin of the page (its scheme fills scheme-less sources). */
  pageOrigin: URL;
  mapOrigin: MapOrigin;
  /** The real origins the session knows so far (a wildcard source stands for those of them it matches). */
  knownOrigins: readonly string[];
  /** Nonce of the injected script tag. */
  nonce: string;
  /** Absolute URL of the injected script on the page's proxied host. */
  injectScriptUrl: string;
  /** True when the gateway is served over plain http (upgrade directives would break it). */
  insecureGateway: boolean;
  /** The gateway host's origin: a request to a proxied host not entered yet goes there and back for a ticket. */
  gatewayOrigin: string;
  /** Source for the proxied hosts' ticket endpoint, which the page's script calls to enter another host. */
  entrySource: string;
}

/** The directives that rule script elements, the first present applies (CSP 3, "effective directive" fallback). */
export const FETCH_DIRECTIVES_WITH_SCRIPTS = ['script-src-elem', 'script-src', 'default-src'];

/** Whether a script directive's sources work with nonces or hashes: the gateway's nonce is then added to it (elsewhere it would switch off 'unsafe-inline'). */
export function takesGatewayNonce(sources: readonly string[]): boolean {
  return sources.some((s) => /^'(nonce-|sha(256|384|512)-|strict-dynamic')/.test(s));
}
/** Directives of no-cors loads and frames, which the gateway may send through its own host once (the ticket hand-off). */
const HANDOFF_DIRECTIVES = new Set([
  'default-src',
  'img-src',
  'media-src',
  'style-src',
  'style-src-elem',
  'script-src',
  'script-src-elem',
  'frame-src',
  'child-src',
]);
const KEYWORD = /^'[^']*'$/;
const SCHEME_ONLY = /^[a-z][a-z0-9+.-]*:$/i;

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/** Whether the real origin `origin` matches a host source's scheme, `*.host` and port (CSP "does url match expression"). */
function wildcardMatches(origin: string, proto: string, host: string, port: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(scheme === proto || (proto === 'http' && scheme === 'https'))) return false;
  const h = url.hostname.toLowerCase();
  if (!h.endsWith(`.${host.toLowerCase()}`)) return false;
  if (port === '*') return true;
  const want = port ?? DEFAULT_PORTS[proto];
  const have = url.port || DEFAULT_PORTS[scheme];
  // An http source without a port also allows the https default port (the upgrade), as browsers do.
  return have === want || (port === undefined && proto === 'http' && scheme === 'https' && have === '443');
}

/**
 * The sources a site's source becomes: the proxied origin of a host it names, with its path (the
 * proxied host serves the same paths, so the policy allows exactly what it allowed); for a
 * wildcard host, the proxied origins of the session's origins it matches, each with the path
 * (the proxied hosts' names do not carry the real host, so no wildcard of them could stand for
 * it: a wildcard of the gateway's hosts would allow every allowed site and every session). An
 * origin of the wildcard first met later in the page is then refused where the real site would
 * load it (fails closed).
 */
function mapSource(source: string, ctx: CspContext): string[] {
  if (KEYWORD.test(source) || SCHEME_ONLY.test(source) || source === '*') return [source];
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([^/:]+)(?::(\d+|\*))?(\/.*)?$/i.exec(source);
  if (!m) return [source];
  const [, scheme, wildcard, host, port, path] = m;
  const proto = (scheme ?? ctx.pageOrigin.protocol.replace(':', '')).toLowerCase();
  const httpish = proto === 'ws' ? 'http' : proto === 'wss' ? 'https' : proto;
  if (httpish !== 'http' && httpish !== 'https') return [source];
  const toSource = (mapped: string): string => `${proto === 'ws' || proto === 'wss' ? mapped.replace(/^http/, 'ws') : mapped}${path ?? ''}`;
  if (wildcard) {
    const out = [source];
    for (const origin of ctx.knownOrigins) {
      if (!wildcardMatches(origin, httpish, host!, port)) continue;
      const mapped = ctx.mapOrigin(origin);
      if (mapped) out.push(toSource(mapped));
    }
    return out;
  }
  const origin = `${httpish}://${host}${port && port !== '*' ? `:${port}` : ''}`;
  let mapped: string | null;
  try {
    mapped = ctx.mapOrigin(new URL(origin).origin);
  } catch {
    mapped = null;
  }
  if (!mapped) return [source];
  return [toSource(mapped)];
}

/** The hub's WebSocket and the gateway's own endpoints live on the page's host; the other hosts' ticket endpoint is called too. */
function connectSources(sources: string[], ctx: CspContext): string[] {
  const own = sources.includes("'self'") ? sources : sources.filter((s) => s !== "'none'").concat("'self'");
  return own.concat(ctx.entrySource);
}

/** Rewrites one policy (a header value, possibly with several comma-separated policies). */
export function rewriteCsp(value: string, ctx: CspContext): string {
  return value
    .split(',')
    .map((policy) => rewritePolicy(policy, ctx))
    .filter((p) => p !== '')
    .join(', ');
}

function rewritePolicy(policy: string, ctx: CspContext): string {
  const directives = policy
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => d.split(/\s+/));
  const names = new Set(directives.map((d) => (d[0] ?? '').toLowerCase()));
  const scriptDirective = FETCH_DIRECTIVES_WITH_SCRIPTS.find((n) => names.has(n));
  const out: string[] = [];
  let connectFallback: string[] | null = null;
  for (const [rawName, ...sources] of directives) {
    const name = (rawName ?? '').toLowerCase();
    if (ctx.insecureGateway && (name === 'upgrade-insecure-requests' || name === 'block-all-mixed-content')) continue;
    if (name === 'report-uri' || name === 'report-to') continue;
    let mapped = sources.flatMap((s) => mapSource(s, ctx));
    if (name === scriptDirective || (name === 'script-src' && scriptDirective === 'script-src-elem')) {
      mapped = mapped.filter((s) => s !== "'none'");
      // A nonce where the policy already works with nonces or hashes; elsewhere a nonce would
      // switch off the site's 'unsafe-inline', so the one script URL is allowed instead.
      const takesNonce = takesGatewayNonce(mapped);
      mapped.push(takesNonce ? `'nonce-${ctx.nonce}'` : ctx.injectScriptUrl);
      // Without 'unsafe-inline' a nonce switches nothing off; the inline elements the gateway adds (import maps) carry it.
      if (!takesNonce && !mapped.some((s) => s.toLowerCase() === "'unsafe-inline'")) mapped.push(`'nonce-${ctx.nonce}'`);
    }
    if (name === 'connect-src') mapped = connectSources(mapped, ctx);
    // Without a connect-src, connections fall back to default-src: spell it out with the page's own host.
    if (name === 'default-src' && !names.has('connect-src')) {
      connectFallback = connectSources(
        sources.flatMap((src) => mapSource(src, ctx)),
        ctx,
      );
    }
    if (HANDOFF_DIRECTIVES.has(name) && mapped.some((src) => src !== "'none'")) mapped.push(ctx.gatewayOrigin);
    out.push([name, ...new Set(mapped)].join(' '));
  }
  if (connectFallback) out.push(['connect-src', ...new Set(connectFallback)].join(' '));
  return out.join('; ');
}

/**
 * The gateway's own policy, sent beside the site's with every answer of a proxied host (the
 * browser enforces every policy it gets): a document or worker of a proxied host may load from, connect to, frame and post forms to the
 * gateway's hosts (and data:, blob:) only. It allows everything else a page may do (inline
 * scripts, eval, wasm), so it changes nothing for a page whose URLs are all mapped; what the
 * rewriter and the URL runtime miss (an import() in eval or an event handler, a script the
 * lexer misreads, a data: frame's fetch, a form to a real site) is refused by the browser before
 * any request leaves, instead of reaching the real site. Navigations are outside CSP's reach.
 */
export function containmentPolicy(gatewayOrigin: string): string {
  const base = new URL(gatewayOrigin);
  const ws = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const hosts = `'self' ${base.protocol}//${base.host} ${base.protocol}//*.${base.host} ${ws}//*.${base.host}`;
  return `default-src ${hosts} data: blob: 'unsafe-inline' 'unsafe-eval'; form-action ${hosts}`;
}

const containmentHeaders = new Map<string, readonly [string, string][]>();

/** The containment policy as the header list every answer of a proxied host carries (built once per gateway origin). */
export function containmentHeader(gatewayOrigin: string): readonly [string, string][] {
  let headers = containmentHeaders.get(gatewayOrigin);
  if (headers === undefined) {
    headers = [['content-security-policy', containmentPolicy(gatewayOrigin)]];
    containmentHeaders.set(gatewayOrigin, headers);
  }
  return headers;
}
