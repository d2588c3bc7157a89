// The body of an HTML or CSS response as the browser gets it: decoded when the origin compressed
// it, then rewritten chunk by chunk as it arrives. No Transform or pipeline in between when the
// body is not compressed: each upstream chunk goes through the rewriter and its pieces (slices of
// the chunk where nothing changed) go straight to the client; a page that arrives in one chunk
// leaves in one cork, its pieces written back to back (never copied into one buffer).

import { pipeline, Readable } from 'node:stream';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, createInflate, gunzipSync, inflateSync } from 'node:zlib';
import { type Exchange, LATER, settledSoon } from './http-bridge.js';
import type { BodyEncoder } from './response-encoding.js';

/** A rewriter fed chunk by chunk (HtmlRewriter, CssRewriter). */
export interface ChunkRewriter {
  write(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

/** A Content-Encoding the gateway decodes. */
export type DecodedCoding = 'gzip' | 'deflate' | 'br';

/** The coding of a Content-Encoding header: null for none, 'unsupported' for one the gateway cannot decode. */
export function codingOf(encoding: string): DecodedCoding | null | 'unsupported' {
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    case 'br':
      return 'br';
    default:
      return 'unsupported';
  }
}

/** The stream decompressor for `coding` (what decodedBody reads through). */
export function streamDecoder(coding: DecodedCoding): NodeJS.ReadWriteStream {
  return coding === 'gzip' ? createGunzip() : coding === 'deflate' ? createInflate() : createBrotliDecompress();
}

/**
 * Largest body decoded in one synchronous call (decoded size): ~4 ms of gunzip on the development
 * machine, about what the rewriter then spends on it. A larger one is streamed.
 */
export const WHOLE_DECODE_MAX = 1024 * 1024;

/**
 * `body` (compressed in `coding`) decoded. When all of it is here before the event loop's next
 * turn (the usual page: its compressed bytes come in one read) and it decodes to at most
 * WHOLE_DECODE_MAX bytes, it is decoded in one synchronous call and comes as one chunk, with its
 * decoded `length`: on the development machine a stream decompressor cost 3.6-4.9x the CPU of one
 * call for a 50 KB page (gunzip, `npm run bench -- --zlib-calls`, bench/README.md session 21), and the page then leaves complete with its
 * length (sendRewritten). Otherwise it is streamed through the decompressor as it arrives
 * (decodedBody; `length` null). A body that cannot be decoded fails the iteration with an error
 * isDecodingError knows, either way.
 */
export async function decodedWhole(
  body: AsyncIterable<Buffer> & { destroy?: () => void },
  coding: DecodedCoding,
): Promise<{ body: AsyncIterable<Buffer>; length: number | null }> {
  const it = body[Symbol.asyncIterator]();
  const got: Buffer[] = [];
  let size = 0;
  let pending: Promise<IteratorResult<Buffer>> | null = it.next();
  while (pending !== null && size <= WHOLE_DECODE_MAX) {
    const r: IteratorResult<Buffer> | typeof LATER = got.length === 0 ? await pending : await settledSoon(pending);
    if (r === LATER) break;
    if (r.done) {
      pending = null;
      break;
    }
    got.push(r.value);
    size += r.value.length;
    pending = it.next();
  }
  if (pending === null) {
    const decoded = decodeAtOnce(coding, got.length === 1 ? got[0]! : Buffer.concat(got));
    if (decoded !== null) return { body: once(decoded), length: decoded.length };
  }
  // The rest comes later, or it is too large for one call: as it arrives, what came first first.
  const rest = pending;
  const replay = {
    async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
      yield* got;
      if (rest === null) return;
      for (let r = await rest; !r.done; r = await it.next()) yield r.value;
    },
    destroy: () => body.destroy?.(),
  };
  return { body: decodedBody(replay, streamDecoder(coding)), length: null };
}

async function* once(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

/** `input` decoded in one call; null when it decodes to more than WHOLE_DECODE_MAX bytes. */
function decodeAtOnce(coding: DecodedCoding, input: Buffer): Buffer | null {
  const options = { maxOutputLength: WHOLE_DECODE_MAX };
  try {
    return coding === 'gzip' ? gunzipSync(input, options) : coding === 'deflate' ? inflateSync(input, options) : brotliDecompressSync(input, options);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw Object.assign(err as Error, { [DECODING]: true });
  }
}

/**
 * `body` through `decoder`; a failure of either fails the iteration (and stopping it early closes
 * both). A source that is not a stream (an UpstreamBody) is destroyed as soon as the pipeline
 * fails: pipeline would only close it when its next chunk came, which a stalled origin never sends.
 */
export function decodedBody(body: AsyncIterable<Buffer> & { destroy?: () => void }, decoder: NodeJS.ReadWriteStream): AsyncIterable<Buffer> {
  // The decoder is destroyed with the source's error too (a reset upstream, the client gone): only
  // an error the source did not raise is the decoder's. Marked before anyone reading the decoded
  // body sees it (isDecodingError).
  const fromSource = new WeakSet<object>();
  const noteSource = (err: unknown) => {
    if (typeof err === 'object' && err !== null) fromSource.add(err);
  };
  // A stream source stays one (pipeline destroys it at once when the decoder fails); another
  // iterable is read through a generator that notes its failures.
  let source: AsyncIterable<Buffer> = body;
  if (body instanceof Readable) body.once('error', noteSource);
  else {
    source = (async function* () {
      try {
        yield* body;
      } catch (err) {
        noteSource(err);
        throw err;
      }
    })();
  }
  decoder.once('error', (err: Error) => {
    if (!fromSource.has(err)) Object.assign(err, { [DECODING]: true });
  });
  return (pipeline as (...streams: unknown[]) => Readable)(source, decoder, (err: Error | null) => {
    if (err) (body as { destroy?: () => void }).destroy?.();
  });
}

const DECODING = Symbol('decoding failed');

/** Whether `err` is a decompressor's: the site's gzip, deflate or br body could not be decoded. */
export function isDecodingError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && DECODING in err;
}

/** What sendRewritten reports: the time spent in the rewriter once the body ended, or a failure of the body or the rewriter. */
export interface RewriteHooks {
  onDone(seconds: number): void;
  onError(err: Error): void;
}

/** A part of a rewritten body: pieces to write back to back; `more`: the next chunk had already arrived. */
export interface Part {
  pieces: Buffer[];
  last: boolean;
  more?: boolean;
}

/**
 * Sends `body` rewritten by `rewriter`. When the whole body came in its first chunk (`length`, the
 * upstream Content-Length of an unencoded body, tells), the response goes out complete with a
 * Content-Length, its pieces written back to back in one cork (Exchange.sendPieces); otherwise it is
 * sent chunked, each chunk as soon as it is rewritten. With `encoder` (the headers must say its
 * coding) the rewritten bytes leave compressed: a complete body in one go, a chunked one flushed
 * whenever the next chunk has not arrived yet, so that what the browser has can be decoded.
 */
export async function sendRewritten(
  exchange: Exchange,
  status: number,
  headers: [string, string][],
  body: AsyncIterable<Buffer>,
  rewriter: ChunkRewriter,
  length: number | null,
  hooks: RewriteHooks,
  encoder: BodyEncoder | null = null,
): Promise<void> {
  const chunks = body[Symbol.asyncIterator]();
  let ended = false;
  let ms = 0;
  const rewrite = (chunk: Buffer | null): Buffer[] => {
    const t = performance.now();
    try {
      return chunk === null ? rewriter.end() : rewriter.write(chunk);
    } finally {
      ms += performance.now() - t;
    }
  };
  const next = async (): Promise<Buffer | null> => {
    const r = await chunks.next();
    if (r.done) ended = true;
    return r.done ? null : r.value;
  };
  // The end goes out with the last part when the body ends before the event loop's next turn.
  async function* rest(first: Buffer): AsyncGenerator<Part> {
    let chunk: Buffer | null = first;
    while (chunk !== null) {
      const following = next();
      const soon = await settledSoon(following);
      if (soon === null) {
        const pieces = [...rewrite(chunk), ...rewrite(null)];
        hooks.onDone(ms / 1000);
        yield { pieces, last: true, more: false };
        return;
      }
      yield { pieces: rewrite(chunk), last: false, more: soon !== LATER };
      chunk = soon === LATER ? await following : soon;
    }
    const pieces = rewrite(null);
    hooks.onDone(ms / 1000);
    yield { pieces, last: true, more: false };
  }
  try {
    const first = await next();
    const bodyless = status === 204 || status === 304 || status < 200;
    if (!bodyless && (first === null || (length !== null && first.length >= length))) {
      let pieces = first === null ? rewrite(null) : [...rewrite(first), ...rewrite(null)];
      hooks.onDone(ms / 1000);
      if (encoder) pieces = await encoder.encode(pieces, true);
      const sent = exchange.sendPieces(status, headers, pieces);
      // The body's end, so that the upstream connection is free for the next request.
      if (!ended) await next().catch(() => null);
      await sent;
      return;
    }
    if (bodyless) await exchange.sendStream(status, headers, null, null);
    else if (first !== null) await exchange.sendParts(status, headers, encoder ? encodedParts(rest(first), encoder) : rest(first));
  } catch (err) {
    hooks.onError(err as Error);
    throw err;
  } finally {
    encoder?.destroy();
    if (!ended) await chunks.return?.();
  }
}

/** `parts` compressed by `encoder`: the parts that arrive back to back are compressed together, then flushed. */
export async function* encodedParts(parts: AsyncIterable<Part>, encoder: BodyEncoder): AsyncGenerator<Part> {
  let held: Buffer[] = [];
  for await (const part of parts) {
    held.push(...part.pieces);
    if (part.more && !part.last) continue;
    const pieces = await encoder.encode(held, part.last);
    held = [];
    yield { pieces, last: part.last, more: false };
    if (part.last) return;
  }
}
