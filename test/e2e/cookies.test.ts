import { describe, expect, it } from 'vitest';
import { mirrorBody, newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

async function login(page: import('playwright-core').Page, name: string): Promise<void> {
  await page.goto(`${new URL(page.url()).origin}/login`);
  await page.fill('#username', name);
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(/\/account$/), page.click('#login-form [type="submit"]')]);
}

describe('document.cookie backed by the session jar', () => {
  it('a cookie written by script is in the jar before the next request, and HttpOnly cookies stay invisible', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await login(host.page, 'erin');

    const seen = await host.page.evaluate(async () => {
      document.cookie = 'theme=dark; path=/';
      const echo = (await (await fetch('/api/echo')).json()) as { cookie: string };
      return { script: document.cookie, upstream: echo.cookie };
    });
    expect(seen.script).toContain('theme=dark');
    expect(seen.script).not.toContain('demo_session');
    expect(seen.upstream).toContain('theme=dark');
    expect(seen.upstream).toContain('demo_session=');

    // A script cannot overwrite an HttpOnly cookie; the login survives.
    await host.page.evaluate(() => {
      document.cookie = 'demo_session=forged; path=/';
    });
    await host.page.goto(`${new URL(host.page.url()).origin}/account`);
    expect(await host.page.textContent('#account-name')).toContain('erin');

    // Deleting through document.cookie works as in a env.browser.
    const afterDelete = await host.page.evaluate(() => {
      document.cookie = 'theme=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
      return document.cookie;
    });
    expect(afterDelete).not.toContain('theme=');
    await host.context.close();
  });

  it('a jar change made by a response shows in document.cookie of the open page within a second', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    // A request from outside the page's own script (here: another tab of the host) changes the jar.
    const other = await host.context.newPage();
    await other.goto(`${new URL(host.page.url()).origin}/api/set-cookie?name=lang&value=fr`);
    await expect.poll(() => host.page.evaluate(() => document.cookie), { timeout: 2000 }).toContain('lang=fr');
    await host.context.close();
  });
});

describe('one jar per session', () => {
  it('a login is shared by every participant of the session and by nobody else', async () => {
    const a = await createSession(env.t, `${env.t.demoOrigin}/`);
    const hostA = await newParticipant(env.browser);
    await hostA.page.goto(a.hostUrl);
    await login(hostA.page, 'frank');

    // A follower of A joins after the login and sees the logged-in page.
    const followerA = await newParticipant(env.browser);
    await followerA.page.goto(a.joinUrl);
    await expect.poll(() => mirrorBody(followerA.page)).toContain('Signed in as frank');

    // Session B on the same site is not logged in, even in the same env.browser profile.
    const b = await createSession(env.t, `${env.t.demoOrigin}/account`);
    const hostB = await hostA.context.newPage();
    await hostB.goto(b.hostUrl);
    await hostB.waitForURL(/\/login$/);

    // Logout by A's host is seen by A's follower.
    await Promise.all([hostA.page.waitForURL(/\/$/), hostA.page.click('nav form button[type="submit"]')]);
    await expect.poll(() => mirrorBody(followerA.page)).toContain('Sign in');
    await Promise.all([hostA.context.close(), followerA.context.close()]);
  });

  it("every participant's requests go upstream with the host's User-Agent and Accept-Language", async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/`);
    const hostContext = await env.browser.newContext({ userAgent: 'HostBrowser/1.0', locale: 'fr-FR' });
    const host = await hostContext.newPage();
    await host.goto(session.hostUrl);
    const followerContext = await env.browser.newContext({ userAgent: 'FollowerBrowser/2.0', locale: 'de-DE' });
    const follower = await followerContext.newPage();
    await follower.goto(session.observeUrl);
    // A follower's view loads the page's assets only (a style sheet here); data such as /api/echo is refused to it.
    const echo = await follower.evaluate(async () => JSON.parse((await (await fetch('/api/echo.css')).text()).slice(3, -3)));
    expect(await follower.evaluate(async () => (await fetch('/api/echo')).status)).toBe(403);
    expect(echo).toMatchObject({ userAgent: 'HostBrowser/1.0' });
    expect(String((echo as { acceptLanguage: string }).acceptLanguage)).toMatch(/^fr/);
    await Promise.all([hostContext.close(), followerContext.close()]);
  });
});
