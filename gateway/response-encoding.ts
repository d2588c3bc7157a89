// The content coding of a body the gateway decoded to rewrite it (HTML, CSS, and scripts whose
// imports or top-window references it edits): when the site sent
// it compressed, it leaves compressed again, in a coding the client accepts, so that a page through
// the gateway costs the network what it costs directly (a 50 KB page of the bench is ~8 KB in br or
// gzip). A body the site sent uncompressed stays so: the gateway does not spend CPU the site did not.
//
// Costs measured on the development machine for the bench's 50 KB page, one call each
// (`npm run bench -- --zlib-calls`, bench/README.md session 23): br quality 0 91 µs and 9.4 KB,
// br quality 1 117 µs and 8.3 KB, gzip level 1 153 µs and 8.8 KB (500 KB: 729, 1,257 and
// 1,834 µs); hence br first, at quality 0 (1 KB more than quality 1 for a 50 KB page, still a
// fifth of the plain page), and the fastest gzip and deflate level. A body given whole (up to WHOLE_ENCODE_MAX) is compressed
// in one synchronous call on the event loop's thread; one sent in parts, or a larger one, on
// libuv's thread pool (zlib's streams).

import { brotliCompressSync, constants, createBrotliCompress, createDeflate, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { acceptedCodings } from './header-policy.js';
import type { Exchange } from './http-bridge.js';

export type ContentCoding = 'br' | 'gzip' | 'deflate';

/** Preference among the codings the client accepts: br is both cheaper and smaller at the levels used. */
const PREFERENCE: readonly ContentCoding[] = ['br', 'gzip', 'deflate'];

/**
 * The coding a decoded body leaves in: null when the site had sent it uncompressed (`siteCoding`
 * empty or identity) or the client accepts none of br, gzip and deflate (`acceptEncoding`, read
 * as for the upstream request).
 */
export function reencodingFor(siteCoding: string, acceptEncoding: string | undefined): ContentCoding | null {
  const site = siteCoding.trim().toLowerCase();
  if (site === '' || site === 'identity') return null;
  const accepted: readonly string[] = acceptedCodings(acceptEncoding);
  return PREFERENCE.find((coding) => accepted.includes(coding)) ?? null;
}

/**
 * Headers of a body re-encoded in `coding`: Content-Encoding set, and Vary names Accept-Encoding
 * (the same URL answers plain to a client that accepts no coding).
 */
export function encodedBodyHeaders(headers: [string, string][], coding: ContentCoding): [string, string][] {
  const out = headers.filter(([name]) => name !== 'content-encoding' && name !== 'content-length');
  out.push(['content-encoding', coding]);
  const vary = out.find(([name]) => name === 'vary');
  if (!vary) out.push(['vary', 'Accept-Encoding']);
  else if (!vary[1].split(',').some((v) => v.trim() === '*' || v.trim().toLowerCase() === 'accept-encoding')) vary[1] = `${vary[1]}, Accept-Encoding`;
  return out;
}

type Compressor = ReturnType<typeof createGzip> | ReturnType<typeof createBrotliCompress>;

/**
 * Largest body compressed in one synchronous call: ~1.5 ms of br quality 0 on the development
 * machine. A stream compressor cost 2.0-3.9x the CPU of one call for a 50 KB page there (br
 * quality 1: 353-679 µs against 174-196, bench/README.md session 21; quality 0: 2.8x, session 23;
 * `npm run bench -- --zlib-calls`); a larger body, or one sent in parts, goes through the stream
 * compressor on libuv's thread pool.
 */
export const WHOLE_ENCODE_MAX = 1024 * 1024;

const BROTLI_PARAMS = { [constants.BROTLI_PARAM_QUALITY]: 0 };

/**
 * One body's compressor, fed in parts: each `encode` returns the bytes that make everything given
 * so far decodable (a sync flush), or, with `last`, the end of the encoded body. A body given whole
 * (its first `encode` is its last) of at most WHOLE_ENCODE_MAX bytes is compressed in one call.
 */
export class BodyEncoder {
  private stream: Compressor | null = null;
  private out: Buffer[] = [];
  private failure: Error | null = null;

  constructor(readonly coding: ContentCoding) {}

  /** Compresses `pieces`; resolves with the encoded bytes produced, all of them decodable now. */
  async encode(pieces: readonly Uint8Array[], last: boolean): Promise<Buffer[]> {
    if (this.failure) throw this.failure;
    if (last && this.stream === null) {
      let size = 0;
      for (const piece of pieces) size += piece.byteLength;
      if (size <= WHOLE_ENCODE_MAX) return [this.encodeAtOnce(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces))];
    }
    const stream = this.open();
    for (const piece of pieces) if (piece.byteLength > 0) stream.write(piece);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      stream.once('error', failed);
      const done = () => {
        stream.off('error', failed);
        resolve();
      };
      if (last) {
        stream.once('end', done);
        stream.end();
      } else stream.flush(this.coding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH, done);
    });
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Stops the compressor (the body was abandoned). */
  destroy(): void {
    this.stream?.destroy();
  }

  private encodeAtOnce(body: Uint8Array): Buffer {
    if (this.coding === 'br') return brotliCompressSync(body, { params: BROTLI_PARAMS });
    return this.coding === 'gzip' ? gzipSync(body, { level: 1 }) : deflateSync(body, { level: 1 });
  }

  private open(): Compressor {
    if (this.stream) return this.stream;
    const stream =
      this.coding === 'br' ? createBrotliCompress({ params: BROTLI_PARAMS }) : this.coding === 'gzip' ? createGzip({ level: 1 }) : createDeflate({ level: 1 });
    stream.on('data', (chunk: Buffer) => this.out.push(chunk));
    stream.on('error', (err: Error) => {
      this.failure = err;
    });
    this.stream = stream;
    return stream;
  }
}

/**
 * Sends a body the gateway decoded, complete (`headers`: the body's changed headers, without a
 * coding): compressed again in `coding` with its compressed length, or plain when `coding` is null.
 */
export async function sendDecodedWhole(
  exchange: Exchange,
  status: number,
  headers: [string, string][],
  body: Buffer,
  coding: ContentCoding | null,
): Promise<void> {
  if (coding === null || status === 204) {
    exchange.sendComplete(status, headers, body);
    return;
  }
  const encoder = new BodyEncoder(coding);
  try {
    await exchange.sendPieces(status, encodedBodyHeaders(headers, coding), await encoder.encode([body], true));
  } finally {
    encoder.destroy();
  }
}
