// Login flows across two allowed origins through the gateway, seen by every participant.

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, mirrorBody, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { type LoginSites, startLoginSites } from '../helpers/login-sites.js';

let sites: LoginSites;
let t: TestGateway;
let browser: Browser;

beforeAll(async () => {
  sites = await startLoginSites();
  t = await startTestGateway({
    sites: [
      { url: sites.appOrigin, name: 'App' },
      { url: sites.idpOrigin, name: 'Identity' },
    ],
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await sites?.close();
});

describe('login across two origins', () => {
  it('a redirect-based login through an identity host leaves the session logged in on both hosts', async () => {
    const session = await createSession(t, `${sites.appOrigin}/home`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    // /home -> /login -> identity host (another proxied host of the session)
    await host.page.waitForSelector('#idp-form');
    expect(new URL(host.page.url()).hostname).toMatch(new RegExp(`^o2--${session.id}\\.`));

    const follower = await newParticipant(browser);
    await follower.page.goto(session.joinUrl);
    await expect.poll(() => mirrorBody(follower.page)).toContain('Identity');

    await host.page.fill('#idp-user', 'grace');
    await Promise.all([host.page.waitForURL(/\/home$/), host.page.click('#idp-submit')]);
    expect(await host.page.textContent('#app-user')).toBe('App user: grace');
    expect(new URL(host.page.url()).hostname).toMatch(new RegExp(`^o1--${session.id}\\.`));
    await expect.poll(() => mirrorBody(follower.page)).toContain('App user: grace');

    // Both hosts' cookies are in the session's jar: a late joiner's view and a fresh login both work.
    const late = await newParticipant(browser);
    await late.page.goto(session.observeUrl);
    await expect.poll(() => mirrorBody(late.page)).toContain('App user: grace');
    await host.page.goto(`${new URL(host.page.url()).origin}/login`);
    await host.page.waitForURL(/\/home$/);
    expect(await host.page.textContent('#app-user')).toBe('App user: grace');
    await Promise.all([host.context.close(), follower.context.close(), late.context.close()]);
  });

  it('a login in a popup window posts its result back to its opener', async () => {
    const session = await createSession(t, `${sites.appOrigin}/popup-login`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const [popup] = await Promise.all([host.page.waitForEvent('popup'), host.page.click('#popup-button')]);
    await popup.waitForSelector('#idp-form');
    expect(new URL(popup.url()).hostname).toMatch(new RegExp(`^o2--${session.id}\\.`));
    await popup.fill('#idp-user', 'heidi');
    await popup.click('#idp-submit');
    await expect.poll(() => host.page.textContent('#popup-result')).toBe('Popup user: heidi');
    await host.context.close();
  });
});
