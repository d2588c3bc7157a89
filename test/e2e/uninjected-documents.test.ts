// Documents the gateway does not inject into (text, images, SVG, PDF): a same-origin frame or popup
// navigated to one got a fresh realm with the browser's own Document.prototype.cookie, so the page
// that opened it could set real cookies on the gateway's parent domain through it (a cookie bomb:
// 431 on every session of that browser; or a planted cookie). They now come with
// `Content-Security-Policy: sandbox allow-scripts ...` (an opaque origin) and still display.

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

    // Chromium's PDF viewer still renders with the CSP sandbox (a frame's `sandbox` attribute is what blocks PDFs).
    await page.goto(`${proxied}/doc.pdf`);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://')), { timeout: 10_000 }).toBe(true);
    expect(page.frames().some((f) => f.url().startsWith('chrome-error://'))).toBe(false);
    const viewer = page.frames().find((f) => f.url().startsWith('chrome-extension://'));
    await expect.poll(() => viewer?.evaluate(() => document.querySelector('pdf-viewer')?.shadowRoot !== null), { timeout: 10_000 }).toBe(true);
    // Open gap (measured in Chromium 156): the PDF viewer's document ignores the CSP sandbox and
    // keeps the proxied host's origin, so a page can still write real cookies through a frame
    // navigated to a PDF. Not asserted here; see ARCHITECTURE.md (cookie shim).
    await context.close();
  });

  it('the sandbox goes on documents only: not on subresources, injected pages, downloads', async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const host = await t.join(session.hostUrl);
    const csp = async (path: string, dest: string) => {
      const res = await t.call('GET', `${host.proxiedOrigin}${path}`, {
        headers: { cookie: host.cookie, 'sec-fetch-dest': dest, 'sec-fetch-mode': 'navigate' },
      });
      expect(res.status).toBe(200);
      return ([] as string[]).concat(res.headers['content-security-policy'] ?? []).some((v) => /(^|;)\s*sandbox\b/.test(v));
    };
    expect(await csp('/t.txt', 'document')).toBe(true);
    expect(await csp('/t.txt', 'iframe')).toBe(true);
    expect(await csp('/img.png', 'frame')).toBe(true);
    expect(await csp('/pic.svg', 'embed')).toBe(true);
    expect(await csp('/doc.pdf', 'object')).toBe(true);
    expect(await csp('/img.png', 'image')).toBe(false);
    expect(await csp('/t.txt', 'empty')).toBe(false);
    expect(await csp('/pic.svg', 'image')).toBe(false);
    expect(await csp('/a.html', 'document')).toBe(false);
    expect(await csp('/a.html', 'iframe')).toBe(false);
    expect(await csp('/file.bin', 'document')).toBe(false);

    // In the browser: the page's <img> loads, and its response carries no sandbox.
    const participant = await newParticipant(browser);
    const image = participant.page.waitForResponse((r) => r.url().endsWith('/img.png'));
    await participant.page.goto((await createSession(t, `${originUrl}/a.html`)).hostUrl);
    expect((await (await image).allHeaders())['content-security-policy'] ?? '').not.toMatch(/sandbox/);
    await participant.page.waitForFunction(() => (document.getElementById('img') as HTMLImageElement | null)?.naturalWidth === 2);
    await participant.context.close();
  });
});
