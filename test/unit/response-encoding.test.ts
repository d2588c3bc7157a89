import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyEncoder, type ContentCoding, encodedBodyHeaders, reencodingFor, WHOLE_ENCODE_MAX } from '../../gateway/response-encoding.js';

describe('reencodingFor', () => {
  it.each<[string, string | undefined, string | null]>([
    ['gzip', 'gzip, deflate, br, zstd', 'br'],
    ['br', 'gzip', 'gzip'],
    ['deflate', 'deflate', 'deflate'],
    ['x-gzip', 'br;q=0, gzip', 'gzip'],
    ['gzip', 'zstd', null],
    ['gzip', undefined, null],
    ['', 'gzip, br', null],
    ['identity', 'gzip, br', null],
  ])('site coding %j, client accepting %j: %j', (site, accept, expected) => {
    expect(reencodingFor(site, accept)).toBe(expected);
  });
});

describe('encodedBodyHeaders', () => {
  it('sets the coding, drops a length and adds Accept-Encoding to Vary', () => {
    expect(
      encodedBodyHeaders(
        [
          ['content-type', 'text/html'],
          ['content-length', '10'],
          ['vary', 'Sec-Fetch-Dest'],
        ],
        'br',
      ),
    ).toEqual([
      ['content-type', 'text/html'],
      ['vary', 'Sec-Fetch-Dest, Accept-Encoding'],
      ['content-encoding', 'br'],
    ]);
  });

  it.each(['accept-encoding', 'Accept-Encoding, Origin', '*'])('keeps a Vary of %j as it is', (vary) => {
    expect(encodedBodyHeaders([['vary', vary]], 'gzip')).toEqual([
      ['vary', vary],
      ['content-encoding', 'gzip'],
    ]);
  });

  it('adds Vary when there is none', () => {
    expect(encodedBodyHeaders([], 'deflate')).toEqual([
      ['content-encoding', 'deflate'],
      ['vary', 'Accept-Encoding'],
    ]);
  });
});

describe('BodyEncoder', () => {
  const text = Buffer.from(`<p>${'some text to compress, '.repeat(3000)}</p>`);
  const decode = (coding: ContentCoding, bytes: Buffer) =>
    coding === 'br' ? brotliDecompressSync(bytes) : coding === 'gzip' ? gunzipSync(bytes) : inflateSync(bytes);

  it.each(['br', 'gzip', 'deflate'] as const)('%s: a body given whole, in pieces, leaves as one encoded buffer', async (coding) => {
    const encoder = new BodyEncoder(coding);
    const out = await encoder.encode([text.subarray(0, 1000), text.subarray(1000)], true);
    encoder.destroy();
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBeLessThan(text.length / 10);
    expect(decode(coding, out[0]!).equals(text)).toBe(true);
  });

  it.each(['br', 'gzip'] as const)('%s: a body sent in parts: each part decodable once encoded, the whole at the end', async (coding) => {
    const encoder = new BodyEncoder(coding);
    const first = Buffer.concat(await encoder.encode([text.subarray(0, 5000)], false));
    // What left so far decodes to the first part (a sync flush), before the body ends.
    const partial = coding === 'br' ? createBrotliDecompress() : createGunzip();
    const seen: Buffer[] = [];
    partial.on('data', (d: Buffer) => seen.push(d));
    await new Promise<void>((resolve) => partial.write(first, () => setImmediate(resolve)));
    expect(Buffer.concat(seen).equals(text.subarray(0, 5000))).toBe(true);
    partial.destroy();
    const rest = Buffer.concat(await encoder.encode([text.subarray(5000)], true));
    encoder.destroy();
    expect(decode(coding, Buffer.concat([first, rest])).equals(text)).toBe(true);
  });

  it('a whole body larger than WHOLE_ENCODE_MAX goes through the stream compressor, the same bytes once decoded', async () => {
    const big = Buffer.alloc(WHOLE_ENCODE_MAX + 4096, 'x');
    const encoder = new BodyEncoder('br');
    const out = Buffer.concat(await encoder.encode([big], true));
    encoder.destroy();
    expect(brotliDecompressSync(out).equals(big)).toBe(true);
  });
});
