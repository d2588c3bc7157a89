// The body of a JavaScript response the browser runs (scripts, module scripts and their imports,
// worklet modules): the import specifiers that name other origins are mapped (see
// rewrite/js-imports.ts), and in a window's scripts the references that navigate the top window
// or post to it are wrapped in the runtime's hook (rewrite/js-top.ts). The body is decoded when
// compressed and streams on as it comes until the word `import` (or `export`, for a module, or
// such a reference) shows up; from that word on it is held until the
// script is complete (the lexer needs all of it, MAX_SCRIPT_BYTES at most), then lexed whole and
// the held part sent with its edits (script-hold.ts). A script complete before any of it could go
// on leaves whole: as the site sent it (same bytes, encoding, validators) when nothing changes,
// else decoded with its length. A script that went on before its end was known is chunked and
// decoded, with a weak ETag and no Accept-Ranges whether it changed or not (RFC 9110 8.8.1: the
// bytes may not be the site's, so no range request may be combined with them).

import { changedBodyHeaders } from './header-policy.js';
import { type Exchange, LATER, settledSoon } from './http-bridge.js';
import { BodyEncoder, type ContentCoding, encodedBodyHeaders, sendDecodedWhole } from './response-encoding.js';
import { bytesMayHaveImports, JAVASCRIPT_ESSENCES } from './rewrite/js-imports.js';
import { bytesMayReferenceTop } from './rewrite/js-top.js';
import { scriptTextEdits } from './rewrite/script-edits.js';
import { byteCodec, lexableAsBytes } from './rewrite/text-codec.js';
import { codingOf, decodedWhole, encodedParts } from './rewritten-body.js';
import { type ByteEdit, editedPieces, HeldScript } from './script-hold.js';

/** Largest script (as sent, and decoded) whose imports the gateway rewrites; a longer one is piped as it is. */
export const MAX_SCRIPT_BYTES = 8 * 1024 * 1024;

/** Fetch destinations of scripts the browser runs (Fetch standard, "script-like" destinations without the service worker). */
const SCRIPT_DESTINATIONS = new Set(['script', 'worker', 'sharedworker', 'audioworklet', 'paintworklet']);

/**
 * Whether the request is for a script the browser will run, and whether it may be a module:
 * `Sec-Fetch-Dest` says script-like; module scripts (and their imports, and import()) are fetched
 * in `cors` mode, classic scripts in `no-cors` (unless their element has `crossorigin`). Without
 * Fetch Metadata (older browsers) any script may be a module. null: not a script load.
 */
export function scriptRequestKind(headers: Readonly<Record<string, string>>): 'module' | 'classic' | null {
  const dest = headers['sec-fetch-dest'];
  if (dest === undefined) return 'module';
  if (!SCRIPT_DESTINATIONS.has(dest)) return null;
  return headers['sec-fetch-mode'] === 'no-cors' ? 'classic' : 'module';
}

/** True for a JavaScript Content-Type (parameters aside). */
export function isJavaScriptType(contentType: string): boolean {
  const essence = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return JAVASCRIPT_ESSENCES.has(essence);
}

/** What a script's imports are rewritten with. */
export interface ScriptRewrite {
  /** The script may be a module: `export ... from` counts too. */
  module: boolean;
  /** The charset the Content-Type names (modules are always UTF-8). */
  charset: string | undefined;
  mapSpecifier(url: string): string | null;
  /** The script's real URL, the base the runtime hook gets for import(expr). */
  url: string;
  /** A window's script (not a worker's): references to the top window are wrapped too. */
  top: boolean;
}

/** The edits of the script `decoded` (byte offsets), or null when nothing changes (or it cannot be read: UTF-16, not lexable). */
export function scriptByteEdits(decoded: Buffer, rewrite: ScriptRewrite): ByteEdit[] | null {
  const imports = bytesMayHaveImports(decoded, rewrite.module);
  const top = rewrite.top && bytesMayReferenceTop(decoded);
  if (!imports && !top) return null;
  const bom = decoded[0] === 0xef && decoded[1] === 0xbb && decoded[2] === 0xbf ? 3 : 0;
  const codec = byteCodec(rewrite.module || bom ? 'utf-8' : rewrite.charset);
  if (codec === null) return null;
  const text = decoded.toString('latin1', bom);
  const found = scriptTextEdits(
    text,
    imports ? { mapSpecifier: rewrite.mapSpecifier, codec, base: JSON.stringify(rewrite.url) } : null,
    top && lexableAsBytes(text, codec),
  );
  if (found.length === 0) return null;
  return bom ? found.map((f) => ({ s: f.s + bom, e: f.e + bom, rep: f.rep })) : found;
}

/** The script `decoded` with its imports rewritten, or null when nothing changes. */
export function rewriteScriptBytes(decoded: Buffer, rewrite: ScriptRewrite): Buffer | null {
  const edits = scriptByteEdits(decoded, rewrite);
  return edits === null ? null : Buffer.concat(editedPieces(decoded, 0, edits));
}

/** What became of a script: rewritten, looked at and sent as it came, or sent as it came unread (too large, unknown encoding, broken). */
export type ScriptOutcome = 'rewritten' | 'unchanged' | 'unread';

/** How a script went: its outcome, and whether it streamed (went on before it was complete). */
export interface ScriptSent {
  outcome: ScriptOutcome;
  streamed: boolean;
}

/** The upstream body's chunks, with a copy of those read while `keep` says so (to send the body as it came). */
class RawBody {
  readonly chunks: Buffer[] = [];
  keep = true;
  ended = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(body: AsyncIterable<Buffer>) {
    this.it = body[Symbol.asyncIterator]();
  }

  /** The chunks as they come; stopping this iteration does not close the body (close does). */
  async *read(): AsyncGenerator<Buffer> {
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return;
      }
      if (this.keep) this.chunks.push(r.value);
      yield r.value;
    }
  }

  /** The copied chunks, then the rest of the body as it comes. */
  async *copyAndRest(): AsyncGenerator<Buffer> {
    this.keep = false;
    yield* this.chunks;
    if (!this.ended) yield* this.read();
  }

  async close(): Promise<void> {
    if (!this.ended) await this.it.return?.().catch(() => undefined);
  }
}

/**
 * Sends a script response (as the site sent it: `encoding` names its Content-Encoding, `length`
 * its Content-Length) with its imports rewritten; `headers` are the response headers for the
 * browser (without Content-Length).
 */
export async function sendScript(
  exchange: Exchange,
  status: number,
  headers: [string, string][],
  body: AsyncIterable<Buffer>,
  encoding: string,
  length: number | null,
  rewrite: ScriptRewrite,
  coding: ContentCoding | null = null,
): Promise<ScriptSent> {
  const decoder = codingOf(encoding);
  if (decoder === 'unsupported') {
    await exchange.sendStream(status, headers, body, length);
    return { outcome: 'unread', streamed: true };
  }
  const raw = new RawBody(body);
  let decoded: AsyncIterable<Buffer> = raw.read();
  if (decoder !== null) {
    try {
      // In one call when all of it is here (decodedWhole), else streamed.
      decoded = (await decodedWhole(decoded, decoder)).body;
    } catch {
      // A broken compressed body, all of it here: as it came.
      await exchange.sendStream(status, headers, raw.copyAndRest(), length);
      return { outcome: 'unread', streamed: true };
    }
  }
  const it = decoded[Symbol.asyncIterator]();
  let ended = false;
  const next = async (): Promise<Buffer | null> => {
    const r = await it.next();
    if (r.done) ended = true;
    return r.done ? null : r.value;
  };
  const hold = new HeldScript(rewrite.module, MAX_SCRIPT_BYTES, rewrite.top);
  const whole = () => sendWhole(exchange, status, headers, decoder === null ? hold.whole()! : Buffer.concat(raw.chunks), hold.whole()!, rewrite, coding);
  const encoder = coding === null ? null : new BodyEncoder(coding);
  let changed = false;
  // The end goes out with the last part when the body ends before the event loop's next turn.
  async function* parts(first: Buffer[], following: Promise<Buffer | null>): AsyncGenerator<{ pieces: Buffer[]; last: boolean }> {
    let pieces = first;
    for (;;) {
      let r = await settledSoon(following);
      if (r === LATER) {
        if (pieces.length > 0) yield { pieces, last: false };
        pieces = [];
        r = await following;
      }
      if (r === null) break;
      if (pieces.length > 0) yield { pieces, last: false };
      pieces = hold.write(r);
      following = next();
    }
    const rest = hold.end((script) => scriptByteEdits(script, rewrite));
    changed = rest.changed;
    yield { pieces: [...pieces, ...rest.pieces], last: true };
  }
  try {
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = await next();
      } catch {
        // A broken compressed body, before anything of it went on: as it came.
        await exchange.sendStream(status, headers, raw.copyAndRest(), length);
        return { outcome: 'unread', streamed: true };
      }
      // The body ended with nothing of it gone on (a script over the limit has gone on).
      if (chunk === null) return whole();
      const pieces = hold.write(chunk);
      if (hold.overLimit && decoder === null) {
        // Too large to look at, and nothing went on yet: as the site sent it.
        await exchange.sendStream(status, headers, raw.copyAndRest(), length);
        return { outcome: 'unread', streamed: true };
      }
      if (pieces.length === 0) continue;
      const following = next();
      const soon = await settledSoon(following);
      if (soon === null && !hold.overLimit) return whole();
      // From here on the script leaves decoded (the copy of what came is no longer needed).
      raw.keep = false;
      raw.chunks.length = 0;
      const edited = parts(pieces, soon === LATER ? following : Promise.resolve(soon));
      // Decoded to be edited, it leaves in the coding it came in (as the client accepts), flushed part by part.
      if (encoder && coding) await exchange.sendParts(status, encodedBodyHeaders(changedBodyHeaders(headers), coding), encodedParts(edited, encoder));
      else await exchange.sendParts(status, changedBodyHeaders(headers), edited);
      return { outcome: hold.overLimit ? 'unread' : changed ? 'rewritten' : 'unchanged', streamed: true };
    }
  } finally {
    encoder?.destroy();
    if (!ended) await it.return?.().catch(() => undefined);
    await raw.close();
  }
}

/**
 * A script complete before anything of it went on: as the site sent it (`raw`) when nothing
 * changes, else decoded and edited, with its length, compressed again in `coding` when the site
 * had compressed it.
 */
async function sendWhole(
  exchange: Exchange,
  status: number,
  headers: [string, string][],
  raw: Buffer,
  decoded: Buffer,
  rewrite: ScriptRewrite,
  coding: ContentCoding | null,
): Promise<ScriptSent> {
  const rewritten = rewriteScriptBytes(decoded, rewrite);
  if (rewritten === null) {
    exchange.sendComplete(status, headers, raw);
    return { outcome: 'unchanged', streamed: false };
  }
  await sendDecodedWhole(exchange, status, changedBodyHeaders(headers), rewritten, coding);
  return { outcome: 'rewritten', streamed: false };
}

/** The checked (decoded) bytes of a script with an integrity marker, rewritten: the body and its headers. */
export function checkedScript(checked: Buffer, headers: [string, string][], rewrite: ScriptRewrite): { body: Buffer; headers: [string, string][] } {
  return { body: rewriteScriptBytes(checked, rewrite) ?? checked, headers: changedBodyHeaders(headers) };
}

/** A decoded script body with its imports rewritten, as a stream (for the worker prelude); a body too large to look at is passed on as it comes. */
export async function rewrittenScriptStream(body: AsyncIterable<Buffer>, rewrite: ScriptRewrite): Promise<AsyncIterable<Buffer>> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    size += r.value.length;
    if (size > MAX_SCRIPT_BYTES) {
      return (async function* () {
        yield* chunks;
        for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
      })();
    }
  }
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const out = rewriteScriptBytes(whole, rewrite) ?? whole;
  return (async function* () {
    yield out;
  })();
}
