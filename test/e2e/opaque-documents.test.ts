// Documents with an opaque origin: a frame sandboxed without allow-same-origin, data: frames (one
// the page's script makes, one written in the site's HTML, which the gateway did not rewrite), and
// the CORS request a redirect sent to another origin (`Origin: null`). Chromium sends their requests
// no SameSite=Lax cookie, so the participant's stayed behind and every image, style sheet and
// fetch of such a frame was a 401 through the gateway, where the real site shows them. They go
// upstream now without the session's jar (the real site gets them without its Lax and Strict
// cookies). The same pages in Chromium directly and through the gateway, compared.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

// A 2x2 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

/** Paths each site was asked for. */
const hits: string[] = [];

// What a framed document reports to the top page once loaded: its origin, its image, its style and its fetch.
const REPORT = `<script>
  addEventListener('load', async () => {
    let fetched;
    try { fetched = await (await fetch('/api')).text(); } catch (err) { fetched = String(err); }
    parent.postMessage({ doc: document.title, origin: self.origin, img: document.getElementById('img').naturalWidth,
      color: getComputedStyle(document.body).color, fetched }, '*');
  });
</script>`;

function serve(name: 'a' | 'b', other: () => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`${name} ${url.pathname}`);
    const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    switch (url.pathname) {
      case '/img.png':
        return res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      case '/style.css':
        return res.writeHead(200, { 'content-type': 'text/css' }).end('body { color: rgb(0, 128, 0) }');
      case '/api':
        return res
          .writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
          .end(JSON.stringify({ from: name, origin: req.headers.origin ?? '' }));
      case '/to-other':
        // A CORS request redirected to the other site: it arrives there with Origin: null.
        return res.writeHead(302, { location: `${other()}/api`, 'access-control-allow-origin': '*' }).end();
      case '/framed':
        return html(`<!doctype html><title>framed</title><link rel="stylesheet" href="/style.css"><img id="img" src="/img.png">${REPORT}`);
      default: {
        // One data: frame is made by the page's script (the runtime maps its markup), one is written
        // in the site's HTML (the gateway's rewriter maps it); both with absolute URLs of the site.
        const own = url.searchParams.get('self');
        const dataDoc = `<!doctype html><title>data</title><body><img id="img" src="${own}/img.png"><script>addEventListener('load', () => parent.postMessage({ doc: 'data', origin: self.origin, img: document.getElementById('img').naturalWidth }, '*'))</script></body>`;
        const markupDoc =
          `<!doctype html><title>data-markup</title><body><img id="img" src="${own}/img.png"><script>addEventListener('load', async () => {` +
          `let fetched; try { fetched = await (await fetch('${own}/api')).text(); } catch (err) { fetched = String(err); }` +
          `parent.postMessage({ doc: 'data-markup', origin: self.origin, img: document.getElementById('img').naturalWidth, fetched }, '*'); })</script></body>`;
        return html(
          `<!doctype html><title>top</title><script>window.reports = []; addEventListener('message', (e) => reports.push(e.data));</script>` +
            `<iframe id="sandboxed" sandbox="allow-scripts" src="/framed"></iframe>` +
            `<iframe id="data-markup" src="data:text/html;charset=utf-8,${encodeURIComponent(markupDoc).replace(/'/g, '%27')}"></iframe>` +
            `<script>const frame = document.createElement('iframe'); frame.src = ${JSON.stringify(`data:text/html,${encodeURIComponent(dataDoc)}`)}; document.body.append(frame);</script>`,
        );
      }
    }
  };
}

const sites = useTwoSites(
  serve('a', () => sites.bOrigin),
  serve('b', () => sites.aOrigin),
);

interface Seen {
  reports: unknown[];
  redirected: string;
}

/** Opens the top page, waits for both frames' reports, and fetches across the redirect from the top page. */
async function open(browser: Browser, url: string): Promise<Seen> {
  const { context, page, errors } = await newParticipant(browser);
  try {
    await page.goto(url);
    await page.waitForFunction('window.reports?.length === 3', undefined, { timeout: 10_000 });
    const reports = ((await page.evaluate('window.reports')) as { doc: string }[]).sort((x, y) => x.doc.localeCompare(y.doc));
    // The top page's fetch of B, redirected by B to A: Origin: null at A.
    const redirected = (await page.evaluate(`fetch(${JSON.stringify(`${sites.bOrigin}/to-other`)}).then((r) => r.text(), (e) => String(e))`)) as string;
    expect(errors).toEqual([]);
    return { reports, redirected };
  } finally {
    await context.close();
  }
}

describe('documents with an opaque origin', () => {
  it('load their images, style sheets and fetches through the gateway as they do directly', async () => {
    hits.length = 0;
    const direct = await open(sites.browser, `${sites.aOrigin}/?self=${encodeURIComponent(sites.aOrigin)}`);
    // The real site's frames got everything: the check below is not vacuous.
    expect(direct.reports).toEqual([
      { doc: 'data', origin: 'null', img: 2 },
      { doc: 'data-markup', origin: 'null', img: 2, fetched: JSON.stringify({ from: 'a', origin: 'null' }) },
      { doc: 'framed', origin: 'null', img: 2, color: 'rgb(0, 128, 0)', fetched: JSON.stringify({ from: 'a', origin: 'null' }) },
    ]);
    expect(direct.redirected).toBe(JSON.stringify({ from: 'a', origin: 'null' }));
    const directHits = hits.splice(0).sort();
    const session = await createSession(sites.t, `${sites.aOrigin}/?self=${encodeURIComponent(sites.aOrigin)}`);
    expect(await open(sites.browser, session.hostUrl)).toEqual(direct);
    expect(hits.filter((h) => !h.endsWith('/favicon.ico')).sort()).toEqual(directHits.filter((h) => !h.endsWith('/favicon.ico')));
  });
});
