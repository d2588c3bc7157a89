// Working together with three real browsers: names and roster, cursors, highlights, chat (with
// history for late joiners), control policies, host-only elements, passing the host role, ending
// the session, and the audit log. Screenshots of the UI go to test-artifacts/ for review.

import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoSite, startDemoSite } from '../../demo/site.js';
import { converge, launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ARTIFACTS = 'test-artifacts/together';
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Sends a hub message from a page, as its UI would. */
function sendFrom(page: Page, message: unknown): Promise<void> {
  return page.evaluate((m) => (window as unknown as { __cobrowse: { connection: { send(x: unknown): void } } }).__cobrowse.connection.send(m), message);
}

async function setName(page: Page, name: string): Promise<void> {
  await page.fill('#name-input', name);
  await page.press('#name-input', 'Enter');
}

function rosterText(page: Page): Promise<string> {
  return page.locator('#roster').innerText();
}

function audit(t: TestGateway, session: { id: string; adminToken: string }) {
  return t
    .call('GET', `${t.gateway.url}/api/sessions/${session.id}/audit`, { headers: { authorization: `Bearer ${session.adminToken}` } })
    .then((r) => r.json<{ entries: { event: string; role?: string; detail?: string }[] }>().entries);
}

describe('working together (anyone with control may act)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('three participants see each other, their cursors, highlights and chat; host-only elements stay the host’s', async () => {
    const session = await createSession(t, `${t.demoOrigin}/products`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    await sendFrom(host.page, { type: 'name', name: 'Hana' });
    const ctl = await newParticipant(browser);
    await ctl.page.goto(session.joinUrl);
    await setName(ctl.page, 'Cleo');
    const obs = await newParticipant(browser, { width: 800, height: 600 });
    await obs.page.goto(session.observeUrl);
    await setName(obs.page, 'Otto');
    await converge(obs.page, host.page);

    await expect.poll(() => rosterText(obs.page)).toMatch(/Hana[\s\S]*host[\s\S]*Cleo[\s\S]*controller[\s\S]*Otto \(you\)[\s\S]*observer/);

    // Cursors: the controller points at an element in the mirror; the observer sees a labeled cursor.
    const mirror = ctl.page.frameLocator('#cobrowse-mirror');
    await mirror.locator('#add-item').hover();
    await expect.poll(() => obs.page.locator('.cursor:not([hidden]) .label').allInnerTexts()).toContain('Cleo');

    // Highlight: Alt+click marks an element for everyone instead of clicking it.
    await obs.page
      .frameLocator('#cobrowse-mirror')
      .locator('h1')
      .click({ modifiers: ['Alt'] });
    await expect.poll(() => ctl.page.locator('.mark').count()).toBeGreaterThan(0);

    // A click shows a ripple to the others; Alt+drag marks an area; Alt+move is a laser pointer.
    await host.page.click('#toggle-note', { timeout: 3000 });
    await expect.poll(() => obs.page.locator('.ripple').count()).toBeGreaterThan(0);
    // (Dispatched in the mirror document: a real drag there starts the browser's own drag-and-drop.)
    await ctl.page.evaluate(() => {
      const doc = (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentDocument as Document;
      const h1 = doc.querySelector('h1') as HTMLElement;
      const r = h1.getBoundingClientRect();
      const at = (x: number, y: number): MouseEventInit => ({ bubbles: true, cancelable: true, altKey: true, clientX: r.left + x, clientY: r.top + y });
      h1.dispatchEvent(new MouseEvent('mousedown', at(5, 5)));
      h1.dispatchEvent(new MouseEvent('mousemove', at(60, 20)));
      h1.dispatchEvent(new MouseEvent('mouseup', at(150, 40)));
    });
    await expect.poll(() => obs.page.locator('.area').count()).toBeGreaterThan(0);
    await expect.poll(() => obs.page.locator('.laser').count()).toBeGreaterThan(0);

    // Chat, and its history for a late joiner.
    await ctl.page.fill('#chat-input', 'Shall we add an item?');
    await ctl.page.press('#chat-input', 'Enter');
    await expect.poll(() => obs.page.locator('#chat').innerText()).toContain('Cleo: Shall we add an item?');
    const late = await newParticipant(browser);
    await late.page.goto(session.observeUrl);
    await expect.poll(() => late.page.locator('#chat').innerText()).toContain('Cleo: Shall we add an item?');

    // A host-only element: the controller's click is refused and explained.
    await mirror.locator('#pay-now').click();
    await expect.poll(() => ctl.page.locator('#notice').innerText()).toContain('Only the host');
    expect(await host.page.textContent('#paid')).toBe('');
    await mirror.locator('#add-item').click();
    await expect.poll(() => host.page.locator('#items li').count()).toBe(4);

    // A page only the host may open: neither a link in the mirror nor the address bar takes the controller there.
    await mirror.locator('#checkout-link').click();
    await expect.poll(() => ctl.page.locator('#notice').innerText()).toContain('Only the host can open this page');
    await ctl.page.fill('#cobrowse-url', '/checkout');
    await ctl.page.press('#cobrowse-url', 'Enter');
    await new Promise((r) => setTimeout(r, 300));
    expect(new URL(host.page.url()).pathname).toBe('/products');

    // Scrolled away: the observer stops following and scrolls its mirror; the host's cursor shows on the edge.
    await host.page.evaluate(() => {
      for (let i = 0; i < 40; i++) (document.getElementById('add-item') as HTMLButtonElement).click();
    });
    await converge(obs.page, host.page);
    await obs.page.click('#follow', { timeout: 3000 });
    await host.page.mouse.move(300, 150);
    await obs.page.evaluate(() => (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentWindow?.scrollTo(0, 5000));
    await expect.poll(() => obs.page.locator('.cursor.edge').count()).toBeGreaterThan(0);

    await Promise.all([
      host.page.screenshot({ path: `${ARTIFACTS}/host.png` }),
      ctl.page.screenshot({ path: `${ARTIFACTS}/controller.png` }),
      obs.page.screenshot({ path: `${ARTIFACTS}/observer-small-window.png` }),
    ]);

    const entries = await audit(t, session);
    const events = entries.map((e) => e.event);
    expect(events.filter((e) => e === 'join').length).toBeGreaterThanOrEqual(4);
    expect(entries.some((e) => e.event === 'control' && e.detail === 'took control')).toBe(true);
    expect(entries.some((e) => e.event === 'blocked' && e.detail?.includes('Only the host'))).toBe(true);
    expect(JSON.stringify(entries)).not.toMatch(/__cobrowse=|adminToken/);
    // Leaving: the participant's view says so and the others see it away.
    await late.page.click('text=Leave', { timeout: 3000 });
    await expect.poll(() => late.page.textContent('body')).toContain('You left the cobrowsing session');
    await Promise.all([host.context.close(), ctl.context.close(), obs.context.close(), late.context.close()]);
  });
});

describe('working together (only the host acts)', () => {
  let t: TestGateway;
  let site: DemoSite;
  beforeAll(async () => {
    site = await startDemoSite();
    t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: site.origin, name: 'Shop', control: 'host-only' }] });
  });
  afterAll(async () => {
    await t?.close();
    await site?.close();
  });

  it('refuses every participant input and every control request', async () => {
    const session = await createSession(t, `${site.origin}/products`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const ctl = await newParticipant(browser);
    await ctl.page.goto(session.joinUrl);
    await converge(ctl.page, host.page);
    await expect.poll(() => ctl.page.locator('#control').innerText()).toContain('Only the host acts');
    await ctl.page.frameLocator('#cobrowse-mirror').locator('#add-item').click();
    await expect.poll(() => ctl.page.textContent('#cobrowse-status')).toContain('do not have control');
    await sendFrom(ctl.page, { type: 'control', action: 'request' });
    await expect.poll(() => ctl.page.locator('#notice').innerText()).toContain('only the host can act');
    expect(await host.page.locator('#items li').count()).toBe(3);
    await Promise.all([host.context.close(), ctl.context.close()]);
  });
});

describe('working together (request and grant)', () => {
  let t: TestGateway;
  let site: DemoSite;
  beforeAll(async () => {
    site = await startDemoSite();
    t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: site.origin, name: 'Shop', control: 'request' }] });
  });
  afterAll(async () => {
    await t?.close();
    await site?.close();
  });

  it('control is requested, granted, revoked and the host role passed on; the host ends the session for all', async () => {
    const session = await createSession(t, `${site.origin}/products`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const ctl = await newParticipant(browser);
    await ctl.page.goto(session.joinUrl);
    const obs = await newParticipant(browser);
    await obs.page.goto(session.observeUrl);
    await converge(ctl.page, host.page);
    const mirror = ctl.page.frameLocator('#cobrowse-mirror');

    // Without control, the controller's click is dropped by the gateway.
    await mirror.locator('#add-item').click();
    await expect.poll(() => ctl.page.textContent('#cobrowse-status')).toContain('do not have control');
    expect(await host.page.locator('#items li').count()).toBe(3);

    await ctl.page.click('text=Request control');
    const info = await t.call('GET', `${t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    const ctlId = info.json<{ participants: { id: string; role: string }[] }>().participants.find((p) => p.role === 'controller')?.id;
    await sendFrom(host.page, { type: 'control', action: 'grant', participantId: ctlId });
    await expect.poll(() => rosterText(obs.page)).toContain('has control');
    await mirror.locator('#add-item').click();
    await expect.poll(() => host.page.locator('#items li').count()).toBe(4);

    await sendFrom(host.page, { type: 'control', action: 'revoke' });
    await expect.poll(() => rosterText(obs.page)).not.toContain('has control');
    await mirror.locator('#add-item').click();
    await new Promise((r) => setTimeout(r, 300));
    expect(await host.page.locator('#items li').count()).toBe(4);

    // An observer cannot ask for control at all.
    await sendFrom(obs.page, { type: 'control', action: 'request' });
    await expect.poll(() => obs.page.locator('#notice').innerText()).toContain('Observers cannot take control');

    // The host passes the host role: the controller's browser runs the page now, the former host follows.
    await sendFrom(host.page, { type: 'control', action: 'make-host', participantId: ctlId });
    await expect.poll(() => ctl.page.evaluate('window.__cobrowse && window.__cobrowse.mode'), { timeout: 10_000 }).toBe('live');
    await expect.poll(() => new URL(host.page.url()).pathname, { timeout: 10_000 }).toBe('/__cobrowse/view');
    await converge(obs.page, ctl.page);

    // The (new) host ends the session: everyone is told.
    await sendFrom(ctl.page, { type: 'end' });
    await expect.poll(() => obs.page.textContent('#cobrowse-status')).toContain('ended');
    // The session and its log are gone with it.
    const gone = await t.call('GET', `${t.gateway.url}/api/sessions/${session.id}/audit`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    expect(gone.status).toBe(404);
    await Promise.all([host.context.close(), ctl.context.close(), obs.context.close()]);
  });
});
