import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codingOf, decodedBody, decodedWhole, isDecodingError, streamDecoder, WHOLE_DECODE_MAX } from '../../gateway/rewritten-body.js';

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of body) out.push(piece);
  return Buffer.concat(out);
}

describe('decodedBody', () => {
  it('decodes a gzip body', async () => {
    const doc = Buffer.from('<head></head><img src="https://other.test/i.png">');
    expect((await collect(decodedBody(Readable.from([gzipSync(doc)]), streamDecoder('gzip')))).equals(doc)).toBe(true);
  });

  it('fails the iteration when the body fails, and closes the body when the consumer stops early', async () => {
    const failing = new Readable({ read() {} });
    setImmediate(() => failing.destroy(new Error('upstream reset')));
    const gunzip = streamDecoder('gzip');
    await expect(collect(decodedBody(failing, gunzip))).rejects.toThrow('upstream reset');

    const failingAgain = new Readable({ read() {} });
    setImmediate(() => failingAgain.destroy(new Error('upstream reset')));
    const sourceError = await collect(decodedBody(failingAgain, streamDecoder('gzip'))).catch((err: unknown) => err);
    // The source's failure, not the decoder's: never reported as a body that could not be decoded.
    expect(isDecodingError(sourceError)).toBe(false);
    const corrupt = await collect(decodedBody(Readable.from([Buffer.from('not gzip at all')]), streamDecoder('gzip'))).catch((err: unknown) => err);
    expect(isDecodingError(corrupt)).toBe(true);

    const open = new Readable({ read() {} });
    open.push(gzipSync(Buffer.from('x'.repeat(100_000))));
    for await (const _piece of decodedBody(open, streamDecoder('gzip'))) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(open.destroyed).toBe(true);
  });
});

describe('codingOf', () => {
  it.each([
    ['', null],
    ['identity', null],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['deflate', 'deflate'],
    [' BR ', 'br'],
    ['compress', 'unsupported'],
  ])('%j', (encoding, expected) => {
    expect(codingOf(encoding)).toBe(expected);
  });
});

describe('decodedWhole', () => {
  const doc = Buffer.from(`<!DOCTYPE html><p>${'text to compress '.repeat(2000)}</p>`);
  const encoded = { gzip: gzipSync(doc), deflate: deflateSync(doc), br: brotliCompressSync(doc) };
  /** The chunks, each after the previous one by `gapMs` (0: back to back, in the same turn). */
  async function* chunks(parts: Buffer[], gapMs = 0): AsyncGenerator<Buffer> {
    for (const [i, part] of parts.entries()) {
      if (i > 0 && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      yield part;
    }
  }
  const halves = (b: Buffer) => [b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)];

  it.each(['gzip', 'deflate', 'br'] as const)('%s, all of it here: decoded in one call, one chunk with its length', async (coding) => {
    const out = await decodedWhole(chunks(halves(encoded[coding])), coding);
    expect(out.length).toBe(doc.length);
    const pieces: Buffer[] = [];
    for await (const piece of out.body) pieces.push(piece);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.equals(doc)).toBe(true);
  });

  it('the rest still to come: streamed as it comes, no length, the same bytes', async () => {
    const out = await decodedWhole(chunks(halves(encoded.gzip), 30), 'gzip');
    expect(out.length).toBeNull();
    expect((await collect(out.body)).equals(doc)).toBe(true);
  });

  it.each(['gzip', 'deflate', 'br'] as const)('%s, more than WHOLE_DECODE_MAX decoded: streamed, the same bytes', async (coding) => {
    const big = Buffer.alloc(WHOLE_DECODE_MAX + 1000, 'a');
    const compressed = coding === 'gzip' ? gzipSync(big) : coding === 'deflate' ? deflateSync(big) : brotliCompressSync(big);
    const out = await decodedWhole(chunks([compressed]), coding);
    expect(out.length).toBeNull();
    expect((await collect(out.body)).equals(big)).toBe(true);
  });

  it('not decodable, all of it here: a decoding error at once; arriving in parts: a decoding error while read', async () => {
    const broken = Buffer.from(encoded.gzip);
    for (let i = 12; i < broken.length - 8; i++) broken[i] = broken[i]! ^ 0x5a;
    const atOnce = await decodedWhole(chunks([broken]), 'gzip').catch((err: unknown) => err);
    expect(isDecodingError(atOnce)).toBe(true);
    const streamed = await decodedWhole(chunks(halves(broken), 30), 'gzip');
    const read = await collect(streamed.body).catch((err: unknown) => err);
    expect(isDecodingError(read)).toBe(true);
  });

  it('a failure of the body while it is streamed is the body’s, not a decoding error', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield encoded.gzip.subarray(0, 100);
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error('upstream reset');
    }
    const out = await decodedWhole(failing(), 'gzip');
    const err = await collect(out.body).catch((e: unknown) => e);
    expect((err as Error).message).toBe('upstream reset');
    expect(isDecodingError(err)).toBe(false);
  });
});
