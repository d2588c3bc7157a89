import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodedBody, decoderFor, isDecodingError } from '../../gateway/rewritten-body.js';

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of body) out.push(piece);
  return Buffer.concat(out);
}

describe('decodedBody', () => {
  it('decodes a gzip body', async () => {
    const doc = Buffer.from('<head></head><img src="https://other.test/i.png">');
    const decoder = decoderFor('gzip');
    if (decoder === null || decoder === 'unsupported') throw new Error('gzip has a decoder');
    expect((await collect(decodedBody(Readable.from([gzipSync(doc)]), decoder))).equals(doc)).toBe(true);
  });

  it('fails the iteration when the body fails, and closes the body when the consumer stops early', async () => {
    const failing = new Readable({ read() {} });
    setImmediate(() => failing.destroy(new Error('upstream reset')));
    const gunzip = decoderFor('gzip') as NodeJS.ReadWriteStream;
    await expect(collect(decodedBody(failing, gunzip))).rejects.toThrow('upstream reset');

    const failingAgain = new Readable({ read() {} });
    setImmediate(() => failingAgain.destroy(new Error('upstream reset')));
    const sourceError = await collect(decodedBody(failingAgain, decoderFor('gzip') as NodeJS.ReadWriteStream)).catch((err: unknown) => err);
    // The source's failure, not the decoder's: never reported as a body that could not be decoded.
    expect(isDecodingError(sourceError)).toBe(false);
    const corrupt = await collect(decodedBody(Readable.from([Buffer.from('not gzip at all')]), decoderFor('gzip') as NodeJS.ReadWriteStream)).catch(
      (err: unknown) => err,
    );
    expect(isDecodingError(corrupt)).toBe(true);

    const open = new Readable({ read() {} });
    open.push(gzipSync(Buffer.from('x'.repeat(100_000))));
    for await (const _piece of decodedBody(open, decoderFor('gzip') as NodeJS.ReadWriteStream)) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(open.destroyed).toBe(true);
  });
});

describe('decoderFor', () => {
  it.each([
    ['', null],
    ['identity', null],
    ['gzip', 'object'],
    ['x-gzip', 'object'],
    ['deflate', 'object'],
    [' BR ', 'object'],
    ['compress', 'unsupported'],
  ])('%j', (encoding, expected) => {
    const decoder = decoderFor(encoding);
    expect(decoder === null || decoder === 'unsupported' ? decoder : typeof decoder).toBe(expected);
  });
});
