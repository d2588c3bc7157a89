// The body of an HTML or CSS response as the browser gets it: decoded when the origin compressed
// it, then rewritten chunk by chunk as it arrives. No Transform or pipeline in between when the
// body is not compressed: each upstream chunk goes through the rewriter and its pieces (slices of
// the chunk where nothing changed) go straight to the client.

import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

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

/** `body` through `decoder`; a failure of either fails the iteration (and stopping it early closes both). */
export function decodedBody(body: Readable, decoder: NodeJS.ReadWriteStream): AsyncIterable<Buffer> {
  return (pipeline as (...streams: unknown[]) => Readable)(body, decoder, () => {});
}

/**
 * `body` rewritten by `rewriter`, as pieces to send in order. `onDone` gets the time spent in the
 * rewriter (synchronous CPU work) once the body has ended; `onError` hears of a failure of the body
 * or the rewriter before it propagates. Stopping the iteration early closes `body`.
 */
export async function* rewrittenBody(
  body: AsyncIterable<Buffer>,
  rewriter: ChunkRewriter,
  onDone: (seconds: number) => void,
  onError: (err: Error) => void,
): AsyncGenerator<Buffer> {
  let ms = 0;
  try {
    for await (const chunk of body) {
      const t = performance.now();
      const pieces = rewriter.write(chunk);
      ms += performance.now() - t;
      for (const piece of pieces) yield piece;
    }
    const t = performance.now();
    const pieces = rewriter.end();
    ms += performance.now() - t;
    onDone(ms / 1000);
    for (const piece of pieces) yield piece;
  } catch (err) {
    onError(err as Error);
    throw err;
  }
}
