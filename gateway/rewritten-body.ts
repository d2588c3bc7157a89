// The body of an HTML or CSS response as the browser gets it: decoded when the origin compressed
// it, then rewritten chunk by chunk as it arrives. No Transform or pipeline in between when the
// body is not compressed: each upstream chunk goes through the rewriter and its pieces (slices of
// the chunk where nothing changed) go straight to the client; a page that arrives in one chunk
// leaves in one cork, its pieces written back to back (never copied into one buffer).

import { pipeline, Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type Exchange, LATER, settledSoon } from './http-bridge.js';
import type { BodyEncoder } from './response-encoding.js';

/** A rewriter fed chunk by chunk (HtmlRewriter, CssRewriter). */
export interface ChunkRewriter {
  write(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

/** The decompressor for a Content-Encoding: null for none, 'unsupported' for one the gateway cannot decode. */
export function decoderFor(encoding: string): NodeJS.ReadWriteStream | null | 'unsupported' {
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return 'unsupported';
  }
}

/**
 * `body` through `decoder`; a failure of either fails the iteration (and stopping it early closes
 * both). A source that is not a stream (an UpstreamBody) is destroyed as soon as the pipeline
 * fails: pipeline would only close it when its next chunk came, which a stalled origin never sends.
 */
export function decodedBody(body: AsyncIterable<Buffer>, decoder: NodeJS.ReadWriteStream): AsyncIterable<Buffer> {
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
