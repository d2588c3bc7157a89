// A page the browser takes from its HTTP cache (fresh for max-age, revalidated by a 304, shown again
// by Back) is the bytes the gateway served the first time, with that time's document.cookie view
// embedded. The real site's page reads the browser's store as it is then. Through the gateway the
// site's scripts read the cookies of the first visit: after a login (or a logout) on another page,
// a cached page said signed out (or in). The runtime reads the jar again when the document came
// from a cache, and when a page comes back from the back/forward cache (pageshow, persisted). The
// same steps in Chromium directly and through the gateway, compared.

import { type Browser, chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, newParticipant } from '../helpers/browser.js';
import { CHROMIUM_FLAGS } from '../helpers/chromium-flags.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

/** What the origin was asked: path and the validator the browser sent. */
const hits: string[] = [];

// The page's own script records what document.cookie says when it runs and at each pageshow.
const PAGE = (name: string) =>
  `<!doctype html><html><head><script>window.seen = ['run ' + document.cookie]; addEventListener('pageshow', (e) => seen.push('pageshow ' + e.persisted + ' ' + document.cookie));</script></head>` +
  `<body><h1 id="${name}">${name}</h1><a id="to-fresh" href="/fresh">fresh</a><a id="to-checked" href="/checked">checked</a>` +
  `<a id="to-login" href="/login">login</a><a id="to-logout" href="/logout">logout</a></body></html>`;
const ETAG = '"c1"';

const site = useOneSite((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const inm = String(req.headers['if-none-match'] ?? '');
  hits.push(`${url.pathname} ${inm ? 'conditional' : 'plain'}`);
  if (url.pathname === '/fresh') return res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'max-age=3600' }).end(PAGE('fresh'));
  if (url.pathname === '/checked') {
    // Weak comparison (RFC 9110 13.1.2): the gateway's rewritten bodies carry W/ validators.
    if (inm.replace(/^W\//, '') === ETAG) return res.writeHead(304, { etag: ETAG, 'cache-control': 'no-cache' }).end();
    return res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache', etag: ETAG }).end(PAGE('checked'));
  }
  if (url.pathname === '/login') return res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'user=alice; path=/' }).end(PAGE('login'));
  if (url.pathname === '/logout') return res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'user=; path=/; max-age=0' }).end(PAGE('logout'));
  res.writeHead(404).end();
});

/** Visits the pages in order (a path: a click on its link; 'back': the Back button) and returns what each page's script saw. */
async function visit(browser: Browser, start: string, steps: string[]): Promise<string[]> {
  const { context, page, errors } = await newParticipant(browser);
  const seen: string[] = [];
  try {
    await page.goto(start);
    for (const step of steps) {
      if (step === 'back') {
        // A page restored from the back/forward cache fires no load event: its pageshow is awaited.
        const shows = (await page.evaluate('window.seen.length')) as number;
        await page.goBack({ waitUntil: 'commit' });
        await page.waitForFunction(
          `window.seen?.length > 0 && (window.seen.length !== ${shows} || document.readyState === 'complete') && window.seen.at(-1).startsWith('pageshow')`,
        );
      } else {
        await page.click(`#to-${step}`);
        await page.waitForSelector(`h1#${step}`);
        await page.waitForLoadState('load');
      }
      seen.push(`${await page.evaluate('document.querySelector("h1").id')}: ${(await page.evaluate('window.seen.join(" / ")')) as string}`);
    }
    expect(errors).toEqual([]);
    return seen;
  } finally {
    await context.close();
  }
}

describe('a page taken from the browser cache', () => {
  const steps = ['checked', 'login', 'fresh', 'checked', 'back', 'logout', 'fresh', 'back'];

  it('shows the cookies of now, as the real site does (fresh, revalidated, Back)', async () => {
    hits.length = 0;
    const direct = await visit(site.browser, `${site.origin}/fresh`, steps);
    const directHits = hits.splice(0);
    const session = await createSession(site.t, `${site.origin}/fresh`);
    const proxied = await visit(site.browser, session.hostUrl, steps);
    expect(proxied).toEqual(direct);
    // The steps did take pages from the cache: each page was asked for once, /checked again with its validator.
    expect(directHits).toEqual(['/fresh plain', '/favicon.ico plain', '/checked plain', '/login plain', '/checked conditional', '/logout plain']);
    expect(hits.filter((h) => h !== '/favicon.ico plain')).toEqual(directHits.filter((h) => h !== '/favicon.ico plain'));
  });

  it('a page restored from the back/forward cache reads the cookies of now', async () => {
    // Playwright switches the back/forward cache off by default; this browser keeps it.
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS], ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    try {
      const bfSteps = ['login', 'fresh', 'back', 'logout', 'back'];
      const direct = await visit(browser, `${site.origin}/fresh`, bfSteps);
      // The restored page heard pageshow with persisted (the real site's cache), the second time signed out.
      expect(direct.at(-1)).toBe('login: run user=alice / pageshow false user=alice / pageshow true user=alice / pageshow true ');
      const session = await createSession(site.t, `${site.origin}/fresh`);
      expect(await visit(browser, session.hostUrl, bfSteps)).toEqual(direct);
    } finally {
      await browser.close();
    }
  });
});
