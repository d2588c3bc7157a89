// Fetch Metadata through the gateway, in real Chromium. Every proxied host is a subdomain of the
// gateway's host, so the browser computes Sec-Fetch-Site between proxied hosts: a request from a
// page of site A to site B says `same-site` to the gateway whatever A and B really are. A site
// that rejects cross-site requests by their Fetch Metadata would be fooled, so the gateway
// rebuilds Sec-Fetch-Site from the real initiator and the real target (gateway/same-site.ts,
// upstreamFetchSite). Two allowed sites of two registrable domains (site-a.localhost,
// site-b.localhost, both potentially trustworthy, so Chromium sends them Fetch Metadata); the same
// clicks are made on the real sites and through the gateway, and B must receive the same
// Sec-Fetch-Site, -Mode, -Dest and -User both ways.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { html, pixel, requestTag, sharedRoute, useTwoDomains } from '../helpers/two-domains.js';

interface Metadata {
  method: string;
  site: string | undefined;
  mode: string | undefined;
  dest: string | undefined;
  user: string | undefined;
}

/** The Fetch Metadata B received, by the `tag` of the request (the first request of a tag). */
const seen = new Map<string, Metadata>();
const a = () => env.sites.a();
const b = () => env.sites.b();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const { host, url, tag } = requestTag(req);
  if (host === 'site-b.localhost' && tag !== null && !seen.has(tag)) {
    const h = (name: string) => req.headers[name] as string | undefined;
    seen.set(tag, { method: req.method ?? '', site: h('sec-fetch-site'), mode: h('sec-fetch-mode'), dest: h('sec-fetch-dest'), user: h('sec-fetch-user') });
  }
  req.resume();
  req.on('end', () => {
    if (sharedRoute(url, res)) return;
    if (host === 'site-a.localhost' && url.pathname === '/page') {
      return html(
        res,
        `<p id="a-page">A</p>
<img id="img" src="${b()}/pixel.png?tag=img">
<img id="img-noreferrer" referrerpolicy="no-referrer" src="${b()}/pixel.png?tag=img-noreferrer">
<img id="img-redirect" src="${a()}/redirect?to=${encodeURIComponent(`${b()}/pixel.png?tag=img-redirect`)}">
<link rel="stylesheet" href="${b()}/style.css?img=${encodeURIComponent('/pixel.png?tag=b-style-img')}">
<a id="link" href="${b()}/landing?tag=link">to B</a>
<form id="form" method="post" action="${b()}/landing?tag=form"><input name="x" value="1"><button id="submit">post to B</button></form>`,
      );
    }
    if (host !== 'site-b.localhost') return res.writeHead(404).end();
    switch (url.pathname) {
      case '/start':
        return html(res, `<p id="start">B</p><a id="to-a" href="${a()}/page">to A</a>`);
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': req.headers.origin ?? '*', 'cache-control': 'no-store' });
        return res.end('{"ok":true}');
      case '/pixel.png':
        return pixel(res);
      case '/landing':
        return html(
          res,
          `<p id="landed">B landing</p><p id="landed-${tag}">${tag}</p>
<img src="/pixel.png?tag=own-img-${tag}">
<link rel="stylesheet" href="${a()}/style.css?img=${encodeURIComponent(`${b()}/pixel.png?tag=own-img-a-style-${tag}`)}">
<a id="via-a" href="${a()}/redirect?to=${encodeURIComponent(`${b()}/landing?tag=via-a`)}">back to B through A</a>
<img referrerpolicy="no-referrer" src="/pixel.png?tag=own-img-noreferrer-${tag}">
<img src="${a()}/redirect?to=${encodeURIComponent(`${b()}/pixel.png?tag=own-img-via-a-${tag}`)}">`,
        );
      default:
        return res.writeHead(404).end();
    }
  });
}

/** Both sites on one server, a gateway that allows both, one Chromium. */
const env = useTwoDomains(serve);

async function tagged(tag: string): Promise<Metadata> {
  await expect.poll(() => seen.has(tag), { timeout: 10_000 }).toBe(true);
  return seen.get(tag)!;
}

/** What B received, the same clicks starting at `entry` (B's /start, directly or as a session's host URL). */
async function scenario(page: Page, entry: string) {
  seen.clear();
  // (1) B's page, typed by the user.
  await page.goto(entry);
  await page.waitForSelector('#start');
  const load = await tagged('load');
  // A page of A (another site): its images of B, then a fetch of B.
  await Promise.all([page.waitForSelector('#a-page'), page.click('#to-a')]);
  const img = await tagged('img');
  const imgNoReferrer = await tagged('img-noreferrer');
  const imgRedirect = await tagged('img-redirect');
  const imgOfBStyle = await tagged('b-style-img');
  const fetched = await page.evaluate(async (u) => (await fetch(u)).ok, `${b()}/echo?tag=fetch`);
  expect(fetched).toBe(true);
  const fetchFromA = await tagged('fetch');
  // A form's POST to B.
  await Promise.all([page.waitForSelector('#landed'), page.click('#submit')]);
  const form = await tagged('form');
  await page.goBack();
  await page.waitForSelector('#a-page');
  // A link from A to B.
  await Promise.all([page.waitForSelector('#landed'), page.click('#link')]);
  const link = await tagged('link');
  // B's own page: its images (one without Referer, one through a redirect by A) and its fetch.
  const ownImg = await tagged('own-img-link');
  const ownImgNoReferrer = await tagged('own-img-noreferrer-link');
  const ownImgViaA = await tagged('own-img-via-a-link');
  const ownImgOfAStyle = await tagged('own-img-a-style-link');
  await page.evaluate(async () => (await fetch('/echo?tag=own-fetch')).ok);
  const ownFetch = await tagged('own-fetch');
  // A link of B's page back to B through a redirect by A.
  await Promise.all([page.waitForSelector('#landed-via-a'), page.click('#via-a')]);
  const linkViaA = await tagged('via-a');
  return {
    load,
    img,
    imgNoReferrer,
    imgRedirect,
    imgOfBStyle,
    fetchFromA,
    form,
    link,
    ownImg,
    ownImgNoReferrer,
    ownImgViaA,
    ownImgOfAStyle,
    ownFetch,
    linkViaA,
  };
}

describe('Fetch Metadata sent to the real sites', () => {
  it('B receives the Sec-Fetch-Site (and -Mode, -Dest, -User) it receives when the pages are loaded directly', async () => {
    const direct = await newParticipant(env.browser);
    const real = await scenario(direct.page, `${b()}/start?tag=load`);
    await direct.context.close();

    const session = await createSession(env.t, `${b()}/start?tag=load`);
    const host = await newParticipant(env.browser);
    const proxied = await scenario(host.page, session.hostUrl);
    expect(host.errors).toEqual([]);
    await host.context.close();

    const image = { method: 'GET', mode: 'no-cors', dest: 'image', user: undefined };
    const navigation = { mode: 'navigate', dest: 'document', user: '?1' };
    const expected: Record<keyof typeof real, Metadata> = {
      // (1) Typed by the user.
      load: { method: 'GET', site: 'none', ...navigation },
      // (3) Images of B on A's page: with a Referer, without one (the browser said same-site, the
      // real site is unknown: cross-site), and through a redirect by A.
      img: { site: 'cross-site', ...image },
      imgNoReferrer: { site: 'cross-site', ...image },
      imgRedirect: { site: 'cross-site', ...image },
      // An image of B in B's style sheet on A's page: A's page decides, not the style sheet (the Referer).
      imgOfBStyle: { site: 'cross-site', ...image },
      // (2) A fetch from A's page.
      fetchFromA: { method: 'GET', site: 'cross-site', mode: 'cors', dest: 'empty', user: undefined },
      form: { method: 'POST', site: 'cross-site', ...navigation },
      // (4) A link from A to B.
      link: { method: 'GET', site: 'cross-site', ...navigation },
      // B's own images: same-origin with or without a Referer; through a redirect by A, cross-site
      // (Chromium takes the least trusted of the redirect chain).
      ownImg: { site: 'same-origin', ...image },
      ownImgNoReferrer: { site: 'same-origin', ...image },
      ownImgViaA: { site: 'cross-site', ...image },
      // B's own image in A's style sheet: same-origin, the style sheet (the Referer) does not count.
      ownImgOfAStyle: { site: 'same-origin', ...image },
      // (5) A same-origin fetch from B's page.
      ownFetch: { method: 'GET', site: 'same-origin', mode: 'cors', dest: 'empty', user: undefined },
      // A link of B's page back to B through a redirect by A: cross-site (the cookies of this
      // navigation are B's, Strict included: test/e2e/same-site-cookies.test.ts).
      linkViaA: { method: 'GET', site: 'cross-site', ...navigation },
    };
    for (const [what, metadata] of Object.entries(expected)) {
      expect.soft(proxied[what as keyof typeof proxied], `through the gateway: ${what}`).toEqual(metadata);
      // What Chromium itself sends to the real sites.
      expect.soft(real[what as keyof typeof real], `on the real sites: ${what}`).toEqual(metadata);
    }
  });
});
