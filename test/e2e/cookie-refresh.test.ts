// document.cookie read back right after the page wrote it, while a refresh of the jar's view was on
// its way, in a real Chromium through a real gateway. Every change of the jar tells the live page
// to read its view again (a fetch); a write of the page answers with the view at once. A refresh
// answered by the gateway before a write but delivered after it put the older view back, and the
// cookie just written was gone from document.cookie until the next change (CI saw a frame's cookie
// missing this way under load). Here the first refresh's answer is held until the page wrote again.

import type { Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

describe('document.cookie and the refreshes of the jar’s view', () => {
  it('a cookie written while an older view was on its way stays in document.cookie', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction(() => (window as unknown as { __cobrowse?: { connection?: unknown } }).__cobrowse?.connection !== undefined);

    // The first refresh (a GET by fetch) is answered by the gateway at once and handed to the page only on release.
    let answered: () => void = () => {};
    const fetched = new Promise<void>((resolve) => {
      answered = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    await host.page.route(
      (url) => url.pathname === '/__cobrowse/cookies',
      async (route: Route) => {
        const req = route.request();
        if (held || req.method() !== 'GET' || req.resourceType() !== 'fetch') {
          await route.continue();
          return;
        }
        held = true;
        // Fetched from here (Node resolves no *.localhost names): to 127.0.0.1, with the proxied host's name.
        const url = new URL(req.url());
        const response = await route.fetch({
          url: `http://127.0.0.1:${url.port}${url.pathname}${url.search}`,
          headers: { ...(await req.allHeaders()), host: url.host },
        });
        answered();
        await released;
        await route.fulfill({ response });
      },
    );

    // A write: the jar changes, the hub tells the page, its refresh goes out (and is held).
    await host.page.evaluate(() => {
      document.cookie = 'first=1; path=/';
    });
    await fetched;
    // A second write after the gateway answered that refresh; its own refresh comes back before the held one.
    await host.page.evaluate(() => {
      document.cookie = 'second=1; path=/';
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await host.page.evaluate(() => document.cookie)).toContain('second=1');
    release();
    await new Promise((r) => setTimeout(r, 800));
    const names = (await host.page.evaluate(() => document.cookie)).split(/;\s*/).map((c) => c.split('=')[0]);
    expect(names).toContain('first');
    expect(names).toContain('second');
    await host.context.close();
  });
});
