import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HtmlRewriter } from '../../gateway/rewrite/html-rewriter.js';
import { type ChunkRewriter, decodedBody, decoderFor, rewrittenBody } from '../../gateway/rewritten-body.js';

const SNIPPET = Buffer.from('<script src="/__cobrowse/inject.js"></script>');
const mapUrl = (url: string): string | null => (url.startsWith('https://other.test/') ? `http://o2--s.localhost/${url.slice(19)}` : null);

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spin: CPU time the timer must see.
  }
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of body) out.push(piece);
  return Buffer.concat(out);
}

describe('rewrittenBody', () => {
  it('yields the rewritten document and reports the rewriter time once the body ended', async () => {
    const doc = '<html><head><title>t</title></head><body><a href="https://other.test/a">a</a></body></html>';
    const source = Readable.from([Buffer.from(doc.slice(0, 25)), Buffer.from(doc.slice(25))], { objectMode: false });
    let seconds = -1;
    const slow: ChunkRewriter = new (class {
      private readonly inner = new HtmlRewriter({ mapUrl, snippet: SNIPPET });
      write(chunk: Buffer): Buffer[] {
        busy(5);
        return this.inner.write(chunk);
      }
      end(): Buffer[] {
        busy(5);
        return this.inner.end();
      }
    })();
    const body = rewrittenBody(
      source,
      slow,
      (s) => {
        seconds = s;
      },
      () => {},
    );
    const out = await collect(body);
    expect(out.toString()).toBe(`<html><head>${SNIPPET}<title>t</title></head><body><a href="http://o2--s.localhost/a">a</a></body></html>`);
    expect(seconds).toBeGreaterThanOrEqual(0.014);
    expect(seconds).toBeLessThan(1);
  });

  it('reports a failing body to onError and fails the iteration', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('<p>x'));
    setImmediate(() => source.destroy(new Error('upstream reset')));
    const errors: string[] = [];
    let done = false;
    const body = rewrittenBody(
      source,
      new HtmlRewriter({ mapUrl, snippet: SNIPPET }),
      () => {
        done = true;
      },
      (err) => errors.push(err.message),
    );
    await expect(collect(body)).rejects.toThrow('upstream reset');
    expect(errors).toEqual(['upstream reset']);
    expect(done).toBe(false);
  });

  it('closes the body when the consumer stops early (the client went away)', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('<head><p>first'));
    const body = rewrittenBody(
      source,
      new HtmlRewriter({ mapUrl, snippet: SNIPPET }),
      () => {},
      () => {},
    );
    for await (const _piece of body) break;
    expect(source.destroyed).toBe(true);
  });

  it('rewrites a gzip body through its decoder', async () => {
    const doc = Buffer.from('<head></head><img src="https://other.test/i.png">');
    const decoder = decoderFor('gzip');
    if (decoder === null || decoder === 'unsupported') throw new Error('gzip has a decoder');
    const body = rewrittenBody(
      decodedBody(Readable.from([gzipSync(doc)]), decoder),
      new HtmlRewriter({ mapUrl, snippet: SNIPPET }),
      () => {},
      () => {},
    );
    expect((await collect(body)).toString()).toBe(`<head>${SNIPPET}</head><img src="http://o2--s.localhost/i.png">`);
  });

  it.each([
    ['', null],
    ['identity', null],
    ['gzip', 'object'],
    ['x-gzip', 'object'],
    ['deflate', 'object'],
    [' BR ', 'object'],
    ['compress', 'unsupported'],
  ])('decoderFor(%j)', (encoding, expected) => {
    const decoder = decoderFor(encoding);
    expect(decoder === null || decoder === 'unsupported' ? decoder : typeof decoder).toBe(expected);
  });
});
