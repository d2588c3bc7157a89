// A web app manifest whose URLs are absolute (start_url, scope and id of the site's origin, an
// icon of another origin): through the gateway Chromium ignored start_url, id and scope ("should
// be same origin as document") and the shortcut, and its icon pointed at the real origin. The
// manifest's URLs are now mapped; what Chromium reads of it (DevTools' Page.getAppManifest and
// Page.getAppId) is the same directly and through the gateway, origins apart.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const sites = useTwoSites(
  (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const a = sites.aOrigin;
    if (url.pathname === '/m.json') {
      // Served as plain JSON, as many sites do: the browser reads a manifest whatever its type.
      return res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          name: 'Shop',
          start_url: `${a}/app/start?x=1`,
          scope: `${a}/app/`,
          id: `${a}/app/id`,
          display: 'standalone',
          icons: [
            { src: `${sites.bOrigin}/icon.png`, sizes: '192x192', type: 'image/png' },
            { src: '/rel-icon.png', sizes: '512x512', type: 'image/png' },
          ],
          shortcuts: [{ name: 'Cart', url: `${a}/app/cart`, icons: [{ src: `${sites.bOrigin}/cart.png`, sizes: '96x96' }] }],
        }),
      );
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><head><link rel=manifest href="/m.json"></head><p>app`);
  },
  (_req, res) => res.writeHead(404).end(),
);

/** What Chromium read of the page's manifest, with the origins of A and B (as the page sees them) named A and B. */
async function appManifest(page: Page, a: string, b: string): Promise<unknown> {
  const cdp = await page.context().newCDPSession(page);
  await expect.poll(async () => ((await cdp.send('Page.getAppManifest' as never)) as { url: string }).url, { timeout: 10_000 }).not.toBe('');
  const read = { ...((await cdp.send('Page.getAppManifest' as never)) as Record<string, unknown>), ...((await cdp.send('Page.getAppId' as never)) as object) };
  delete read.url;
  delete read.data;
  return JSON.parse(JSON.stringify(read).replaceAll(a, 'A').replaceAll(b, 'B'));
}

describe('web app manifest', () => {
  it('reads as directly: start_url, scope, id, icons and shortcuts of the session’s origins', async () => {
    const direct = await newParticipant(sites.browser);
    await direct.page.goto(`${sites.aOrigin}/app/index`);
    const expected = await appManifest(direct.page, sites.aOrigin, sites.bOrigin);
    await direct.context.close();
    expect(expected).toMatchObject({ errors: [], appId: 'A/app/id', manifest: { startUrl: 'A/app/start?x=1', scope: 'A/app/' } });

    const session = await createSession(sites.t, `${sites.aOrigin}/app/index`);
    const proxied = await newParticipant(sites.browser);
    await proxied.page.goto(session.hostUrl);
    const a = new URL(proxied.page.url()).origin;
    // B's proxied origin, as the page's runtime maps it.
    const b = await proxied.page.evaluate(`new URL(Object.assign(document.createElement('a'), { href: ${JSON.stringify(`${sites.bOrigin}/`)} }).href).origin`);
    expect(b).not.toBe(sites.bOrigin);
    expect(await appManifest(proxied.page, a, b as string)).toEqual(expected);
    expect(proxied.errors).toEqual([]);
    await proxied.context.close();
  });
});
