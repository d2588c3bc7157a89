// Rewritten bodies the site compressed leave the gateway compressed again, in a coding the client
// accepts (gateway/response-encoding.ts), with a real origin and a real gateway: the decoded bytes
// are the ones a client that accepts no coding gets, a page the site sent plain stays plain, a page
// that streams is flushed part by part (the client decodes the first part before the site sent the
// rest), and bodiless answers say no coding.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, createGzip, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OriginBehindGateway, originBehindGateway } from './helpers/gateway.js';

const PAGE = `<!DOCTYPE html><html><head><title>Compressed</title><link rel="stylesheet" href="/site.css"></head><body>${'<p class="row">Some text to compress, again and again.</p>'.repeat(400)}<a href="/next">next</a></body></html>`;
const CSS = `body { background: url(/img/bg.png); } ${'.row { color: #123456; margin: 0 1px; }\n'.repeat(200)}`;
const DATA = JSON.stringify({ rows: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `row ${i}` })) });
let releaseRest: () => void = () => {};

/** The scripts the origin serves (`self`: the site's own origin, as its Host header gives it). */
function scriptCode(path: string, self: string): string {
  // A module that imports by the site's own absolute URL (the gateway maps it), or none (left as it came).
  const padding = Array.from({ length: 3000 }, (_, i) => `// line ${i * 7919} of a module, to compress\n`).join('');
  // The slow one, a classic script, imports at its end (in the second part): what comes before goes on first.
  if (path === '/plain-module.js') return `export const b = 1;\n${padding}`;
  if (path === '/slow-module.js') return `window.b = 1;\n${padding}window.f = () => import('${self}/a.js');\n`;
  return `import { a } from '${self}/a.js';\nexport const b = a;\n${padding}`;
}

/** The integrity metadata of `text`, as the gateway's marker carries it in a URL's query. */
function marker(text: string): string {
  return `__cobrowse_sri=${encodeURIComponent(`sha384-${createHash('sha384').update(text).digest('base64')}`)}`;
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  // gzip when offered, else deflate when offered (as sites do: never a coding that was not offered).
  const offered = String(req.headers['accept-encoding'] ?? '');
  const gzipOk = /\bgzip\b/.test(offered);
  const deflateOnly = !gzipOk && /\bdeflate\b/.test(offered);
  switch (req.url) {
    case '/page':
    case '/page-304':
      if (req.url === '/page-304' && req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', vary: 'Accept-Encoding' }).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        etag: '"v1"',
        vary: 'Accept-Encoding',
        ...(gzipOk ? { 'content-encoding': 'gzip' } : deflateOnly ? { 'content-encoding': 'deflate' } : {}),
      });
      res.end(gzipOk ? gzipSync(PAGE) : deflateOnly ? deflateSync(PAGE) : PAGE);
      return;
    case '/plain':
      // Plain whatever was offered.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    case '/site.css':
      res.writeHead(200, { 'content-type': 'text/css', ...(gzipOk ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gzipOk ? gzipSync(CSS) : CSS);
      return;
    case '/data.json':
      res.writeHead(200, { 'content-type': 'application/json', ...(gzipOk ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gzipOk ? gzipSync(DATA) : DATA);
      return;
    case '/module.js':
    case '/plain-module.js':
    case '/slow-module.js': {
      const code = scriptCode(String(req.url), `http://${req.headers.host}`);
      res.writeHead(200, { 'content-type': 'text/javascript', ...(gzipOk ? { 'content-encoding': 'gzip' } : {}) });
      const body = gzipOk ? gzipSync(code) : Buffer.from(code);
      if (req.url !== '/slow-module.js') {
        res.end(body);
        return;
      }
      // In two parts, the second a moment later: the gateway streams it.
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half));
      setTimeout(() => res.end(body.subarray(half)), 150);
      return;
    }
    case '/streamed': {
      // The first part, flushed, then the rest only when the test says so.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip' });
      const gz = createGzip();
      gz.pipe(res);
      gz.write('<!DOCTYPE html><html><head><title>Streamed</title></head><body><p id="first">FIRST PART</p>');
      gz.flush(() => {});
      releaseRest = () => gz.end('<p id="second">SECOND PART</p></body></html>');
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

let running: OriginBehindGateway;

beforeAll(async () => {
  running = await originBehindGateway(serve, '/page');
});

afterAll(async () => {
  releaseRest();
  await running?.close();
});

function open(path: string, headers: Record<string, string> = {}) {
  const { t, host } = running;
  return request(`http://127.0.0.1:${t.gateway.port}${path}`, { headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, ...headers } });
}

/** A body decoded as its Content-Encoding says. */
async function decoded(res: Awaited<ReturnType<typeof open>>): Promise<string> {
  return decodeBytes(Buffer.from(await res.body.arrayBuffer()), res.headers['content-encoding']);
}

function decodeBytes(bytes: Buffer, coding: string | string[] | undefined): string {
  if (coding === undefined) return bytes.toString();
  if (coding === 'br') return brotliDecompressSync(bytes).toString();
  if (coding === 'gzip') return gunzipSync(bytes).toString();
  if (coding === 'deflate') return inflateSync(bytes).toString();
  throw new Error(`unexpected coding ${String(coding)}`);
}

describe('rewritten bodies leave compressed when the site compressed them', () => {
  it.each<[string, string | undefined]>([
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip, deflate', 'gzip'],
    ['deflate, gzip;q=0', 'deflate'],
  ])('HTML the site compressed, client accepting %j: leaves as %s, decoding to the bytes a plain client gets', async (accept, coding) => {
    const plain = await open('/page');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const plainText = await plain.body.text();
    expect(plainText).toContain('<script src="/__cobrowse/inject.js"');

    const res = await open('/page', { 'accept-encoding': accept });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe(coding);
    expect(String(res.headers.vary)).toMatch(/Accept-Encoding/i);
    expect(String(res.headers.etag)).toMatch(/^W\//);
    // All of the site's bytes came at once: decoded in one call, the page leaves complete with its (compressed) length.
    const bytes = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(bytes.length);
    const text = decodeBytes(bytes, coding);
    // The injected tag carries per-response values (cookies, nonce): compare without it.
    const untagged = (s: string) => s.replace(/<script src="\/__cobrowse\/inject\.js"[^>]*><\/script>/, '');
    expect(untagged(text)).toBe(untagged(plainText));
    expect(text.length).toBeGreaterThan(PAGE.length);
  });

  it('compresses: the page leaves far smaller than it is', async () => {
    const res = await open('/page', { 'accept-encoding': 'gzip, br' });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    expect(res.headers['content-encoding']).toBe('br');
    expect(bytes.length).toBeLessThan(PAGE.length / 5);
  });

  it('a page the site sent plain leaves plain, whatever the client accepts', async () => {
    const res = await open('/plain', { 'accept-encoding': 'gzip, deflate, br' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(await res.body.text()).toContain('Some text to compress');
  });

  it('CSS the site gzipped leaves in br, its URLs as the rewriter leaves them', async () => {
    const res = await open('/site.css', { 'accept-encoding': 'gzip, br', 'sec-fetch-dest': 'style' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(await decoded(res)).toBe(CSS);
  });

  it.each(['/module.js', '/slow-module.js'])(
    'a script the site gzipped whose import the gateway maps (%s: a module complete at once, a classic script streamed) leaves in br',
    async (path) => {
      const headers = { 'sec-fetch-dest': 'script', 'sec-fetch-mode': path === '/slow-module.js' ? 'no-cors' : 'cors' };
      const plain = await open(path, headers);
      expect(plain.headers['content-encoding']).toBeUndefined();
      const plainText = await plain.body.text();
      expect(plainText).toContain(`${running.host.proxiedOrigin}/a.js'`);

      const res = await open(path, { ...headers, 'accept-encoding': 'gzip, br' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-encoding']).toBe('br');
      expect(String(res.headers.vary)).toMatch(/Accept-Encoding/i);
      const bytes = Buffer.from(await res.body.arrayBuffer());
      // Streamed (the site's second part came later): chunked. Complete at once: with its length, the compressed one.
      if (path === '/slow-module.js') expect(res.headers['content-length']).toBeUndefined();
      if (res.headers['content-length'] !== undefined) expect(Number(res.headers['content-length'])).toBe(bytes.length);
      const text = brotliDecompressSync(bytes).toString();
      expect(text).toBe(plainText);
      expect(text).not.toContain(`'http://${new URL(running.originUrl).host}/a.js'`);
    },
  );

  it.each<[string, string]>([
    ['a module whose import the gateway maps', '/module.js'],
    ['a JSON preload', '/data.json'],
  ])('%s, checked against its integrity attribute, leaves in br after the check', async (_what, path) => {
    const expected = path === '/data.json' ? DATA : scriptCode(path, new URL(running.originUrl).origin);
    const headers = path === '/data.json' ? { 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' } : { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'cors' };
    const target = `${path}?${marker(expected)}`;
    const plain = await open(target, headers);
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const plainText = await plain.body.text();

    const res = await open(target, { ...headers, 'accept-encoding': 'gzip, br' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(String(res.headers.vary)).toMatch(/Accept-Encoding/i);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    expect(Number(res.headers['content-length'])).toBe(bytes.length);
    // br quality 0 (response-encoding.ts, session 23): this JSON comes out 4.4x smaller (9x at quality 1).
    expect(bytes.length).toBeLessThan(plainText.length / 4);
    expect(brotliDecompressSync(bytes).toString()).toBe(plainText);
    if (path === '/module.js') expect(plainText).toContain(`${running.host.proxiedOrigin}/a.js'`);
    else expect(plainText).toBe(DATA);

    // A body that does not match is still refused, compressed or not.
    const bad = await open(`${path}?${marker('something else')}`, { ...headers, 'accept-encoding': 'gzip, br' });
    expect(bad.statusCode).toBe(502);
    expect(await bad.body.text()).toContain('INTEGRITY_MISMATCH');
  });

  it('a script the gateway leaves as it is keeps the site’s bytes and coding', async () => {
    const res = await open('/plain-module.js', { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'cors', 'accept-encoding': 'gzip, br' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(await decoded(res)).toMatch(/^export const b = 1;/);
  });

  it('a 304 says no content coding', async () => {
    const res = await open('/page-304', { 'accept-encoding': 'gzip, br', 'if-none-match': '"v1"' });
    await res.body.dump();
    expect(res.statusCode).toBe(304);
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('a streamed page is flushed part by part: the client decodes the first part before the site sent the rest', async () => {
    const res = await open('/streamed', { 'accept-encoding': 'br, gzip' });
    expect(res.statusCode).toBe(200);
    const coding = res.headers['content-encoding'];
    expect(coding).toBe('br');
    const decoder = coding === 'br' ? createBrotliDecompress() : createGunzip();
    let text = '';
    decoder.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const ended = new Promise<void>((resolve, reject) => {
      decoder.on('end', resolve);
      decoder.on('error', reject);
    });
    const firstSeen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the first part was not decodable in time (decoded so far: ${JSON.stringify(text)})`)), 5000);
      decoder.on('data', () => {
        if (text.includes('FIRST PART')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    res.body.on('data', (d: Buffer) => decoder.write(d));
    res.body.on('end', () => decoder.end());
    await firstSeen;
    expect(text).not.toContain('SECOND PART');
    releaseRest();
    await ended;
    expect(text).toContain('<p id="second">SECOND PART</p>');
    expect(text).toContain('<script src="/__cobrowse/inject.js"');
  });
});
