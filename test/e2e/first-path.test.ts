import { describe, expect, it } from 'vitest';
import { converge, mirrorBody, newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

describe('one cobrowsed page end to end', () => {
  it('host and followers see the same demo page, and DOM changes reach every follower', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);

    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    const hostUrl = new URL(host.page.url());
    expect(hostUrl.hostname).toBe(`o1--${session.id}.cobrowse.localhost`);
    expect(hostUrl.pathname).toBe('/products');
    await expect.poll(() => host.page.locator('#items li').count()).toBe(3);
    expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    // The stylesheet and the image came through the gateway too.
    expect(await host.page.evaluate(`getComputedStyle(document.body).fontFamily`)).not.toBe('');

    const follower = await newParticipant(env.browser);
    await follower.page.goto(session.joinUrl);
    expect(new URL(follower.page.url()).pathname).toBe('/__cobrowse/view');
    await converge(follower.page, host.page);

    await host.page.click('#add-item');
    await host.page.click('#add-item');
    await host.page.click('#toggle-note');
    await expect.poll(() => host.page.locator('#items li').count()).toBe(5);
    await converge(follower.page, host.page);
    expect(await mirrorBody(follower.page)).toContain('Item 5');

    // A late observer gets the current state from the hub's checkpoint, not from the host.
    const observer = await newParticipant(env.browser, { width: 700, height: 500 });
    await observer.page.goto(session.observeUrl);
    await converge(observer.page, host.page);

    // Full-page navigation by the host: followers get the new page.
    await host.page.click('a[href="/about"]');
    await host.page.waitForURL(/\/about$/);
    await converge(follower.page, host.page);
    await converge(observer.page, host.page);

    const info = await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    expect(info.status).toBe(200);
    const body = info.json<{ url: string; participants: { role: string; connected: boolean }[] }>();
    expect(body.url).toBe(`${env.t.demoOrigin}/about`);
    expect(body.participants.map((p) => p.role).sort()).toEqual(['controller', 'host', 'observer']);
    expect(body.participants.every((p) => p.connected)).toBe(true);

    expect([...host.errors, ...follower.errors, ...observer.errors]).toEqual([]);
    await Promise.all([host.context.close(), follower.context.close(), observer.context.close()]);
  });

  it('a login by the host is a login for the session: followers see it, and the mirror loads with the session cookies', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/login`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.fill('#username', 'alice');
    await host.page.fill('#password', 'demo');
    await Promise.all([host.page.waitForURL(/\/account$/), host.page.click('#login-form button[type="submit"], #login-form [type="submit"]')]);
    await expect(host.page.locator('#account-name').textContent()).resolves.toContain('alice');

    const follower = await newParticipant(env.browser);
    await follower.page.goto(session.joinUrl);
    await converge(follower.page, host.page);
    expect(await mirrorBody(follower.page)).toContain('Signed in as alice');

    // The follower's own requests go through the same jar for the page's assets, but followers
    // neither read the host's pages as data (masked fields would come unmasked) nor change anything.
    const proxied = new URL(follower.page.url()).origin;
    const logo = await follower.page.evaluate(async (u) => (await fetch(u)).status, `${proxied}/static/logo.png`);
    expect(logo).toBe(200);
    const account = await follower.page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, text: await r.text() };
    }, `${proxied}/account`);
    expect(account.status).toBe(403);
    expect(account.text).not.toContain('alice');
    const logout = await follower.page.evaluate(async (u) => (await fetch(u, { method: 'POST' })).status, `${proxied}/logout`);
    expect(logout).toBe(403);

    // The env.browser never holds the site's cookies: they stay in the gateway's jar.
    const hostCookies = await host.context.cookies();
    expect(hostCookies.map((c) => c.name).sort()).toEqual(['__cobrowse', `cobrowse_${session.id}`]);
    expect(hostCookies.every((c) => c.httpOnly)).toBe(true);

    // Ending the session ends it for everyone.
    const del = await env.t.call('DELETE', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    expect(del.status).toBe(204);
    await expect.poll(() => follower.page.textContent('#cobrowse-status')).toContain('ended');
    const after = await host.page.goto(host.page.url());
    expect(after?.status()).toBe(404);
    await Promise.all([host.context.close(), follower.context.close()]);
  });

  it('a start URL with a fragment opens the host at it, and the host link re-opens the page where the host is now', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products?sort=name#items`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    const at = new URL(host.page.url());
    expect(`${at.pathname}${at.search}${at.hash}`).toBe('/products?sort=name#items');
    // The browser took the fragment as it would from the real link: the anchor is the target.
    expect(await host.page.evaluate(`document.querySelector(':target') && document.querySelector(':target').id`)).toBe('items');
    // The host moves to another anchor: the session's page follows, and the host link (same
    // browser) goes back to it.
    await host.page.evaluate(`location.hash = '#title'`);
    await expect
      .poll(
        async () =>
          (await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } })).json<{
            url: string;
          }>().url,
      )
      .toBe(`${env.t.demoOrigin}/products?sort=name#title`);
    await host.page.goto('about:blank');
    await host.page.goto(session.hostUrl);
    expect(new URL(host.page.url()).hash).toBe('#title');
    expect(host.errors).toEqual([]);
    await host.context.close();
  });

  it('the landing page starts a session and shows the three links', async () => {
    const visitor = await newParticipant(env.browser);
    await visitor.page.goto(`${env.t.gateway.url}/`);
    await expect.poll(() => visitor.page.locator('#site option').count()).toBeGreaterThan(0);
    await visitor.page.click('#start-button');
    await expect.poll(() => visitor.page.getAttribute('#hostUrl', 'href')).toMatch(/\/j\//);
    const links = await Promise.all(['#hostUrl', '#joinUrl', '#observeUrl'].map((s) => visitor.page.getAttribute(s, 'href')));
    expect(new Set(links).size).toBe(3);
    await visitor.page.goto(links[0]!);
    await expect.poll(() => visitor.page.locator('#title').textContent()).toBe('Demo Shop');

    await visitor.page.goto(`${env.t.gateway.url}/`);
    await visitor.page.fill('#url', 'https://not-allowed.example.net/');
    await visitor.page.click('#start-button');
    await expect.poll(() => visitor.page.textContent('#error')).toContain('not on this gateway');
    expect(visitor.errors).toEqual([]);
    await visitor.context.close();
  });
});
