// Documents the gateway does not inject into, on a gateway that is not a potentially trustworthy
// origin: plain http under a name other than localhost (`cobrowse.test`, which Chromium resolves to
// loopback here by --host-resolver-rules). Chromium sends no Fetch Metadata there, so the gateway
// cannot tell a worker's script request from a document's: it sandboxes only the types Chromium
// never runs as a script (images, SVG among them, audio, video, text/csv), and a worker whose
// script is text/plain keeps working. The other types' gap is named in ARCHITECTURE.md.

import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../helpers/browser.js';
import { CHROMIUM_FLAGS } from '../helpers/chromium-flags.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="24">svg text</text></svg>';
const WORKER = 'postMessage(self.origin)';

let site: Server;
let originUrl = '';
let t: TestGateway;
let browser: Browser;

/** A loopback port free now: the gateway's public URL must name the port it listens on, which Chromium then reaches under cobrowse.test. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const send = (type: string, body: string | Buffer) => res.writeHead(200, { 'content-type': type }).end(body);
    if (path === '/a.html') return send('text/html', '<!doctype html><html><head><title>a</title></head><body><p id="a">page a</p></body></html>');
    if (path === '/pic.svg') return send('image/svg+xml', SVG);
    if (path === '/img.png') return send('image/png', PNG);
    if (path === '/t.txt') return send('text/plain', 'hello text');
    if (path === '/data.csv') return send('text/csv', 'a,b');
    if (path === '/w.js') return send('text/javascript', WORKER);
    if (path === '/w.txt') return send('text/plain', WORKER);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', () => resolve()));
  originUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
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
  it('what each response carries: the sandbox on images, SVG, audio, video and CSV only; none on text, JSON-like or script types', async () => {
    const session = await createSession(t, `${originUrl}/a.html`);
    const host = await t.join(session.hostUrl);
    const sandboxed = async (path: string) => {
      const res = await t.call('GET', `${host.proxiedOrigin}${path}`, { headers: { cookie: host.cookie } });
      expect(res.status, path).toBe(200);
      return ([] as string[]).concat(res.headers['content-security-policy'] ?? []).some((v) => /(^|;)\s*sandbox\b/.test(v));
    };
    for (const path of ['/pic.svg', '/img.png', '/data.csv']) expect(await sandboxed(path), path).toBe(true);
    for (const path of ['/t.txt', '/w.js', '/w.txt', '/a.html']) expect(await sandboxed(path), path).toBe(false);
  });

  it('in Chromium: a frame navigated to an SVG or an image is in an opaque origin, and workers from a script or a text file keep the page origin', async () => {
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
    const seen = await page.evaluate(async (parent) => {
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
      for (const url of ['/pic.svg', '/img.png']) {
        const frame = document.createElement('iframe');
        frame.src = '/a.html';
        document.body.append(frame);
        const w = window[window.length - 1] as Window;
        await shows(w, '/a.html');
        w.location.href = url;
        await shows(w, url);
        try {
          w.document.cookie = `planted=1; domain=${parent}; path=/`;
          out.push('written');
        } catch (err) {
          out.push((err as Error).name);
        }
      }
      return out;
    }, parent);
    expect(metadata.length).toBeGreaterThan(0);
    expect(metadata.every((dest) => dest === undefined)).toBe(true);
    expect(seen).toEqual(['SecurityError', 'SecurityError']);
    expect((await context.cookies()).filter((c) => c.name === 'planted')).toEqual([]);

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
    await context.close();
  });
});
