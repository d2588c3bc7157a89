// Control, masking, scroll, scaling and reconnects, with real browsers in independent profiles.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { converge, mirrorBody, newParticipant, recordFrames } from '../helpers/browser.js';
import { createSession, startTestGateway } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

function mirrorValue(page: Page, selector: string): Promise<string | boolean | null> {
  return page.evaluate(
    ([sel]) => {
      const el = (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentDocument?.querySelector(sel ?? '') as HTMLInputElement | null;
      if (!el) return null;
      return el.type === 'checkbox' ? el.checked : el.value;
    },
    [selector],
  );
}

async function startShared(path: string) {
  const session = await createSession(env.t, `${env.t.demoOrigin}${path}`);
  const host = await newParticipant(env.browser);
  await host.page.goto(session.hostUrl);
  const controller = await newParticipant(env.browser);
  await controller.page.goto(session.joinUrl);
  await converge(controller.page, host.page);
  return { session, host, controller };
}

describe('control from the mirror', () => {
  it('a controller clicks and navigates the host page; an observer cannot', async () => {
    const { session, host, controller } = await startShared('/products');
    const mirror = controller.page.frameLocator('#cobrowse-mirror');
    await mirror.locator('#add-item').click();
    await expect.poll(() => host.page.locator('#items li').count()).toBe(4);
    await converge(controller.page, host.page);

    const observer = await newParticipant(env.browser);
    await observer.page.goto(session.observeUrl);
    await converge(observer.page, host.page);
    await observer.page.frameLocator('#cobrowse-mirror').locator('#add-item').click();
    await new Promise((r) => setTimeout(r, 300));
    expect(await host.page.locator('#items li').count()).toBe(4);
    expect(await observer.page.isHidden('#cobrowse-nav')).toBe(true);

    // Navigation by the controller: a link in the mirror, then the address bar, then Back.
    await mirror.locator('nav a[href="/about"]').click();
    await host.page.waitForURL(/\/about$/);
    await converge(controller.page, host.page);
    await controller.page.fill('#cobrowse-url', '/products?sort=price');
    await controller.page.press('#cobrowse-url', 'Enter');
    await host.page.waitForURL(/\/products\?sort=price$/);
    await converge(controller.page, host.page);
    await controller.page.click('#cobrowse-back');
    await host.page.waitForURL(/\/about$/);
    await converge(observer.page, host.page);

    expect([...host.errors, ...controller.errors, ...observer.errors]).toEqual([]);
    await Promise.all([host.context.close(), controller.context.close(), observer.context.close()]);
  });

  it('typing by a controller reaches the host page; the form POST is submitted once, by the host', async () => {
    const { host, controller } = await startShared('/login');
    const mirror = controller.page.frameLocator('#cobrowse-mirror');
    await mirror.locator('#username').pressSequentially('bob', { delay: 20 });
    await expect.poll(() => host.page.inputValue('#username')).toBe('bob');
    await host.page.fill('#password', 'demo');
    await expect.poll(() => mirrorValue(controller.page, '#password')).toBe('••••••••');

    // The controller cannot type into the masked field.
    await mirror.locator('#password').pressSequentially('xyz');
    await new Promise((r) => setTimeout(r, 200));
    expect(await host.page.inputValue('#password')).toBe('demo');

    const postsBefore = env.t.logs.filter((l) => l.msg === 'proxied' && l.method === 'POST').length;
    await mirror.locator('#username').press('Enter');
    await host.page.waitForURL(/\/account$/);
    await converge(controller.page, host.page);
    expect(env.t.logs.filter((l) => l.msg === 'proxied' && l.method === 'POST').length - postsBefore).toBe(1);
    expect(await mirrorBody(controller.page)).toContain('Signed in as bob');

    // A checkbox and a textarea through the mirror.
    await mirror.locator('#newsletter').click();
    await expect.poll(() => host.page.isChecked('#newsletter')).toBe(true);
    await expect.poll(() => mirrorValue(controller.page, '#newsletter')).toBe(true);
    await mirror.locator('#note-field').fill('call me after 5');
    await expect.poll(() => host.page.inputValue('#note-field')).toBe('call me after 5');
    await Promise.all([host.context.close(), controller.context.close()]);
  });
});

describe('masking', () => {
  it('no masked value ever reaches the gateway or a follower', async () => {
    const frames: string[] = [];
    const session = await createSession(env.t, `${env.t.demoOrigin}/login`);
    const host = await newParticipant(env.browser);
    recordFrames(host.page, frames);
    await host.page.goto(session.hostUrl);
    const follower = await newParticipant(env.browser);
    recordFrames(follower.page, frames);
    await follower.page.goto(session.joinUrl);
    await converge(follower.page, host.page);

    const secrets = ['Hunter2-Secret', '4242 4242 4242 4242', '5555555555554444', '4111 1111 1111 1111', '4111111111111111'];
    await host.page.fill('#username', 'carol');
    await host.page.locator('#password').pressSequentially('Hunter2-Secret', { delay: 5 });
    await expect.poll(() => mirrorValue(follower.page, '#password')).toBe('••••••••');
    await host.page.fill('#password', 'demo');
    await Promise.all([host.page.waitForURL(/\/account$/), host.page.click('#login-form [type="submit"]')]);
    await host.page.locator('#card').pressSequentially('4242 4242 4242 4242', { delay: 5 });
    await host.page.fill('#phone', '5555555555554444');
    await converge(follower.page, host.page);
    await expect.poll(() => mirrorValue(follower.page, '#card')).toBe('••••••••');
    await expect.poll(() => mirrorValue(follower.page, '#phone')).toBe('••••••••');
    expect(await mirrorBody(follower.page)).not.toContain('4111');

    // A late joiner's snapshot is masked too.
    const late = await newParticipant(env.browser);
    recordFrames(late.page, frames);
    await late.page.goto(session.observeUrl);
    await expect.poll(() => mirrorValue(late.page, '#card')).toBe('••••••••');

    const logText = JSON.stringify(env.t.logs);
    expect(frames.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      for (const frame of frames) expect(frame.includes(secret), `frame leaks ${secret}`).toBe(false);
      expect(logText.includes(secret), `log leaks ${secret}`).toBe(false);
    }
    await Promise.all([host.context.close(), follower.context.close(), late.context.close()]);
  });
});

describe('scroll, scaling and reconnects', () => {
  it('scroll goes both ways, and a smaller follower window sees the host layout scaled to fit', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);
    const host = await newParticipant(env.browser, { width: 900, height: 300 });
    await host.page.goto(session.hostUrl);
    for (let i = 0; i < 25; i++) await host.page.click('#add-item');
    const follower = await newParticipant(env.browser, { width: 450, height: 400 });
    await follower.page.goto(session.joinUrl);
    await converge(follower.page, host.page);

    const frameStyle = await follower.page.evaluate(() => {
      const f = document.getElementById('cobrowse-mirror') as HTMLIFrameElement;
      return { width: f.style.width, transform: f.style.transform };
    });
    expect(frameStyle.width).toBe('900px');
    expect(frameStyle.transform).toBe('scale(0.5)');

    await host.page.evaluate(() => window.scrollTo(0, 400));
    const mirrorScroll = () => follower.page.evaluate(() => (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentWindow?.scrollY ?? -1);
    await expect.poll(mirrorScroll).toBe(400);

    await follower.page.evaluate(() => (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentWindow?.scrollTo(0, 120));
    await expect.poll(() => host.page.evaluate(() => window.scrollY)).toBe(120);
    await Promise.all([host.context.close(), follower.context.close()]);
  });

  it('a follower whose socket the server drops reconnects and resumes from its last sequence number', async () => {
    const { session, host, controller } = await startShared('/products');
    const info = await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    const followerId = info.json<{ participants: { id: string; role: string }[] }>().participants.find((p) => p.role === 'controller')?.id ?? '';
    expect(env.t.gateway.hub.disconnect(session.id, followerId)).toBe(1);
    await host.page.click('#add-item');
    await host.page.click('#add-item');
    await converge(controller.page, host.page);
    expect(await mirrorBody(controller.page)).toContain('Item 5');
    await Promise.all([host.context.close(), controller.context.close()]);
  });
});

describe('single-page apps and host handoff', () => {
  it('a route change by history.pushState reaches followers and the session URL', async () => {
    const { session, host, controller } = await startShared('/app');
    await host.page.click('a[href="/app/details"]');
    await expect.poll(() => host.page.textContent('#spa-text')).toContain('details');
    await converge(controller.page, host.page);
    await expect.poll(() => controller.page.inputValue('#cobrowse-url')).toMatch(/\/app\/details$/);
    const info = await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    expect(info.json<{ url: string }>().url).toBe(`${env.t.demoOrigin}/app/details`);
    // Back in the host's history is a route change too.
    await controller.page.click('#cobrowse-back');
    await expect.poll(() => host.page.textContent('#spa-text')).toContain('overview');
    await converge(controller.page, host.page);
    await Promise.all([host.context.close(), controller.context.close()]);
  });
});

describe('host handoff', () => {
  it('when the host leaves, a controller takes over the live page with its form state; observers keep mirroring', async () => {
    const short = await startTestGateway({ sessions: { hostGracePeriod: '1s' } });
    try {
      const session = await createSession(short, `${short.demoOrigin}/login`);
      const host = await newParticipant(env.browser);
      await host.page.goto(session.hostUrl);
      const controller = await newParticipant(env.browser);
      await controller.page.goto(session.joinUrl);
      const observer = await newParticipant(env.browser);
      await observer.page.goto(session.observeUrl);
      await converge(controller.page, host.page);
      await controller.page.frameLocator('#cobrowse-mirror').locator('#username').fill('dana');
      await expect.poll(() => host.page.inputValue('#username')).toBe('dana');
      await converge(observer.page, host.page);

      await host.context.close();
      // The controller's env.browser now runs the page live, with the typed value restored.
      await controller.page.waitForURL(/\/login$/, { timeout: 10_000 });
      await expect.poll(() => controller.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
      await expect.poll(() => controller.page.inputValue('#username')).toBe('dana');
      await converge(observer.page, controller.page);
      await controller.page.fill('#password', 'demo');
      await Promise.all([controller.page.waitForURL(/\/account$/), controller.page.click('#login-form [type="submit"]')]);
      await converge(observer.page, controller.page);
      expect(await mirrorBody(observer.page)).toContain('Signed in as dana');

      const info = await short.call('GET', `${short.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
      const roles = info.json<{ participants: { role: string; connected: boolean }[] }>().participants;
      expect(roles.filter((p) => p.role === 'host')).toHaveLength(1);
      expect(roles.find((p) => p.role === 'host')?.connected).toBe(true);
      expect(short.logs.some((l) => l.msg === 'host handed over')).toBe(true);
      await Promise.all([controller.context.close(), observer.context.close()]);
    } finally {
      await short.close();
    }
  });
});
