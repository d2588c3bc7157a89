// The browser's HTTP cache keeps one stored response per URL and hands it to other destinations:
// a text file the page had fetched or shown as an image (or started as a worker) was what a popup
// navigated to it rendered, without the sandbox a document's request gets, and a 304 replaced the
// stored policies with its own (the containment policy alone), so a document revalidated lost its
// sandbox. Each let the page write real cookies through the popup's own Document.prototype.cookie.
// Now every response of such a URL has the sandbox whatever its destination, with
// `Vary: Sec-Fetch-Dest`; a worker's script has neither policy nor validators; a 304 carries no
// policies. Real Chromium with caching allowed: the origin sends max-age=3600 or no-cache with an
// ETag, and answers If-None-Match with 304.

import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const ETAG = '"v1"';
// A 2x2 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
// What a worker says: its origin, and whether the gateway's worker runtime runs in it.
const WORKER = "postMessage(JSON.stringify({ origin: self.origin, runtime: '__cobrowseWorkerInstalled' in self }));";

/** The origin's answers: path, destination, If-None-Match and status. */
const hits: { path: string; dest: string; inm: string; status: number }[] = [];

const site = useOneSite((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const answer = (status: number, headers: Record<string, string>, body: string | Buffer = '') => {
    hits.push({ path: url.pathname, dest: String(req.headers['sec-fetch-dest']), inm: String(req.headers['if-none-match'] ?? ''), status });
    res.writeHead(status, headers).end(body);
  };
  if (url.pathname === '/a.html') return answer(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }, '<!doctype html><p id="a">page a</p>');
  if (url.pathname === '/file.bin') return answer(200, { 'content-type': 'application/octet-stream' }, 'bytes');
  // /fresh/: stored for an hour; /revalidate/: validated before each use. `?csp`: the site's own
  // policy on its 200 and its 304 (as nginx's add_header sends it).
  const cacheControl = url.pathname.startsWith('/fresh/') ? 'max-age=3600' : 'no-cache';
  const own: Record<string, string> = url.searchParams.has('csp') ? { 'content-security-policy': 'img-src *' } : {};
  // Weak comparison (RFC 9110 13.1.2): the gateway's rewritten bodies carry W/ validators.
  if (String(req.headers['if-none-match']).replace(/^W\//, '') === ETAG) return answer(304, { etag: ETAG, 'cache-control': cacheControl, ...own });
  const ext = url.pathname.slice(url.pathname.lastIndexOf('.') + 1);
  const [type, body] = ext === 'js' ? ['text/javascript', WORKER] : ext === 'png' ? ['image/png', PNG] : ['text/plain', `text ${url.pathname}`];
  answer(200, { 'content-type': type, 'cache-control': cacheControl, etag: ETAG, ...own }, body);
});

/** What the page does with a URL first, in its own realm (through the gateway's runtime). */
const PREPARE = `async (how, url) => {
  if (how === 'fetch') return void (await (await fetch(url)).text());
  if (how === 'image') return new Promise((resolve) => { const img = new Image(); img.onload = img.onerror = () => resolve(); img.src = url; });
  if (how === 'worker') return new Promise((resolve, reject) => {
    const worker = new Worker(url);
    worker.onmessage = (e) => { worker.terminate(); resolve(JSON.parse(e.data)); };
    worker.onerror = (e) => reject(new Error('worker failed: ' + e.message));
  });
}`;

/**
 * Opens `url` in a popup (or a frame, reached as window[i]: the one reference the runtime cannot
 * wrap) and, as soon as its document is there, writes cookies through that document's own
 * Document.prototype.cookie: 'written', or the error (SecurityError: an opaque origin).
 */
const REACH = `async (how, url, parent) => {
  let w;
  if (how === 'popup') w = window.open(url);
  else {
    const frame = document.createElement('iframe');
    frame.src = url;
    document.body.append(frame);
    w = window[window.length - 1];
  }
  const tag = url.replace(/\\W/g, '_');
  for (let i = 0; i < 1000; i++) {
    try {
      if (w.location.pathname + w.location.search === url && w.document.readyState !== 'loading') {
        const setter = Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie').set;
        setter.call(w.document, tag + '_parent=1; domain=' + parent + '; path=/');
        setter.call(w.document, tag + '_host=1; path=/');
        return 'written';
      }
    } catch (err) {
      return err.name;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return 'never shown';
}`;

interface HostPage {
  context: BrowserContext;
  page: Page;
  prepare(how: 'fetch' | 'image' | 'worker', url: string): Promise<unknown>;
  reach(how: 'popup' | 'frame', url: string): Promise<string>;
}

async function hostPage(): Promise<HostPage> {
  const session = await createSession(site.t, `${site.origin}/a.html`);
  const { context, page } = await newParticipant(site.browser);
  await page.goto(session.hostUrl);
  await page.waitForSelector('#a');
  await page.waitForFunction('window.__cobrowse !== undefined');
  await page.evaluate(`window.prepareUrl = ${PREPARE}; window.reachUrl = ${REACH}`);
  const parent = new URL(session.hostUrl).hostname;
  type Fns = { prepareUrl(how: string, url: string): Promise<unknown>; reachUrl(how: string, url: string, parent: string): Promise<string> };
  return {
    context,
    page,
    prepare: (how, url) => page.evaluate(([how, url]) => (window as unknown as Fns).prepareUrl(how, url), [how, url] as const),
    reach: (how, url) => page.evaluate(([how, url, parent]) => (window as unknown as Fns).reachUrl(how, url, parent), [how, url, parent] as const),
  };
}

/** The cookies the browser itself holds, other than the gateway's own. */
async function realSiteCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies()).filter((c) => !(c.httpOnly && (c.name === '__cobrowse' || c.name.startsWith('cobrowse_')))).map((c) => c.name);
}

/** The origin's answers for `path` (destination, the ETag the browser sent, status). */
function answersFor(path: string): string[] {
  return hits.filter((h) => h.path === path).map((h) => `${h.dest} ${h.inm || '-'} ${h.status}`);
}

describe('a response the HTTP cache stored, reused for a document', () => {
  it('a popup navigated to a URL the page fetched or showed as an image gets the sandbox with the stored response', async () => {
    const host = await hostPage();
    for (const how of ['fetch', 'image'] as const) {
      const path = `/fresh/${how}.txt`;
      await host.prepare(how, path);
      expect(await host.reach('popup', path), how).toBe('SecurityError');
      // The stored response was the document's: its destination differed, so the browser
      // validated it (Vary) and rendered it with the 304, and with the sandbox it was stored with.
      expect(answersFor(path), how).toEqual([`${how === 'fetch' ? 'empty' : 'image'} - 200`, `document ${ETAG} 304`]);
    }
    expect(await realSiteCookies(host.context)).toEqual([]);
    await host.context.close();
  });

  it('a document revalidated with a 304 keeps its sandbox, when the 304 carries the site’s own policy too', async () => {
    const host = await hostPage();
    for (const path of ['/revalidate/doc.txt', '/revalidate/own-policy.txt?csp']) {
      for (const [i, how] of (['popup', 'frame', 'popup'] as const).entries())
        expect(await host.reach(how, path), `${i}: ${how} ${path}`).toBe('SecurityError');
      expect(answersFor(path.split('?')[0]!)).toEqual(['document - 200', `iframe - 200`, `document ${ETAG} 304`]);
    }
    // Stored for an <img> and revalidated for the popup.
    await host.prepare('image', '/revalidate/img.png');
    expect(await host.reach('popup', '/revalidate/img.png')).toBe('SecurityError');
    expect(answersFor('/revalidate/img.png')).toEqual(['image - 200', `document ${ETAG} 304`]);
    expect(await realSiteCookies(host.context)).toEqual([]);
    await host.context.close();
  });

  it("a popup navigated to a worker's script gets a response of its own, not the worker's", async () => {
    const host = await hostPage();
    const proxied = new URL(host.page.url()).origin;
    expect(await host.prepare('worker', '/fresh/w1.js')).toEqual({ origin: proxied, runtime: true });
    expect(await host.reach('popup', '/fresh/w1.js')).toBe('SecurityError');
    // The worker's response has no validators: the document's request is a plain one.
    expect(answersFor('/fresh/w1.js')).toEqual(['worker - 200', 'document - 200']);
    expect(await realSiteCookies(host.context)).toEqual([]);
    await host.context.close();
  });

  it('a worker started from a URL the page fetched or opened runs in its origin with the worker runtime', async () => {
    const host = await hostPage();
    const proxied = new URL(host.page.url()).origin;
    await host.prepare('fetch', '/fresh/w2.js');
    expect(await host.prepare('worker', '/fresh/w2.js')).toEqual({ origin: proxied, runtime: true });
    // The browser validated the fetch's stored response for the worker; the gateway asked the site without its ETag.
    expect(answersFor('/fresh/w2.js')).toEqual(['empty - 200', 'worker - 200']);

    expect(await host.reach('popup', '/fresh/w3.js')).toBe('SecurityError');
    expect(await host.prepare('worker', '/fresh/w3.js')).toEqual({ origin: proxied, runtime: true });
    expect(answersFor('/fresh/w3.js')).toEqual(['document - 200', 'worker - 200']);
    // Its own stored response serves the next worker.
    expect(await host.prepare('worker', '/fresh/w3.js')).toEqual({ origin: proxied, runtime: true });
    expect(answersFor('/fresh/w3.js')).toHaveLength(2);
    await host.context.close();
  });

  it('a file the browser downloads still downloads, from a popup, a frame and a link', async () => {
    const host = await hostPage();
    const start = {
      popup: () => void window.open('/file.bin?popup'),
      frame: () => {
        const frame = document.createElement('iframe');
        frame.src = '/file.bin?frame';
        document.body.append(frame);
      },
      link: () => {
        const a = document.createElement('a');
        a.href = '/file.bin?link';
        a.download = 'file.bin';
        document.body.append(a);
        a.click();
      },
    };
    for (const [how, run] of Object.entries(start)) {
      // Chromium reports a popup's download on its opener (the popup closes).
      const [download] = await Promise.all([host.page.waitForEvent('download'), host.page.evaluate(run)]);
      expect(new URL(download.url()).search, how).toBe(`?${how}`);
      expect(await download.failure(), how).toBeNull();
    }
    await host.context.close();
  });
});
