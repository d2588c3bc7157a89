// How rewritten bodies leave the gateway, with a real gateway and a real origin: a page that
// arrives whole goes out with a Content-Length, a streamed page goes out chunked as it comes (the
// head before the origin has finished), bodiless answers stay bodiless, and a client that goes
// away mid-page closes the upstream response.

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WHOLE_DECODE_MAX } from '../gateway/rewritten-body.js';
import { type OriginBehindGateway, originBehindGateway, type TestGateway } from './helpers/gateway.js';

let originUrl = '';
let t: TestGateway;
let host: { cookie: string; proxiedOrigin: string };
let releaseStream: () => void = () => {};
let slowClosed: Promise<void> = Promise.resolve();

const PAGE = (o: string) => `<!DOCTYPE html><html><head><title>T</title></head><body><a id="x" href="${o}/next">next</a><img src="/rel.png"></body></html>`;

const BIG = Buffer.from(
  `<!DOCTYPE html><html><head><title>Big</title></head><body>${Array.from({ length: 3000 }, (_, i) => `<p class="row" data-i="${i}"><a href="/r/${i}">row ${i}</a> <img src="https://blocked.invalid/${i}.png"></p>`).join('\n')}</body></html>`,
);

/** A page of ~1.5 MB (more than WHOLE_DECODE_MAX) with an absolute link at its end. */
const LARGE = (o: string) =>
  `<!DOCTYPE html><html><head><title>T</title></head><body>${'<p class="row">the same row, again and again</p>\n'.repeat(30_000)}<a id="last" href="${o}/last">last</a></body></html>`;

/** A 6 MB stylesheet with one absolute URL at its start: checked whole (integrity), rewritten, and sent in pieces far larger than a socket buffer. */
const HUGE_CSS = (o: string) => Buffer.from(`a{background:url(${o}/bg.png)}\n${'b{color:red}\n'.repeat(500_000)}`);

/** A gzip page that breaks half-way (bytes flipped in its middle), large enough that the origin is still sending when the gateway's gunzip fails. */
const BROKEN_GZIP = (() => {
  const gz = gzipSync(Buffer.from(`<!DOCTYPE html><html><head></head><body>${randomBytes(3 * 1024 * 1024).toString('base64')}</body></html>`));
  for (let i = gz.length >> 1; i < (gz.length >> 1) + 64; i++) gz[i] = gz[i]! ^ 0xff;
  return gz;
})();
let brokenClosed: Promise<void> = Promise.resolve();
let stalledClosed: Promise<void> = Promise.resolve();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const page = Buffer.from(PAGE(originUrl));
  if (req.url === '/stalled.gz') {
    // Not gzip from its first bytes, then nothing more (the origin stalls with the rest owed).
    stalledClosed = new Promise((resolve) => res.on('close', () => resolve()));
    res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': 100_000 });
    res.write(Buffer.from('this is not gzip at all'));
    return;
  }
  if (req.url === '/broken.gz') {
    brokenClosed = new Promise((resolve) => res.on('close', () => resolve()));
    res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': BROKEN_GZIP.length });
    res.end(BROKEN_GZIP);
    return;
  }
  if (req.url === '/huge.css') {
    const css = HUGE_CSS(originUrl);
    res.writeHead(200, { 'content-type': 'text/css', 'content-length': css.length });
    res.end(css);
    return;
  }
  switch (req.url) {
    case '/whole':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
      res.end(page);
      return;
    case '/streamed': {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const at = page.indexOf('<body>');
      res.write(page.subarray(0, at));
      releaseStream = () => res.end(page.subarray(at));
      return;
    }
    case '/gzip': {
      const gz = gzipSync(page);
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
      return;
    }
    case '/gzip-corrupt': {
      // Complete at once, but not valid gzip past its header.
      const gz = gzipSync(page);
      for (let i = 12; i < gz.length - 8; i++) gz[i] = gz[i]! ^ 0x5a;
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
      return;
    }
    case '/gzip-large': {
      // Complete at once and small compressed, but larger decoded than one synchronous call takes.
      const gz = gzipSync(LARGE(originUrl));
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
      return;
    }
    case '/gzip-parts': {
      // The second half of the compressed bytes comes a moment later.
      const gz = gzipSync(page);
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
      res.write(gz.subarray(0, gz.length >> 1));
      setTimeout(() => res.end(gz.subarray(gz.length >> 1)), 100);
      return;
    }
    case '/big': {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const parts = [BIG.subarray(0, 70_000), BIG.subarray(70_000, 150_001), BIG.subarray(150_001)];
      const writeNext = (): void => {
        const part = parts.shift();
        if (part === undefined) res.end();
        else res.write(part, () => setImmediate(writeNext));
      };
      writeNext();
      return;
    }
    case '/validated': {
      const etag = '"v1"';
      if (req.headers['if-none-match'] !== undefined && req.headers['if-none-match'].replace(/^W\//, '') === etag) {
        res.writeHead(304, { etag });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length, etag, 'accept-ranges': 'bytes' });
      res.end(page);
      return;
    }
    case '/ranged': {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length, 'accept-ranges': 'bytes' });
        res.end(page);
        return;
      }
      const [from, to] = [Number(m[1]), Number(m[2])];
      res.writeHead(206, {
        'content-type': 'text/html; charset=utf-8',
        'content-range': `bytes ${from}-${to}/${page.length}`,
        'content-length': to - from + 1,
      });
      res.end(page.subarray(from, to + 1));
      return;
    }
    case '/empty.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 0 });
      res.end();
      return;
    case '/not-modified':
      res.writeHead(304, { 'content-type': 'text/html', etag: '"1"' });
      res.end();
      return;
    case '/cut': {
      // The page's first bytes, then the origin closes the connection with the rest owed.
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': page.length + 50_000 });
      res.write(page);
      setTimeout(() => res.destroy(), 30);
      return;
    }
    case '/style.css': {
      const css = Buffer.from(`a{background:url(${originUrl}/bg.png)} b{background:url(/rel.png)}`);
      res.writeHead(200, { 'content-type': 'text/css', 'content-length': css.length });
      res.end(css);
      return;
    }
    case '/slow':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write(`<!DOCTYPE html><html><head></head><body>${'<p>row</p>'.repeat(2000)}`);
      slowClosed = new Promise((resolve) => res.on('close', () => resolve()));
      return;
    default:
      res.writeHead(404).end();
  }
}

let running: OriginBehindGateway;

beforeAll(async () => {
  running = await originBehindGateway(serve, '/whole');
  ({ originUrl, t, host } = running);
});

afterAll(async () => {
  await running?.close();
});

function get(path: string, headers: Record<string, string> = {}) {
  return t.call('GET', `${host.proxiedOrigin}${path}`, { headers: { cookie: host.cookie, accept: 'text/html', ...headers } });
}

/** The page as the gateway must send it: the script first in <head>, the absolute link mapped. */
function expectRewritten(text: string): void {
  expect(text).toMatch(/^<!DOCTYPE html><html><head><script src="\/__cobrowse\/inject\.js"[^>]*><\/script><title>T<\/title><\/head><body>/);
  expect(text).toContain(`<a id="x" href="${host.proxiedOrigin}/next">`);
  expect(text).toContain('<img src="/rel.png">');
}

describe('rewritten bodies', () => {
  it('sends a page that arrived whole in one answer with its Content-Length', async () => {
    const res = await get('/whole');
    expect(res.status).toBe(200);
    expectRewritten(res.text);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
    expect(res.headers['transfer-encoding']).toBeUndefined();
  });

  it('streams a page that arrives in parts, chunked, sending the head before the origin has finished', async () => {
    const res = await request(`http://127.0.0.1:${t.gateway.port}/streamed`, {
      headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, accept: 'text/html' },
    });
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const reader = res.body[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(String(first.value)).toContain('<script src="/__cobrowse/inject.js"');
    releaseStream();
    let text = String(first.value);
    for (let next = await reader.next(); !next.done; next = await reader.next()) text += String(next.value);
    expectRewritten(text);
  });

  it('streams a page of many chunks whole and rewritten', async () => {
    const res = await get('/big');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const expected = BIG.toString()
      .replace('<head>', `<head>${res.text.slice(res.text.indexOf('<script'), res.text.indexOf('</script>') + 9)}`)
      .replace(/https:\/\/blocked\.invalid\/(\d+)\.png/g, (url) => `${t.gateway.url}/blocked?url=${encodeURIComponent(url)}`);
    expect(res.text.length).toBe(expected.length);
    expect(res.text === expected).toBe(true);
  });

  it('decodes a gzip page and sends it decoded: all of it came at once, so it leaves complete, with its length', async () => {
    const res = await get('/gzip');
    expectRewritten(res.text);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
  });

  it('a gzip page that comes in parts is decoded as it comes and leaves chunked', async () => {
    const res = await get('/gzip-parts');
    expectRewritten(res.text);
    expect(res.headers['transfer-encoding']).toBe('chunked');
  });

  it('a gzip page that came at once but decodes to more than one call takes is streamed through the decompressor', async () => {
    const res = await get('/gzip-large');
    expect(res.status).toBe(200);
    expect(Buffer.from(LARGE(originUrl)).length).toBeGreaterThan(WHOLE_DECODE_MAX);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const tag = res.text.slice(res.text.indexOf('<script'), res.text.indexOf('</script>') + 9);
    const expected = LARGE(originUrl).replace('<head>', `<head>${tag}`).replace(`href="${originUrl}/last"`, `href="${host.proxiedOrigin}/last"`);
    expect(res.text.length).toBe(expected.length);
    expect(res.text === expected).toBe(true);
  });

  it('a gzip page that came at once but does not decode is a 502 that says so', async () => {
    const res = await get('/gzip-corrupt');
    expect(res.status).toBe(502);
    expect(res.text).toContain('UPSTREAM_FAILED');
    expect(res.text).toContain('could not be decoded (content encoding gzip)');
  });

  it('a page the site broke off before anything of it was sent is a 502 that says so', async () => {
    const res = await get('/cut');
    expect(res.status).toBe(502);
    expect(res.text).toContain('UPSTREAM_FAILED');
    expect(res.text).toContain(`${originUrl} broke off its answer before its end.`);
  });

  it('keeps a 304 answer without a body (no script injected)', async () => {
    const res = await get('/not-modified', { 'if-none-match': 'W/"1"', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' });
    expect(res.status).toBe(304);
    expect(res.text).toBe('');
    // The validator of the rewritten page the browser holds (weak: its bytes are not the site's).
    expect(res.headers.etag).toBe('W/"1"');
  });

  it('passes an empty body through and ends the answer', async () => {
    const res = await get('/empty.png', { accept: 'image/*' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-length']).toBe('0');
  });

  it('rewrites a stylesheet whole, keeping relative URLs', async () => {
    const res = await get('/style.css', { accept: 'text/css' });
    expect(res.text).toBe(`a{background:url(${host.proxiedOrigin}/bg.png)} b{background:url(/rel.png)}`);
    expect(res.headers['content-length']).toBe(String(res.text.length));
  });

  it('gives a rewritten page a weak ETag and no Accept-Ranges, and revalidates it with the site', async () => {
    const navigation = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' };
    const res = await get('/validated', navigation);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"v1"');
    expect(res.headers['accept-ranges']).toBeUndefined();
    expectRewritten(res.text);
    // The site's 304 has no Content-Type: its tag comes back as weak as the browser holds it.
    const again = await get('/validated', { 'if-none-match': 'W/"v1"', ...navigation });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe('W/"v1"');
    const strong = await get('/validated', { 'if-none-match': '"v1"', ...navigation });
    expect(strong.status).toBe(304);
    expect(strong.headers.etag).toBe('"v1"');
  });

  it("without Fetch Metadata, marks the ETag of a browsing context's page and revalidates it only with a marked tag (document-sandbox.ts)", async () => {
    // A plain-http gateway on a name other than localhost: Accept tells a browsing context's load.
    const res = await get('/validated');
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"cb-nav:v1"');
    expectRewritten(res.text);
    const again = await get('/validated', { 'if-none-match': 'W/"cb-nav:v1"' });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe('W/"cb-nav:v1"');
    // Another load's tag never revalidates a browsing context's page, nor a marked tag another load.
    expect((await get('/validated', { 'if-none-match': 'W/"v1"' })).status).toBe(200);
    expect((await get('/validated', { 'if-none-match': 'W/"cb-nav:v1"', accept: '*/*' })).status).toBe(200);
    const fetched = await get('/validated', { 'if-none-match': 'W/"v1"', accept: '*/*' });
    expect(fetched.status).toBe(304);
    expect(fetched.headers.etag).toBe('W/"v1"');
  });

  it('passes a 206 range of an HTML resource on as the site sent it (a range cannot be rewritten alone)', async () => {
    const res = await get('/ranged', { range: 'bytes=10-59' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 10-59/${Buffer.byteLength(PAGE(originUrl))}`);
    expect(res.text).toBe(Buffer.from(PAGE(originUrl)).subarray(10, 60).toString());
  });

  it('sends a large rewritten body that waits for a slow reader whole and in order (backpressure between its pieces)', async () => {
    const css = HUGE_CSS(originUrl);
    const integrity = `sha256-${createHash('sha256').update(css).digest('base64')}`;
    const res = await request(`http://127.0.0.1:${t.gateway.port}/huge.css?__cobrowse_sri=${encodeURIComponent(integrity)}`, {
      headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, accept: 'text/css', 'sec-fetch-dest': 'style' },
    });
    expect(res.statusCode).toBe(200);
    // Nothing is read for a while: the gateway's socket fills and uWS holds the rest of the pieces.
    await new Promise((r) => setTimeout(r, 500));
    const body = Buffer.from(await res.body.arrayBuffer());
    const expected = Buffer.from(css.toString('latin1').replace(`url(${originUrl}/bg.png)`, `url(${host.proxiedOrigin}/bg.png)`), 'latin1');
    expect(Number(res.headers['content-length'])).toBe(expected.length);
    expect(body.length).toBe(expected.length);
    expect(body.equals(expected)).toBe(true);
  });

  it('ends a gzip page that breaks half-way (the client sees it cut short) and lets go of the upstream response', async () => {
    const outcome = await Promise.race([
      (async () => {
        try {
          const res = await get('/broken.gz');
          return res.status === 200 ? 'complete' : `status ${res.status}`;
        } catch {
          return 'cut short';
        }
      })(),
      new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
    ]);
    // The head went out before the break: the body ends without its last chunk.
    expect(outcome).toBe('cut short');
    await expect(Promise.race([brokenClosed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 5000))])).resolves.toBe(
      'closed',
    );
    // The gateway goes on serving.
    expectRewritten((await get('/whole')).text);
  });

  it('answers a page whose gzip is broken from its first bytes at once and lets go of the stalled upstream response', async () => {
    const res = await get('/stalled.gz');
    expect(res.status).toBe(502);
    // Let go at once, not when the origin's body times out (60 s).
    await expect(Promise.race([stalledClosed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 3000))])).resolves.toBe(
      'closed',
    );
  });

  it('closes the upstream response when the client goes away mid-page', async () => {
    const controller = new AbortController();
    const res = await request(`http://127.0.0.1:${t.gateway.port}/slow`, {
      headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, accept: 'text/html' },
      signal: controller.signal,
    });
    const reader = res.body[Symbol.asyncIterator]();
    expect(String((await reader.next()).value)).toContain('<script src="/__cobrowse/inject.js"');
    controller.abort();
    await expect(Promise.race([slowClosed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 3000))])).resolves.toBe(
      'closed',
    );
  });
});
