// Documents the gateway does not inject into, on a gateway that is not a potentially trustworthy
// origin: plain http under a name other than localhost (`cobrowse.test`, which Chromium resolves to
// loopback here by --host-resolver-rules). Chromium sends no Fetch Metadata there; the gateway tells
// a load into a browsing context (page, frame, popup, object, embed: Accept asks for text/html) from
// the rest (workers, fetch: */*) by the Accept header instead. Those get the sandbox whatever their
// type, the rest only for types Chromium never runs as a script (images, SVG among them, audio,
// video, text/csv), so a worker whose script is text/plain keeps its origin; both vary on Accept,
// and the browser's cache never hands one the other's stored headers: the first kind's entity
// tags are marked, and a condition reaches the site only from the kind of load it was given to (so
// that a reloaded page is still answered by the site's 304).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../helpers/browser.js';
import { CHROMIUM_FLAGS } from '../helpers/chromium-flags.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="24">svg text</text></svg>';
const WORKER = 'postMessage(self.origin)';

let site: Server;
/** The requests for /cached* the site got, and whether each came with a condition. */
const requests: { path: string; conditional: boolean }[] = [];
/** The If-None-Match of each request for /page-etag.html the site got (null: none). */
const pageConditions: (string | null)[] = [];
let originUrl = '';
let t: TestGateway;
let browser: Browser;

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (type: string, body: string | Buffer) => res.writeHead(200, { 'content-type': type }).end(body);
    if (path === '/a.html') return send('text/html', '<!doctype html><html><head><title>a</title></head><body><p id="a">page a</p></body></html>');
    if (path === '/pic.svg') return send('image/svg+xml', SVG);
    if (path === '/img.png') return send('image/png', PNG);
    if (path === '/t.txt') return send('text/plain', 'hello text');
    if (path === '/data.csv') return send('text/csv', 'a,b');
    if (path === '/doc.pdf') return send('application/pdf', '%PDF-1.1');
    if (path === '/w.js') return send('text/javascript', WORKER);
    if (path === '/w.txt') return send('text/plain', WORKER);
    // A tag that looks like one the gateway marks, from the site itself.
    if (path === '/marked.txt') return res.writeHead(200, { 'content-type': 'text/plain', etag: '"cb-nav:c1"' }).end('marked');
    // An injected page with an ETag, revalidated at every navigation.
    if (path === '/page-etag.html') {
      const condition = req.headers['if-none-match'] ?? null;
      pageConditions.push(condition);
      const headers = { 'content-type': 'text/html', etag: '"p1"', 'cache-control': 'no-cache' };
      if (condition?.replace(/^W\//, '') === '"p1"') return res.writeHead(304, headers).end();
      return res.writeHead(200, headers).end('<!doctype html><html><head><title>p</title></head><body><p id="p">page with an etag</p></body></html>');
    }
    // Stored by the browser, fresh for 10 minutes (its ETag answered by a 304).
    if (path.startsWith('/cached')) {
      requests.push({ path, conditional: req.headers['if-none-match'] !== undefined });
      const headers = { 'content-type': 'text/plain', etag: '"c1"', 'cache-control': 'max-age=600' };
      if (req.headers['if-none-match'] === '"c1"') return res.writeHead(304, headers).end();
      return res.writeHead(200, headers).end(path.includes('worker') ? WORKER : 'cached text');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', () => resolve()));
  originUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // The public URL names the port the gateway listens on: Chromium reaches it under cobrowse.test.
  const port = await freePort();
  t = await startTestGateway({
    demo: { enabled: false },
    server: { host: '127.0.0.1', port },
    publicUrl: `http://cobrowse.test:${port}`,
    sites: [{ url: originUrl }],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP cobrowse.test 127.0.0.1, MAP *.cobrowse.test 127.0.0.1'],
  });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  site?.close();
});

describe('documents the gateway does not inject into, without Fetch Metadata (plain http, not localhost)', () => {
  it('what each response carries: a browsing context gets the sandbox and a marked entity tag; other loads only for types never run as a script', async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const host = await t.join(session.hostUrl);
    const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
    const get = async (path: string, accept: string, extra: Record<string, string> = {}) => {
      const res = await t.call('GET', `${host.proxiedOrigin}${path}`, { headers: { cookie: host.cookie, accept, ...extra } });
      const all = (name: string) => ([] as string[]).concat(res.headers[name] ?? []);
      return {
        status: res.status,
        sandboxed: all('content-security-policy').some((v) => /(^|;)\s*sandbox\b/.test(v)),
        varies: all('vary').some((v) => /\baccept\b/i.test(v)),
        validators: all('etag').length,
        etag: all('etag').join(','),
        isolation: all('document-isolation-policy').join(','),
      };
    };
    for (const path of ['/pic.svg', '/img.png', '/data.csv']) {
      for (const accept of [NAVIGATION, '*/*', 'image/avif,image/webp,*/*;q=0.8']) {
        expect(await get(path, accept), `${path} ${accept}`).toMatchObject({ status: 200, sandboxed: true, varies: true });
      }
    }
    for (const path of ['/t.txt', '/w.js', '/w.txt']) {
      expect(await get(path, NAVIGATION), path).toMatchObject({ status: 200, sandboxed: true, varies: true });
      expect(await get(path, '*/*'), path).toMatchObject({ status: 200, sandboxed: false, varies: true });
    }
    // The PDF viewer ignores the sandbox: a browsing context's PDF is isolated too.
    expect(await get('/doc.pdf', NAVIGATION)).toMatchObject({ sandboxed: true, isolation: 'isolate-and-credentialless' });
    expect(await get('/doc.pdf', '*/*')).toMatchObject({ sandboxed: false, isolation: '' });
    // The injected page: neither, whatever the load.
    for (const accept of [NAVIGATION, '*/*']) expect(await get('/a.html', accept)).toMatchObject({ status: 200, sandboxed: false, varies: false });
    // A browsing context's entity tag is marked; a condition reaches the site only from the kind of
    // load its tag was given to.
    requests.length = 0;
    expect(await get('/cached.txt', '*/*')).toMatchObject({ status: 200, sandboxed: false, varies: true, etag: '"c1"' });
    // The site's 304 has no Vary: the stored one (Accept) stays.
    expect(await get('/cached.txt', '*/*', { 'if-none-match': '"c1"' })).toMatchObject({ status: 304, sandboxed: false, varies: false, etag: '"c1"' });
    expect(await get('/cached.txt', NAVIGATION, { 'if-none-match': '"c1"' })).toMatchObject({
      status: 200,
      sandboxed: true,
      varies: true,
      etag: '"cb-nav:c1"',
    });
    expect(await get('/cached.txt', NAVIGATION, { 'if-none-match': '"cb-nav:c1"' })).toMatchObject({ status: 304, sandboxed: false, etag: '"cb-nav:c1"' });
    expect(await get('/cached.txt', '*/*', { 'if-none-match': '"cb-nav:c1"' })).toMatchObject({ status: 200, sandboxed: false, etag: '"c1"' });
    expect(requests).toEqual([
      { path: '/cached.txt', conditional: false },
      { path: '/cached.txt', conditional: true },
      { path: '/cached.txt', conditional: false },
      { path: '/cached.txt', conditional: true },
      { path: '/cached.txt', conditional: false },
    ]);
    // The site's own tag never passes for a marked one: stored for a fetch, it would revalidate a frame's load.
    for (const accept of ['*/*', NAVIGATION]) expect(await get('/marked.txt', accept), accept).toMatchObject({ status: 200, validators: 0 });
  });

  it('in Chromium: frames navigated to a text file, an SVG or an image and an object showing a text file are opaque; workers from a script or a text file keep the page origin; the cache (popups) mixes neither', async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const metadata: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/pic.svg')) metadata.push(r.headers()['sec-fetch-dest']);
    });
    await page.goto(session.hostUrl);
    await page.waitForSelector('#a');
    const proxied = new URL(page.url()).origin;
    expect(new URL(proxied).hostname.endsWith('.cobrowse.test')).toBe(true);
    await page.waitForFunction('window.__cobrowse !== undefined');

    const parent = new URL(session.hostUrl).hostname;
    // Writes a cookie on the gateway's parent domain through the document of each of `urls` in a
    // frame (navigated there from a page of the site), a popup, or an <object>.
    const attempts = (urls: string[], how: 'frame' | 'object' | 'popup') =>
      page.evaluate(
        async ({ urls, how, parent }) => {
          const shows = async (w: Window, path: string) => {
            for (let i = 0; i < 500; i++) {
              try {
                if (w.location.pathname === path && w.document.readyState === 'complete') return;
              } catch {
                return;
              }
              await new Promise((r) => setTimeout(r, 20));
            }
            throw new Error(`the frame never showed ${path}`);
          };
          const out: string[] = [];
          for (const url of urls) {
            let w: Window;
            if (how === 'frame') {
              const frame = document.createElement('iframe');
              frame.src = '/a.html';
              document.body.append(frame);
              w = window[window.length - 1] as Window;
              await shows(w, '/a.html');
              w.location.href = url;
            } else if (how === 'popup') {
              w = window.open(url) as Window;
            } else {
              const object = document.createElement('object');
              object.data = url;
              object.type = 'text/plain';
              const loaded = new Promise((r) => object.addEventListener('load', r, { once: true }));
              document.body.append(object);
              await loaded;
              w = object.contentWindow as Window;
            }
            await shows(w, url);
            try {
              w.document.cookie = `planted=1; domain=${parent}; path=/`;
              out.push('written');
            } catch (err) {
              out.push((err as Error).name);
            }
          }
          return out;
        },
        { urls, how, parent },
      );
    expect(await attempts(['/t.txt', '/pic.svg', '/img.png'], 'frame')).toEqual(['SecurityError', 'SecurityError', 'SecurityError']);
    expect(metadata.length).toBeGreaterThan(0);
    expect(metadata.every((dest) => dest === undefined)).toBe(true);
    expect(await attempts(['/t.txt'], 'object')).toEqual(['SecurityError']);

    const workerOrigin = (url: string) =>
      page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const w = new Worker(url);
            w.onmessage = (e) => resolve(String(e.data));
            w.onerror = () => resolve('error');
          }),
        url,
      );
    expect(await workerOrigin('/w.js')).toBe(proxied);
    expect(await workerOrigin('/w.txt')).toBe(proxied);

    // The cache (a popup: Chromium keys a frame's document apart from the page's loads): a text
    // file fetched first (stored, with its ETag), then shown in a popup; a worker's text file
    // shown in a popup first, then run as the worker.
    requests.length = 0;
    expect(await page.evaluate(async () => (await fetch('/cached-a.txt')).text())).toBe('cached text');
    expect(await attempts(['/cached-a.txt'], 'popup')).toEqual(['SecurityError']);
    expect(await attempts(['/cached-worker.txt'], 'popup')).toEqual(['SecurityError']);
    expect(await workerOrigin('/cached-worker.txt')).toBe(proxied);
    // Each load asked the site again (Vary: Accept), the popups' without a condition.
    expect(requests.filter((r) => r.path === '/cached-a.txt')).toEqual([
      { path: '/cached-a.txt', conditional: false },
      { path: '/cached-a.txt', conditional: false },
    ]);
    // The worker's condition came with the popup's (marked) tag: it did not reach the site either.
    expect(requests.filter((r) => r.path === '/cached-worker.txt')).toEqual([
      { path: '/cached-worker.txt', conditional: false },
      { path: '/cached-worker.txt', conditional: false },
    ]);
    expect((await context.cookies()).filter((c) => c.name === 'planted')).toEqual([]);
    await context.close();
  });

  it("in Chromium: a page navigated to again is answered by the site's 304 (its marked tag unmarked for the site) and still runs the gateway's script", async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(session.hostUrl);
    await page.waitForSelector('#a');
    const proxied = new URL(page.url()).origin;
    pageConditions.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await page.goto(`${proxied}/page-etag.html`);
      statuses.push(res?.status() ?? 0);
      await page.waitForSelector('#p');
      await page.waitForFunction('window.__cobrowse !== undefined');
    }
    expect(pageConditions).toEqual([null, 'W/"p1"']);
    // The second answer came from the browser's cache, revalidated.
    expect(statuses).toEqual([200, 200]);
    expect(await page.evaluate(() => document.scripts[0]?.getAttribute('src'))).toBe('/__cobrowse/inject.js');
    await context.close();
  });
});
