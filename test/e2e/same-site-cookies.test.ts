// SameSite through the gateway, in real Chromium. Every proxied host is a subdomain of the
// gateway's host, so for the browser the session's sites are one site: the session's jar applies
// SameSite itself (gateway/same-site.ts). Two allowed sites of two registrable domains
// (site-a.localhost, site-b.localhost); B sets a Strict, a Lax, a None and a cookie without
// SameSite (Lax by default, as in Chromium), and a SameSite=None cookie without Secure (refused
// by Chromium). The same clicks are made on the real sites (in a Chromium profile that allows
// third-party cookies, as Chrome's default profile does; a fresh Playwright context blocks them,
// as incognito windows do) and through the gateway, and B must receive the same cookies both ways
// (but for one documented difference: B's own image through a redirect by A).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CHROMIUM_PATH, newParticipant } from '../helpers/browser.js';
import { CHROMIUM_FLAGS } from '../helpers/chromium-flags.js';
import { createSession } from '../helpers/gateway.js';
import { cookieNames, html, pixel, requestTag, sharedRoute, useTwoDomains } from '../helpers/two-domains.js';

/** Cookie names B received, by the `tag` of the request (the first request of a tag). */
const seen = new Map<string, { method: string; cookies: string[] }>();
const a = () => env.sites.a();
const b = () => env.sites.b();

/** Records what B received with a tag (the first request of each tag). */
function record(req: IncomingMessage): ReturnType<typeof requestTag> {
  const { host, url, tag } = requestTag(req);
  if (host === 'site-b.localhost' && tag !== null && !seen.has(tag)) seen.set(tag, { method: req.method ?? '', cookies: cookieNames(req.headers.cookie) });
  return { host, url, tag };
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  const { host, url, tag } = record(req);
  // Request bodies (the form's) are read to the end before answering.
  req.resume();
  req.on('end', () => {
    if (sharedRoute(url, res)) return;
    if (host === 'site-a.localhost' && url.pathname === '/page') {
      return html(
        res,
        `<p id="a-page">A</p>
<img id="img" src="${b()}/pixel.png?tag=img">
<link rel="stylesheet" href="${b()}/style.css?img=${encodeURIComponent('/pixel.png?tag=b-style-img')}">
<iframe id="frame" src="${b()}/frame?tag=iframe"></iframe>
<a id="link" href="${b()}/landing?tag=link">to B</a>
<form id="form" method="post" action="${b()}/landing?tag=form"><input name="x" value="1"><button id="submit">post to B</button></form>
<script>new WebSocket(${JSON.stringify(`${b().replace('http:', 'ws:')}/socket?tag=ws`)}).onmessage = (ev) => { document.title = ev.data; };</script>`,
      );
    }
    if (host !== 'site-b.localhost') return res.writeHead(404).end();
    switch (url.pathname) {
      case '/set':
        return html(res, `<p id="set">cookies set</p><a id="to-a" href="${a()}/page">to A</a>`, {
          'set-cookie': [
            'strict=1; SameSite=Strict; Path=/',
            'lax=1; SameSite=Lax; Path=/',
            'none=1; SameSite=None; Secure; Path=/',
            'default=1; Path=/',
            // Refused by Chromium (SameSite=None needs Secure), by the jar too.
            'insecure_none=1; SameSite=None; Path=/',
          ],
        });
      case '/echo':
        res.writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': req.headers.origin ?? '*',
          'access-control-allow-credentials': 'true',
          vary: 'Origin',
          'cache-control': 'no-store',
          // A cross-site response may set SameSite=None cookies only.
          ...(url.searchParams.has('plant')
            ? { 'set-cookie': ['planted_lax=1; SameSite=Lax; Path=/', 'planted_default=1; Path=/', 'planted_none=1; SameSite=None; Secure; Path=/'] }
            : {}),
        });
        return res.end('{"ok":true}');
      case '/pixel.png':
        return pixel(res);
      case '/frame':
        return html(res, '<p id="framed">B in a frame</p>');
      case '/landing':
        return html(
          res,
          `<p id="landed">B landing</p><p id="landed-${tag}">${tag}</p><img src="/pixel.png?tag=own-img-${tag}">
<link rel="stylesheet" href="${a()}/style.css?img=${encodeURIComponent(`${b()}/pixel.png?tag=own-img-a-style-${tag}`)}">
<img src="${a()}/redirect?to=${encodeURIComponent(`${b()}/pixel.png?tag=own-img-via-a-${tag}`)}">
<a id="via-a" href="${a()}/redirect?to=${encodeURIComponent(`${b()}/landing?tag=via-a`)}">back to B through A</a>`,
        );
      default:
        return res.writeHead(404).end();
    }
  });
}

/** Both sites on one server (and B's WebSocket), a gateway that allows both, one Chromium. */
const sockets = new WebSocketServer({ noServer: true });
const env = useTwoDomains(serve, (server) =>
  server.on('upgrade', (req, socket, head) => {
    record(req);
    sockets.handleUpgrade(req, socket, head, (ws) => ws.send('socket open'));
  }),
);
afterAll(() => {
  for (const ws of sockets.clients) ws.terminate();
});

async function tagged(tag: string): Promise<{ method: string; cookies: string[] }> {
  await expect.poll(() => seen.has(tag), { timeout: 10_000 }).toBe(true);
  return seen.get(tag)!;
}

/** What B received and what its scripts saw, the same clicks starting at `entry` (B's /set, directly or as a session's host URL). */
async function scenario(page: Page, entry: string) {
  seen.clear();
  await page.goto(entry);
  await page.waitForSelector('#set');
  // A page of A (another site): its image and frame of B, then a credentialed fetch of B.
  await Promise.all([page.waitForSelector('#a-page'), page.click('#to-a')]);
  const img = await tagged('img');
  // An image of B in B's style sheet on A's page (the Referer is B's style sheet).
  const imgOfBStyle = await tagged('b-style-img');
  const iframe = await tagged('iframe');
  // A's page opens a WebSocket to B.
  const ws = await tagged('ws');
  await expect.poll(() => page.title()).toBe('socket open');
  const frame = page.frames().find((f) => f.url().includes('/frame?tag=iframe'));
  await frame?.waitForSelector('#framed');
  const frameCookies = cookieNames(await frame?.evaluate(() => document.cookie));
  const fetched = await page.evaluate(async (u) => (await fetch(u, { credentials: 'include' })).ok, `${b()}/echo?tag=fetch&plant=1`);
  expect(fetched).toBe(true);
  const credentialedFetch = await tagged('fetch');
  // A form's POST to B: a top-level navigation, but not a safe method.
  await Promise.all([page.waitForSelector('#landed'), page.click('#submit')]);
  const form = await tagged('form');
  await page.goBack();
  await page.waitForSelector('#a-page');
  // A link to B: a top-level GET navigation.
  await Promise.all([page.waitForSelector('#landed'), page.click('#link')]);
  const link = await tagged('link');
  // B's own page: its image, its image in A's style sheet (the Referer is A's style sheet), its
  // image through a redirect by A, its credentialed fetch and document.cookie.
  const ownImg = await tagged('own-img-link');
  const ownImgOfAStyle = await tagged('own-img-a-style-link');
  const ownImgViaA = await tagged('own-img-via-a-link');
  await page.evaluate(async () => (await fetch('/echo?tag=own-fetch', { credentials: 'include' })).ok);
  const ownFetch = await tagged('own-fetch');
  const script = cookieNames(await page.evaluate(() => document.cookie));
  // A link of B's page back to B through a redirect by A.
  await Promise.all([page.waitForSelector('#landed-via-a'), page.click('#via-a')]);
  const linkViaA = await tagged('via-a');
  return { img, imgOfBStyle, iframe, frameCookies, ws, fetch: credentialedFetch, form, link, ownImg, ownImgOfAStyle, ownImgViaA, ownFetch, script, linkViaA };
}

/** The scenario on the real sites, in a Chromium profile of its own that allows third-party cookies. */
async function onTheRealSites() {
  const dir = mkdtempSync(join(tmpdir(), 'same-site-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS] });
  try {
    return await scenario(context.pages()[0] ?? (await context.newPage()), `${b()}/set`);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('SameSite cookies in the session jar', () => {
  it('B gets only its SameSite=None cookie from A (fetch, image, frame; a form POST adds fresh Lax-by-default ones), Lax and None on a link, all on its own pages', async () => {
    const real = await onTheRealSites();

    const session = await createSession(env.t, `${b()}/set`);
    const host = await newParticipant(env.browser);
    const proxied = await scenario(host.page, session.hostUrl);
    expect(host.errors).toEqual([]);
    await host.context.close();

    const own = ['default', 'lax', 'none', 'planted_none', 'strict'];
    const expected: Omit<typeof real, 'ownImgViaA'> = {
      img: { method: 'GET', cookies: ['none'] },
      // The page (A) decides, not the style sheet that names the image (B, the Referer).
      imgOfBStyle: { method: 'GET', cookies: ['none'] },
      iframe: { method: 'GET', cookies: ['none'] },
      // A page framed by another site sees its SameSite=None cookies only.
      frameCookies: ['none'],
      ws: { method: 'GET', cookies: ['none'] },
      fetch: { method: 'GET', cookies: ['none'] },
      // Chromium's Lax+POST: a cookie without SameSite goes with a top-level POST in its first two minutes.
      form: { method: 'POST', cookies: ['default', 'none', 'planted_none'] },
      // Lax and without SameSite (Lax by default) go on a top-level GET; Strict does not.
      link: { method: 'GET', cookies: ['default', 'lax', 'none', 'planted_none'] },
      // The cross-site fetch's answer set planted_none, not planted_lax nor planted_default.
      ownImg: { method: 'GET', cookies: own },
      // The page (B) decides, not the style sheet that names the image (A, the Referer).
      ownImgOfAStyle: { method: 'GET', cookies: own },
      ownFetch: { method: 'GET', cookies: own },
      // document.cookie of a top-level page has its site's Strict cookies, however it was reached.
      script: own,
      // Chromium's cookies do not look at the redirect chain (its Sec-Fetch-Site does: cross-site):
      // a navigation started by B's page gets B's cookies, Strict included.
      linkViaA: { method: 'GET', cookies: own },
    };
    for (const [what, cookies] of Object.entries(expected)) {
      expect.soft(proxied[what as keyof typeof proxied], `through the gateway: ${what}`).toEqual(cookies);
      // What Chromium itself does with the real sites.
      expect.soft(real[what as keyof typeof real], `on the real sites: ${what}`).toEqual(cookies);
    }
    // What the gateway does not reproduce (gateway/same-site.ts, isSameSiteRequest): B's own image
    // through a redirect by A has the facts of imgOfBStyle (Sec-Fetch-Site same-site between two
    // proxied hosts, a Referer of B's origin), so it gets SameSite=None cookies only. Chromium
    // sends it every cookie, the redirect chain not counting for cookies.
    expect.soft(proxied.ownImgViaA, 'through the gateway: ownImgViaA').toEqual({ method: 'GET', cookies: ['none', 'planted_none'] });
    expect.soft(real.ownImgViaA, 'on the real sites: ownImgViaA').toEqual({ method: 'GET', cookies: own });
  });
});
