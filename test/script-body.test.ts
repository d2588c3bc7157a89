// How script bodies leave the gateway, with a real gateway and a real origin: imports of module
// and classic scripts mapped (also when the origin compressed them), scripts with nothing to
// change sent byte for byte as the site sent them, bodies that are not scripts the browser runs
// left alone, and the limits and validators of a changed body.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, brotliDecompressSync, createGzip, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SCRIPT_BYTES } from '../gateway/script-body.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let origin: Server;
let originUrl = '';
let t: TestGateway;
let host: { cookie: string; proxiedOrigin: string };

const MODULE = (o: string) => `import a from "${o}/a.js";\nexport * from 'https://blocked.invalid/b.js';\nconst m = await import(name);\n`;
const PLAIN = 'export const x = 1; // nothing absolute: import("./rel.js")\n';
const CLASSIC = 'var module = {}; module.exports = { a: 1 }; /* export * from "https://blocked.invalid/x.js" */\n';
const HUGE = `import "https://blocked.invalid/first.js";\n${'// filler line of a very large bundle\n'.repeat(Math.ceil(MAX_SCRIPT_BYTES / 38) + 10)}`;

/** Scripts the origin sends in two parts, the second only once `release` is called (the test has seen the first through the gateway). */
const PAUSED: Record<string, { parts: [string, string]; gzip?: boolean }> = {
  '/paused-classic.js': { parts: [`${'var a = 1;\n'.repeat(2000)}window.f = () => imp`, `ort("https://blocked.invalid/late.js");\n`] },
  '/paused-plain.js': { parts: ['var a = 1;\n'.repeat(2000), 'var b = 2;\n'] },
  '/paused-gzip.js': { parts: [`${'var a = 1;\n'.repeat(2000)}`, `window.f = () => import("https://blocked.invalid/late.js");\n`], gzip: true },
};
let release: () => void = () => {};

function servePaused(res: ServerResponse, script: { parts: [string, string]; gzip?: boolean }): void {
  res.writeHead(200, { 'content-type': 'text/javascript', etag: '"v1"', 'accept-ranges': 'bytes', ...(script.gzip ? { 'content-encoding': 'gzip' } : {}) });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  if (!script.gzip) {
    res.write(script.parts[0]);
    void released.then(() => res.end(script.parts[1]));
    return;
  }
  const gz = createGzip();
  gz.on('data', (chunk: Buffer) => res.write(chunk));
  gz.on('end', () => res.end());
  gz.write(script.parts[0]);
  gz.flush();
  void released.then(() => gz.end(script.parts[1]));
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  const paused = PAUSED[req.url ?? ''];
  if (paused) {
    servePaused(res, paused);
    return;
  }
  const js = (body: string | Buffer, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', etag: '"v1"', 'accept-ranges': 'bytes', ...headers });
    res.end(body);
  };
  switch (req.url) {
    case '/module.js':
      js(MODULE(originUrl));
      return;
    case '/plain.js':
      js(PLAIN, { 'content-length': String(PLAIN.length) });
      return;
    case '/classic.js':
      js(CLASSIC);
      return;
    case '/classic-import.js':
      js('window.go = () => import("https://blocked.invalid/x.js").then(() => import(u));');
      return;
    case '/gzip.js':
      js(gzipSync(MODULE(originUrl)), { 'content-encoding': 'gzip' });
      return;
    case '/br-plain.js':
      js(brotliCompressSync(PLAIN), { 'content-encoding': 'br' });
      return;
    case '/huge.js':
      js(HUGE);
      return;
    case '/text.txt':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(MODULE(originUrl));
      return;
    case '/not-modified.js':
      res.writeHead(304, { etag: '"v1"' });
      res.end();
      return;
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  origin = createServer(serve);
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: originUrl }] });
  const session = await createSession(t, `${originUrl}/`);
  host = await t.join(session.hostUrl);
});

afterAll(async () => {
  await t?.close();
  origin?.close();
});

const MODULE_LOAD = { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' };
const CLASSIC_LOAD = { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'same-origin' };

async function raw(path: string, headers: Record<string, string>) {
  const res = await request(`http://127.0.0.1:${t.gateway.port}${path}`, {
    headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, 'accept-encoding': 'gzip, br', ...headers },
  });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

const blocked = (url: string) => `${t.gateway.url}/blocked?url=${encodeURIComponent(url)}`;
const HOOK = '(globalThis.__cobrowseImport||(s=>s))(';

/** Reads a script through the gateway whose origin pauses mid-body: what came before the origin went on, then the whole answer. */
async function paused(path: string, headers: Record<string, string>) {
  const first = (async () => {
    const res = await request(`http://127.0.0.1:${t.gateway.port}${path}`, {
      headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, 'accept-encoding': 'gzip, br', ...headers },
    });
    const it = res.body[Symbol.asyncIterator]();
    return { res, it, r: await it.next() };
  })();
  const got = await Promise.race([first, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000))]);
  release();
  if (got === 'timeout') {
    await first.then((f) => f.res.body.dump()).catch(() => undefined);
    throw new Error(`${path}: nothing of the script came through before the origin ended it`);
  }
  const chunks: Buffer[] = got.r.done ? [] : [got.r.value as Buffer];
  const early = Buffer.concat(chunks).toString();
  for (let r = await got.it.next(); !r.done; r = await got.it.next()) chunks.push(r.value as Buffer);
  return { headers: got.res.headers, early, body: Buffer.concat(chunks).toString() };
}

describe('script bodies that stream', () => {
  it('sends a classic script on before it is complete, holds it from `import` on (a word split across chunks too) and maps the import', async () => {
    const script = PAUSED['/paused-classic.js']!.parts;
    const res = await paused('/paused-classic.js', CLASSIC_LOAD);
    expect(res.early.length).toBeGreaterThan(0);
    expect(script[0].startsWith(res.early)).toBe(true);
    expect(res.early).not.toContain('imp');
    expect(res.body).toBe(`${script[0].slice(0, -3)}import("${blocked('https://blocked.invalid/late.js')}");\n`);
    // Its length was not known when it went on: chunked, a weak ETag, no ranges.
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers.etag).toBe('W/"v1"');
    expect(res.headers['accept-ranges']).toBeUndefined();
  });

  it('streams a script with nothing to change byte for byte', async () => {
    const [a, b] = PAUSED['/paused-plain.js']!.parts;
    const res = await paused('/paused-plain.js', MODULE_LOAD);
    expect(res.early.length).toBeGreaterThan(0);
    expect(res.body).toBe(a + b);
    expect(res.headers.etag).toBe('W/"v1"');
  });

  it('streams a compressed script decoded (to a client that accepts no coding), and maps an import that comes late', async () => {
    const [a] = PAUSED['/paused-gzip.js']!.parts;
    const res = await paused('/paused-gzip.js', { ...CLASSIC_LOAD, 'accept-encoding': 'identity' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.early.length).toBeGreaterThan(0);
    expect(a.startsWith(res.early)).toBe(true);
    expect(res.body).toBe(`${a}window.f = () => import("${blocked('https://blocked.invalid/late.js')}");\n`);
  });
});

describe('script bodies', () => {
  it('maps a module’s absolute imports; the changed body has its own length, a weak ETag and no ranges', async () => {
    const res = await raw('/module.js', MODULE_LOAD);
    const text = res.body.toString();
    expect(text).toBe(
      `import a from "${host.proxiedOrigin}/a.js";\nexport * from '${blocked('https://blocked.invalid/b.js')}';\nconst m = await import(${HOOK}name,"${originUrl}/module.js"));\n`,
    );
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.headers.etag).toBe('W/"v1"');
    expect(res.headers['accept-ranges']).toBeUndefined();
  });

  it('sends a script with nothing to change as the site sent it: bytes, length, ETag', async () => {
    const res = await raw('/plain.js', MODULE_LOAD);
    expect(res.body.toString()).toBe(PLAIN);
    expect(res.headers['content-length']).toBe(String(PLAIN.length));
    expect(res.headers.etag).toBe('"v1"');
    const br = await raw('/br-plain.js', MODULE_LOAD);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.body.equals(brotliCompressSync(PLAIN))).toBe(true);
  });

  it('decodes a compressed module to rewrite it; it leaves compressed again, or plain to a client that accepts no coding', async () => {
    const plain = await raw('/gzip.js', { ...MODULE_LOAD, 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toContain(`import a from "${host.proxiedOrigin}/a.js";`);
    const res = await raw('/gzip.js', MODULE_LOAD);
    expect(res.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(res.body).toString()).toBe(plain.body.toString());
  });

  it('reads classic scripts for import() only, with the script URL as the base', async () => {
    const classic = await raw('/classic.js', CLASSIC_LOAD);
    expect(classic.body.toString()).toBe(CLASSIC);
    expect(classic.headers.etag).toBe('"v1"');
    const res = await raw('/classic-import.js', CLASSIC_LOAD);
    expect(res.body.toString()).toBe(
      `window.go = () => import("${blocked('https://blocked.invalid/x.js')}").then(() => import(${HOOK}u,"${originUrl}/classic-import.js")));`,
    );
  });

  it('leaves JavaScript that is not loaded as a script (fetch), and non-JavaScript types, alone', async () => {
    const fetched = await raw('/module.js', { 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' });
    expect(fetched.body.toString()).toBe(MODULE(originUrl));
    const text = await raw('/text.txt', MODULE_LOAD);
    expect(text.body.toString()).toBe(MODULE(originUrl));
  });

  it('passes a script larger than the limit through as it is', async () => {
    const res = await raw('/huge.js', MODULE_LOAD);
    expect(res.body.length).toBe(Buffer.byteLength(HUGE));
    expect(res.body.toString() === HUGE).toBe(true);
    expect(res.headers.etag).toBe('"v1"');
  });

  it('keeps a 304 without a body', async () => {
    const res = await raw('/not-modified.js', { ...MODULE_LOAD, 'if-none-match': '"v1"' });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
  });

  it('checks the integrity of a marked module against the site’s bytes, then rewrites it', async () => {
    const good = `sha384-${createHash('sha384').update(MODULE(originUrl)).digest('base64')}`;
    const ok = await raw(`/module.js?__cobrowse_sri=${encodeURIComponent(good)}`, MODULE_LOAD);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toContain(`import a from "${host.proxiedOrigin}/a.js";`);
    const gz = await raw(`/gzip.js?__cobrowse_sri=${encodeURIComponent(good)}`, MODULE_LOAD);
    expect(gz.status).toBe(200);
    // Checked whole, so decoded; it leaves compressed again, as the site sent it.
    expect(gz.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(gz.body).toString()).toContain(`import a from "${host.proxiedOrigin}/a.js";`);
    const bad = await raw(`/module.js?__cobrowse_sri=${encodeURIComponent(`sha384-${'A'.repeat(64)}`)}`, MODULE_LOAD);
    expect(bad.status).toBe(502);
    expect(bad.body.toString()).toContain('INTEGRITY_MISMATCH');
  });

  it('maps the imports of a module worker’s script behind the worker runtime', async () => {
    const res = await raw('/module.js', { 'sec-fetch-dest': 'worker', 'sec-fetch-mode': 'same-origin' });
    const text = res.body.toString();
    expect(text.startsWith('self.__cobrowseWorker=')).toBe(true);
    expect(text).toContain(`import a from "${host.proxiedOrigin}/a.js";`);
  });
});
