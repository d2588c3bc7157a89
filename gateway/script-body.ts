// The body of a JavaScript response the browser runs (scripts, module scripts and their imports,
// worklet modules): the import specifiers that name other origins are mapped (see
// rewrite/js-imports.ts). The body is read whole, up to MAX_SCRIPT_BYTES (the lexer needs all of
// it; a script runs only once it is complete, so the browser loses little by waiting), decoded
// when compressed, and looked at only when it has the word `import` (or `export`, for a module).
// A script with nothing to change leaves as the site sent it (same bytes, encoding, validators);
// a changed one leaves decoded, with its length and a weak ETag (RFC 9110 8.8.1: the bytes are
// not the site's, so no range request may be combined with them).

import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { changedBodyHeaders } from './header-policy.js';
import type { Exchange } from './http-bridge.js';
import { Edits } from './rewrite/edits.js';
import { addScriptEdits, bytesMayHaveImports, scriptImportEdits } from './rewrite/js-imports.js';
import { byteCodec } from './rewrite/text-codec.js';

/** Largest script (as sent, and decoded) whose imports the gateway rewrites; a longer one is piped as it is. */
export const MAX_SCRIPT_BYTES = 8 * 1024 * 1024;

/** Fetch destinations of scripts the browser runs (Fetch standard, "script-like" destinations without the service worker). */
const SCRIPT_DESTINATIONS = new Set(['script', 'worker', 'sharedworker', 'audioworklet', 'paintworklet']);

/** JavaScript MIME type essences (MIME Sniffing standard). */
const JS_ESSENCES = new Set([
  'application/ecmascript',
  'application/javascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
]);

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
  return JS_ESSENCES.has(essence);
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
}

/** The script `decoded` with its imports rewritten, or null when nothing changes (or it cannot be read: UTF-16, not lexable). */
export function rewriteScriptBytes(decoded: Buffer, rewrite: ScriptRewrite): Buffer | null {
  if (!bytesMayHaveImports(decoded, rewrite.module)) return null;
  const bom = decoded[0] === 0xef && decoded[1] === 0xbb && decoded[2] === 0xbf ? 3 : 0;
  const codec = byteCodec(rewrite.module || bom ? 'utf-8' : rewrite.charset);
  if (codec === null) return null;
  const text = decoded.toString('latin1', bom);
  const found = scriptImportEdits(text, { mapSpecifier: rewrite.mapSpecifier, codec, base: JSON.stringify(rewrite.url) });
  if (found === 'unparsed' || found.length === 0) return null;
  const edits = new Edits();
  addScriptEdits(found, 0, edits);
  const out = Buffer.from(edits.applyToString(text, 0, text.length), 'latin1');
  return bom ? Buffer.concat([decoded.subarray(0, bom), out]) : out;
}

/** A body read up to `max` bytes: whole (rest null), or the chunks read so far and the rest still to come. */
interface BoundedBody {
  chunks: Buffer[];
  rest: AsyncIterator<Buffer> | null;
}

async function readBounded(body: AsyncIterable<Buffer>, max: number): Promise<BoundedBody> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { chunks, rest: null };
    chunks.push(r.value);
    size += r.value.length;
    if (size > max) return { chunks, rest: it };
  }
}

async function* concatenated(chunks: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

const DECODERS: Record<string, (buf: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** The body decoded (in the thread pool), or null for an encoding the gateway does not know, a broken body, or one larger than `max` decoded. */
async function decodedWhole(raw: Buffer, encoding: string, max: number): Promise<Buffer | null> {
  const name = encoding.trim().toLowerCase();
  if (name === '' || name === 'identity') return raw;
  const decode = DECODERS[name];
  if (!decode) return null;
  return decode(raw, { maxOutputLength: max }).catch(() => null);
}

/** What became of a script: rewritten, looked at and sent as it came, or sent as it came unread (too large, unknown encoding, broken). */
export type ScriptOutcome = 'rewritten' | 'unchanged' | 'unread';

/**
 * Sends a script response (as the site sent it: `encoding` names its Content-Encoding) with its
 * imports rewritten; `headers` are the response headers for the browser (without Content-Length).
 */
export async function sendScript(
  exchange: Exchange,
  status: number,
  headers: [string, string][],
  body: AsyncIterable<Buffer>,
  encoding: string,
  rewrite: ScriptRewrite,
): Promise<ScriptOutcome> {
  const read = await readBounded(body, MAX_SCRIPT_BYTES);
  if (read.rest !== null) {
    await exchange.sendStream(status, headers, concatenated(read.chunks, read.rest), null);
    return 'unread';
  }
  const raw = read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks);
  const decoded = await decodedWhole(raw, encoding, MAX_SCRIPT_BYTES);
  const rewritten = decoded === null ? null : rewriteScriptBytes(decoded, rewrite);
  if (rewritten === null) {
    exchange.sendComplete(status, headers, raw);
    return decoded === null ? 'unread' : 'unchanged';
  }
  exchange.sendComplete(status, changedBodyHeaders(headers), rewritten);
  return 'rewritten';
}

/** The checked (decoded) bytes of a script with an integrity marker, rewritten: the body and its headers. */
export function checkedScript(checked: Buffer, headers: [string, string][], rewrite: ScriptRewrite): { body: Buffer; headers: [string, string][] } {
  return { body: rewriteScriptBytes(checked, rewrite) ?? checked, headers: changedBodyHeaders(headers) };
}

/** A decoded script body with its imports rewritten, as a stream (for the worker prelude); a body too large to look at is passed on as it comes. */
export async function rewrittenScriptStream(body: AsyncIterable<Buffer>, rewrite: ScriptRewrite): Promise<AsyncIterable<Buffer>> {
  const read = await readBounded(body, MAX_SCRIPT_BYTES);
  if (read.rest !== null) return concatenated(read.chunks, read.rest);
  const whole = read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks);
  const out = rewriteScriptBytes(whole, rewrite) ?? whole;
  return (async function* () {
    yield out;
  })();
}
