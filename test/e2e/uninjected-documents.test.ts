// Documents the gateway does not inject into (text, images, SVG, PDF): a same-origin frame or popup
// navigated to one got a fresh realm with the browser's own Document.prototype.cookie, so the page
// that opened it could set real cookies on the gateway's parent domain through it (a cookie bomb:
// 431 on every session of that browser; or a planted cookie). They now come with
// `Content-Security-Policy: sandbox allow-scripts ...` (an opaque origin) and still display; PDFs,
// whose viewer ignores that sandbox, also with `Document-Isolation-Policy` (an agent cluster of
// their own). What the HTTP cache does with them: uninjected-documents-cache.test.ts.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// A 2x2 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text id="label" x="4" y="24">svg text</text>' +
  '<script>document.getElementById("label").setAttribute("data-ran", "yes")</script></svg>';
const PDF = Buffer.from(
  [
    '%PDF-1.1',
    '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj',
    '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj',
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>endobj',
    '4 0 obj<</Length 44>>stream',
    'BT /F1 24 Tf 20 100 Td (Hello PDF) Tj ET',
    'endstream endobj',
    '5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj',
    'trailer<</Root 1 0 R>>',
    '%%EOF',
  ].join('\n'),
);

let site: Server;
let originUrl = '';
let t: TestGateway;
let browser: Browser;

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': type, ...extra });
      res.end(body);
    };
    if (path === '/a.html')
      return send('text/html', '<!doctype html><html><head><title>a</title></head><body><p id="a">page a</p><img id="img" src="/img.png"></body></html>');
    if (path === '/t.txt') return send('text/plain', 'hello text');
    if (path === '/img.png') return send('image/png', PNG);
    if (path === '/pic.svg') return send('image/svg+xml', SVG);
    if (path === '/data.json') return send('application/json', '{"json":true}');
    if (path === '/doc.pdf') return send('application/pdf', PDF);
    if (path === '/text-type.pdf') return send('text/pdf', PDF);
    // No Content-Type: Chromium sniffs the bytes and shows its PDF viewer.
    if (path === '/sniffed.pdf') return res.writeHead(200).end(PDF);
    if (path === '/w.js') return send('text/javascript', 'postMessage(1)', { etag: '"w1"', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' });
    if (path === '/cached.txt') {
      // The site's own policy and Vary on its 200 and its 304 alike.
      const headers = { etag: '"c1"', vary: 'Accept-Encoding', 'content-security-policy': 'img-src *' };
      if (req.headers['if-none-match'] === '"c1"') return res.writeHead(304, headers).end();
      return send('text/plain', 'cached', headers);
    }
    if (path === '/cached.html') {
      const headers = { etag: '"h1"', 'content-security-policy': "script-src 'self'" };
      if (req.headers['if-none-match'] === '"h1"') return res.writeHead(304, headers).end();
      return send('text/html', '<!doctype html><p>cached page</p>', headers);
    }
    if (path === '/file.bin') return send('application/octet-stream', 'bytes', { 'content-disposition': 'attachment; filename="file.bin"' });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', () => resolve()));
  originUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: originUrl }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  site?.close();
});

/** The cookies the browser itself holds, other than the gateway's own (HttpOnly, named by the gateway). */
async function realSiteCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies())
    .filter((c) => !(c.httpOnly && (c.name === '__cobrowse' || c.name.startsWith('cobrowse_'))))
    .map((c) => `${c.name} (${c.domain})`)
    .sort();
}

/** The page count Chromium's PDF viewer shows in `page` ('' until it has the document). */
async function pdfPages(page: Page): Promise<string> {
  const viewer = page.frames().find((f) => f.url().startsWith('chrome-extension://'));
  if (!viewer) return '';
  return viewer
    .evaluate(() => {
      const toolbar = document.querySelector('pdf-viewer')?.shadowRoot?.querySelector('viewer-toolbar');
      return toolbar?.shadowRoot?.querySelector('viewer-page-selector')?.shadowRoot?.querySelector('#pagelength')?.textContent ?? '';
    })
    .catch(() => '');
}

/** Writes a cookie on the gateway's parent domain (and a host-only one) through `w`'s own document; what that did. */
const ATTEMPT = `(w, tag, parent) => {
  try {
    w.document.cookie = tag + '_parent=1; domain=' + parent + '; path=/';
    w.document.cookie = tag + '_host=1; path=/';
    const setter = Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie').set;
    setter.call(w.document, tag + '_proto=1; domain=' + parent + '; path=/');
    return 'written';
  } catch (err) {
    return err.name;
  }
}`;

async function hostPage(): Promise<{ context: BrowserContext; page: Page; parent: string; proxied: string }> {
  const session = await createSession(t, `${originUrl}/a.html`);
  const host = await newParticipant(browser);
  await host.page.goto(session.hostUrl);
  await host.page.waitForSelector('#a');
  await host.page.waitForFunction('window.__cobrowse !== undefined');
  await host.page.evaluate(`window.tryWrite = ${ATTEMPT}`);
  return { context: host.context, page: host.page, parent: new URL(session.hostUrl).hostname, proxied: new URL(host.page.url()).origin };
}

describe('documents the gateway does not inject into', () => {
  it("a frame navigated from a page to a text file or an image cannot write the browser's cookies", async () => {
    const { context, page, parent } = await hostPage();
    const seen = await page.evaluate(async (parent) => {
      const tryWrite = (window as unknown as { tryWrite: (w: Window, tag: string, parent: string) => string }).tryWrite;
      // Until the frame shows `path` (or its document is out of reach: an opaque origin).
      const shows = async (w: Window, path: string) => {
        for (;;) {
          try {
            if (w.location.pathname === path && w.document.readyState === 'complete') return;
          } catch {
            return;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const out: string[] = [];
      for (const [tag, url] of [
        ['txt', '/t.txt'],
        ['img', '/img.png'],
      ] as const) {
        const frame = document.createElement('iframe');
        frame.src = '/a.html';
        document.body.append(frame);
        const w = window[window.length - 1] as Window;
        await shows(w, '/a.html');
        w.location.href = url;
        await shows(w, url);
        out.push(tryWrite(w, tag, parent));
      }
      return out;
    }, parent);
    // The frame's document has an opaque origin: the page cannot reach its document at all.
    expect(await realSiteCookies(context)).toEqual([]);
    expect(seen).toEqual(['SecurityError', 'SecurityError']);
    await context.close();
  });

  it("a popup navigated to a text file cannot write the browser's cookies", async () => {
    const { context, page, parent } = await hostPage();
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.evaluate(() => void ((window as unknown as { w: Window | null }).w = window.open('/a.html'))),
    ]);
    await popup.waitForSelector('#a');
    await page.evaluate(() => {
      (window as unknown as { w: Window }).w.location.href = '/t.txt';
    });
    await popup.waitForURL(/\/t\.txt$/);
    await popup.waitForLoadState('load');
    const seen = await page.evaluate(
      (parent) =>
        (window as unknown as { tryWrite: (w: Window, tag: string, parent: string) => string }).tryWrite(
          (window as unknown as { w: Window }).w,
          'popup',
          parent,
        ),
      parent,
    );
    expect(await realSiteCookies(context)).toEqual([]);
    expect(seen).toBe('SecurityError');
    await context.close();
  });

  it('a text file, an image, JSON, an SVG (its script runs) and a PDF opened through the gateway still display, the first four in an opaque origin', async () => {
    const { context, page, proxied } = await hostPage();
    const cookieThrows = () =>
      page.evaluate(() => {
        try {
          void document.cookie;
          return false;
        } catch {
          return true;
        }
      });

    await page.goto(`${proxied}/t.txt`);
    expect(await page.evaluate(() => document.body.innerText.trim())).toBe('hello text');
    expect(await page.evaluate(() => origin)).toBe('null');
    expect(await cookieThrows()).toBe(true);

    await page.goto(`${proxied}/data.json`);
    expect(await page.evaluate(() => document.body.innerText.trim())).toBe('{"json":true}');
    expect(await page.evaluate(() => origin)).toBe('null');

    await page.goto(`${proxied}/img.png`);
    await page.waitForFunction(() => document.images[0]?.complete === true);
    expect(await page.evaluate(() => [document.images[0]?.naturalWidth, document.images[0]?.naturalHeight])).toEqual([2, 2]);
    expect(await page.evaluate(() => origin)).toBe('null');

    await page.goto(`${proxied}/pic.svg`);
    expect(await page.evaluate(() => document.documentElement.localName)).toBe('svg');
    expect(await page.evaluate(() => document.getElementById('label')?.textContent)).toBe('svg text');
    // `sandbox allow-scripts`: the SVG's own script still runs (in the opaque origin).
    expect(await page.evaluate(() => document.getElementById('label')?.getAttribute('data-ran'))).toBe('yes');
    expect(await page.evaluate(() => origin)).toBe('null');
    expect(await cookieThrows()).toBe(true);

    // Chromium's PDF viewer ignores the sandbox; with the isolation it still renders the document.
    for (const path of ['/doc.pdf', '/text-type.pdf', '/sniffed.pdf']) {
      await page.goto(`${proxied}${path}`);
      await expect.poll(() => pdfPages(page), { timeout: 10_000 }).toBe('1');
      expect(page.frames().some((f) => f.url().startsWith('chrome-error://'))).toBe(false);
    }
    await context.close();
  });

  it('a PDF in a popup, a frame, an embed or an object cannot be reached by the page (the viewer ignores the sandbox)', async () => {
    const { context, page, parent } = await hostPage();
    const seen = await page.evaluate(async (parent) => {
      const tryWrite = (window as unknown as { tryWrite: (w: Window, tag: string, parent: string) => string }).tryWrite;
      const out: string[] = [];
      for (const [how, url] of [
        ['popup', '/doc.pdf'],
        ['popup', '/sniffed.pdf'],
        ['popup', '/text-type.pdf'],
        ['iframe', '/doc.pdf?frame'],
        ['embed', '/doc.pdf?embed'],
        ['object', '/doc.pdf?object'],
      ] as const) {
        let w: Window | null;
        // The element's window is the next one (window[i]: the one reference the runtime cannot wrap).
        const index = window.length;
        if (how === 'popup') w = window.open(url);
        else {
          const el = document.createElement(how);
          if (el instanceof HTMLObjectElement) el.data = url;
          else (el as HTMLIFrameElement | HTMLEmbedElement).src = url;
          document.body.append(el);
          w = null;
        }
        // As soon as the PDF's document is there.
        let result = 'never shown';
        for (let i = 0; i < 1000 && result === 'never shown'; i++) {
          w ??= (window[index] as Window | undefined) ?? null;
          try {
            if (w && w.location.pathname + w.location.search === url && w.document.contentType === 'application/pdf') result = tryWrite(w, `pdf${i}`, parent);
          } catch (err) {
            result = (err as Error).name;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        out.push(`${how} ${url}: ${result}`);
        if (how === 'popup') w?.close();
      }
      return out;
    }, parent);
    expect(seen).toEqual([
      'popup /doc.pdf: SecurityError',
      'popup /sniffed.pdf: SecurityError',
      'popup /text-type.pdf: SecurityError',
      'iframe /doc.pdf?frame: SecurityError',
      'embed /doc.pdf?embed: SecurityError',
      'object /doc.pdf?object: SecurityError',
    ]);
    expect(await realSiteCookies(context)).toEqual([]);
    // The frames show the PDF: three viewers in the page.
    await expect.poll(() => page.frames().filter((f) => f.url().startsWith('chrome-extension://')).length, { timeout: 10_000 }).toBe(3);
    await context.close();
  });

  it('what each response carries: the sandbox whatever the destination, but not on workers, injected pages, downloads; no policies on a 304', async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const host = await t.join(session.hostUrl);
    const get = async (path: string, dest: string, extra: Record<string, string> = {}) => {
      const res = await t.call('GET', `${host.proxiedOrigin}${path}`, { headers: { cookie: host.cookie, 'sec-fetch-dest': dest, ...extra } });
      const all = (name: string) => ([] as string[]).concat(res.headers[name] ?? []);
      return {
        status: res.status,
        sandboxed: all('content-security-policy').some((v) => /(^|;)\s*sandbox\b/.test(v)),
        policies: all('content-security-policy').length,
        isolation: all('document-isolation-policy').join(','),
        varies: all('vary').some((v) => /\bsec-fetch-dest\b/i.test(v)),
        validators: [...all('etag'), ...all('last-modified')].length,
      };
    };
    for (const path of ['/t.txt', '/img.png', '/pic.svg', '/data.json', '/doc.pdf']) {
      for (const dest of ['document', 'iframe', 'frame', 'embed', 'object', 'image', 'empty', 'script', 'style', 'audioworklet']) {
        expect(await get(path, dest), `${path} ${dest}`).toMatchObject({ status: 200, sandboxed: true, varies: true });
      }
    }
    // A worker's CSP is the worker's (the sandbox would make its origin opaque): none, and no validators.
    for (const dest of ['worker', 'sharedworker']) expect(await get('/w.js', dest), dest).toMatchObject({ sandboxed: false, varies: true, validators: 0 });
    expect(await get('/w.js', 'script')).toMatchObject({ sandboxed: true, varies: true, validators: 2 });
    // The PDF viewer's types (its own two, and what Chromium sniffs) are isolated, whatever the destination.
    for (const path of ['/doc.pdf', '/text-type.pdf', '/sniffed.pdf']) {
      for (const dest of ['document', 'iframe', 'empty']) expect((await get(path, dest)).isolation, `${path} ${dest}`).toBe('isolate-and-credentialless');
    }
    expect((await get('/t.txt', 'document')).isolation).toBe('');
    expect(await get('/a.html', 'document')).toMatchObject({ sandboxed: false, varies: false });
    expect(await get('/a.html', 'iframe')).toMatchObject({ sandboxed: false, varies: false });
    expect(await get('/a.html', 'empty')).toMatchObject({ sandboxed: false, varies: false });
    expect(await get('/file.bin', 'document')).toMatchObject({ sandboxed: false, varies: false });
    // A 304 leaves the browser's stored policies alone: not the site's, nor the containment policy,
    // nor the sandbox; the Vary it has keeps the destination.
    expect(await get('/cached.txt', 'document')).toMatchObject({ status: 200, sandboxed: true, policies: 3, varies: true });
    expect(await get('/cached.txt', 'image', { 'if-none-match': '"c1"' })).toEqual({
      status: 304,
      sandboxed: false,
      policies: 0,
      isolation: '',
      varies: true,
      validators: 1,
    });
    expect(await get('/cached.html', 'document', { 'if-none-match': '"h1"' })).toMatchObject({ status: 304, policies: 0 });

    // In the browser: the page's <img> loads with the sandbox on its response.
    const participant = await newParticipant(browser);
    const image = participant.page.waitForResponse((r) => r.url().endsWith('/img.png'));
    await participant.page.goto((await createSession(t, `${originUrl}/a.html`)).hostUrl);
    expect((await (await image).allHeaders())['content-security-policy'] ?? '').toMatch(/sandbox/);
    await participant.page.waitForFunction(() => (document.getElementById('img') as HTMLImageElement | null)?.naturalWidth === 2);
    await participant.context.close();
  });
});
