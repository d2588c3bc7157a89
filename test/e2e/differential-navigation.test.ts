// Issue 3, differential harness, second part: navigations the site's script starts (location
// assignments, links whose href no setter saw, other windows and frames), framing rules
// (X-Frame-Options, frame-ancestors) and workers (importScripts, fetch inside dedicated and shared
// workers), each the same directly and through the gateway; and a location assignment to a site
// outside the allowlist, which ends at the gateway's "not allowed" page.

import { describe, expect, it } from 'vitest';
import { gatewayOwn } from '../helpers/differential.js';
import { settle, useDifferentialSuite } from '../helpers/differential-suite.js';
import { createSession } from '../helpers/gateway.js';

const suite = useDifferentialSuite();

describe('differential: navigations the page starts itself', () => {
  for (const how of ['assign', 'href', 'replace', 'window', 'self']) {
    it(`${how === 'self' ? 'a link whose href was set with setAttributeNS' : `location ${how}`} to the other origin`, async () => {
      await suite.same({
        path: '/navigate',
        run: async (page) => {
          await Promise.all([page.waitForURL(new RegExp(`how=${how}`)), page.click(`#${how}`)]);
          await settle(page.locator('#history'), /history/);
        },
      });
    });
  }

  it('a link with target=_blank whose href was set with setAttributeNS opens its popup on the gateway', async () => {
    await suite.same({
      path: '/navigate',
      run: async (page, ctx) => {
        const [popup] = await Promise.all([ctx.popup(), page.click('#blank')]);
        await settle(popup.locator('#history'), /history/);
      },
    });
  });

  it("a script navigates a same-origin frame's location to the other origin", async () => {
    await suite.same({
      path: '/navigate',
      run: async (page) => {
        await page.click('#in-frame');
        await settle(page.frameLocator('#blank-frame').locator('#history'), /history/);
      },
    });
  });
});

describe('differential: frames and workers', () => {
  it('X-Frame-Options and frame-ancestors allow and refuse the same frames', async () => {
    await suite.same({ path: '/frames' });
  });

  it('dedicated, shared and blob: workers (classic and module): importScripts and fetch to the other origin', async () => {
    await suite.same({
      path: '/workers',
      run: async (page) => {
        await settle(page.locator('#dedicated'), /lib loaded/);
        await settle(page.locator('#shared'), /lib loaded/);
        await settle(page.locator('#blob'), /items/);
        await settle(page.locator('#blob-module'), /items/);
      },
    });
  });

  it('data: workers (percent-encoded, base64, module): importScripts and fetch to the other origin do not escape', async () => {
    await suite.same({
      path: '/data-workers',
      run: async (page) => {
        for (const id of ['#percent', '#base64', '#module']) await settle(page.locator(id), /items/);
      },
    });
  });
});

describe('a location assignment to a site outside the allowlist', () => {
  it('ends at the gateway\'s "not allowed" page, and the site is never contacted', async () => {
    const { t, sites, trap, browser } = suite;
    const context = await browser.newContext({
      proxy: { server: trap.server, bypass: `<-loopback>;*.${new URL(t.gateway.url).hostname};${new URL(t.gateway.url).hostname}` },
    });
    try {
      const session = await createSession(t, `${sites.a}/navigate`);
      const page = await context.newPage();
      await page.goto(session.hostUrl);
      const before = sites.received.filter((r) => r.startsWith('elsewhere.localhost')).length;
      const [response] = await Promise.all([
        page.waitForEvent('response', (r) => r.request().isNavigationRequest() && !gatewayOwn(t)(r.url())),
        page.click('#away'),
      ]);
      expect(response.status()).toBe(403);
      expect(new URL(page.url()).host.endsWith(new URL(t.gateway.url).host)).toBe(true);
      expect(await page.textContent('body')).toContain('not allowed');
      expect(sites.received.filter((r) => r.startsWith('elsewhere.localhost')).length).toBe(before);
      expect(trap.hits).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
