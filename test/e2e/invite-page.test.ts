// The host's join links, in real Chromium: the panel's "Invite…" button opens the gateway's own
// invite page, whose links work for a second and a third browser with their roles; the proxied
// page's scripts (even with the browser's own fetch, frames and windows, out of the URL runtime's
// reach) and its hub socket get none of them; followers and strangers get a 403 page. The page's
// "New links" replaces both links (an old one gets the refusal page) and "Remove" takes a
// follower out (its view says so). "New host link" shows a host link once, which makes one more
// host in another browser and refuses a third one (a host link opens once).

import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

const secretOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

interface DomNode {
  nodeId: number;
  nodeName: string;
  nodeValue?: string;
  children?: DomNode[];
  shadowRoots?: DomNode[];
  contentDocument?: DomNode;
}

/** Clicks, with the mouse, the panel button labelled `label`: the live page's panel is in a closed shadow root, which only the DevTools protocol sees into. */
async function clickPanelButton(context: BrowserContext, page: Page, label: string): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
  const find = (node: DomNode): DomNode | null => {
    if (node.nodeName === 'BUTTON' && node.children?.some((c) => c.nodeValue === label)) return node;
    for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) {
      const found = find(child);
      if (found) return found;
    }
    return null;
  };
  const button = find(root);
  if (!button) throw new Error(`the panel has no "${label}" button`);
  const { model } = (await cdp.send('DOM.getBoxModel', { nodeId: button.nodeId })) as { model: { content: number[] } };
  const [x1 = 0, y1 = 0, , , x3 = 0, y3 = 0] = model.content;
  await page.mouse.click((x1 + x3) / 2, (y1 + y3) / 2);
  await cdp.detach();
}

/** The labels of the panel's buttons (closed shadow root included). */
async function panelButtons(context: BrowserContext, page: Page): Promise<string[]> {
  const cdp = await context.newCDPSession(page);
  const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
  const labels: string[] = [];
  const walk = (node: DomNode) => {
    if (node.nodeName === 'BUTTON') labels.push((node.children ?? []).map((c) => c.nodeValue ?? '').join(''));
    for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) walk(child);
  };
  walk(root);
  await cdp.detach();
  return labels;
}

/**
 * Runs `expression` in the page as a script of the site that got around the URL runtime would:
 * in an isolated world of the page (same origin, same cookies), whose fetch, frames and
 * window.open are the browser's own, not the runtime's.
 */
async function runAsBareScript(context: BrowserContext, page: Page, expression: string): Promise<unknown> {
  const cdp = await context.newCDPSession(page);
  const { frameTree } = (await cdp.send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } };
  const { executionContextId } = (await cdp.send('Page.createIsolatedWorld', { frameId: frameTree.frame.id, worldName: 'site-script' })) as {
    executionContextId: number;
  };
  const answer = (await cdp.send('Runtime.evaluate', { expression, contextId: executionContextId, awaitPromise: true, returnByValue: true })) as {
    result: { value?: unknown };
    exceptionDetails?: { text: string };
  };
  await cdp.detach();
  if (answer.exceptionDetails) throw new Error(`script failed: ${answer.exceptionDetails.text}`);
  return answer.result.value;
}

/** How many times the gateway served the invite page of `sessionId` (its access log). */
const invitePageRequests = (sessionId: string) => env.t.logs.filter((l) => l.host === 'gateway' && l.path === `/s/${sessionId}/invite`).length;

describe('the invite page', () => {
  it('opens from the host’s "Invite…" button; its links bring in a controller and an observer; followers and strangers get 403', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    await expect.poll(() => panelButtons(host.context, host.page)).toContain('Invite…');
    expect(await panelButtons(host.context, host.page)).not.toContain('Copy control link');

    const [popup] = await Promise.all([host.context.waitForEvent('page'), clickPanelButton(host.context, host.page, 'Invite…')]);
    await popup.waitForLoadState();
    const inviteUrl = `${env.t.gateway.url}/s/${session.id}/invite`;
    expect(popup.url()).toBe(inviteUrl);
    // noopener: the page has no way back to the proxied page.
    expect(await popup.evaluate('window.opener')).toBeNull();
    const joinUrl = await popup.inputValue('#joinUrl');
    const observeUrl = await popup.inputValue('#observeUrl');
    expect(joinUrl).toBe(session.joinUrl);
    expect(observeUrl).toBe(session.observeUrl);
    await host.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.t.gateway.url });
    await popup.click('#observeUrl-copy');
    await expect.poll(() => popup.textContent('#observeUrl-copy')).toBe('Copied');
    expect(await popup.evaluate('navigator.clipboard.readText()')).toBe(observeUrl);
    await popup.screenshot({ path: 'test-artifacts/invite-page.png' }).catch(() => {});

    // A second browser with the control link, a third with the watch link.
    const [second, third] = await Promise.all([launchBrowser(), launchBrowser()]);
    const ctl = await newParticipant(second);
    await ctl.page.goto(joinUrl);
    await expect.poll(() => ctl.page.locator('#roster').innerText()).toMatch(/\(you\)[^\n]*\n?\s*controller/);
    const obs = await newParticipant(third);
    await obs.page.goto(observeUrl);
    await expect.poll(() => obs.page.locator('#control').innerText()).toBe('You are watching.');
    await expect.poll(() => obs.page.locator('#roster').innerText()).toMatch(/\(you\)[^\n]*\n?\s*observer/);
    const view = await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } });
    const roles = view.json<{ participants: { role: string; connected: boolean }[] }>().participants;
    expect(roles.map((p) => p.role).sort()).toEqual(['controller', 'host', 'observer']);
    // Followers get no Invite… button.
    expect(await ctl.page.locator('button', { hasText: 'Invite' }).count()).toBe(0);

    // The followers, and a fresh browser, opening the invite page: 403, no link.
    const stranger = await newParticipant(env.browser);
    for (const who of [ctl, obs, stranger]) {
      const res = await who.page.goto(inviteUrl);
      expect(res?.status()).toBe(403);
      const text = await who.page.locator('body').innerText();
      expect(text).toContain("Only the session's host can see its join links.");
      for (const link of [session.hostUrl, session.joinUrl, session.observeUrl]) expect(await who.page.content()).not.toContain(secretOf(link));
    }
    expect([...host.errors, ...ctl.errors, ...obs.errors]).toEqual([]);
    await Promise.all([host.context.close(), stranger.context.close(), second.close(), third.close()]);
  });

  it("a script of the host's page gets no join link: not from the hub, not by fetching, framing or opening the invite page", async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const secrets = [session.hostUrl, session.joinUrl, session.observeUrl].map(secretOf);
    const inviteUrl = `${env.t.gateway.url}/s/${session.id}/invite`;

    // The page's own script opens the hub socket (its cookie and Origin go with it) and listens.
    const heard = (await host.page.evaluate(async (v) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__cobrowse/ws`);
      const got: string[] = [];
      ws.onmessage = (ev) => got.push(String(ev.data));
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      ws.send(JSON.stringify({ type: 'hello', v, mode: 'mirror' }));
      await new Promise((r) => setTimeout(r, 1000));
      ws.close();
      return got;
    }, PROTOCOL_VERSION)) as string[];
    expect(heard.some((m) => m.includes('"welcome"') && m.includes('"role":"host"'))).toBe(true);
    for (const secret of secrets) expect(heard.join('\n')).not.toContain(secret);
    expect(heard.join('\n')).not.toContain('/j/');

    // Nothing the page's document holds (the panel included) names them.
    const documentText = (await host.page.evaluate('document.documentElement.outerHTML + document.body.innerText')) as string;
    for (const secret of secrets) expect(documentText).not.toContain(secret);

    // The browser's own fetch, frames and windows, as a script that got around the runtime.
    const before = invitePageRequests(session.id);
    const tried = (await runAsBareScript(
      host.context,
      host.page,
      `(async (url) => {
        const out = {};
        try { const r = await fetch(url, { credentials: 'include' }); out.cors = 'read ' + (await r.text()); } catch (e) { out.cors = 'failed: ' + e.name; }
        try { const r = await fetch(url, { credentials: 'include', mode: 'no-cors' }); out.noCors = r.type + ' ' + r.status + ' ' + (await r.text()); } catch (e) { out.noCors = 'failed: ' + e.name; }
        const frame = document.createElement('iframe');
        frame.id = 'invite-frame';
        frame.src = url;
        const loaded = new Promise((resolve) => { frame.onload = resolve; setTimeout(resolve, 3000); });
        document.body.append(frame);
        await loaded;
        try { out.frame = frame.contentDocument ? frame.contentDocument.documentElement.outerHTML : 'no document'; } catch (e) { out.frame = 'no access: ' + e.name; }
        const popup = window.open(url, 'invite');
        await new Promise((r) => setTimeout(r, 1000));
        try { out.popup = popup && popup.document ? popup.document.documentElement.outerHTML : 'no window'; } catch (e) { out.popup = 'no access: ' + e.name; }
        return out;
      })(${JSON.stringify(inviteUrl)})`,
    )) as Record<string, string>;
    // CORS: no Access-Control-Allow-Origin; no-cors: Cross-Origin-Resource-Policy same-origin (a network error, not even an opaque answer).
    expect(tried.cors).toMatch(/^failed/);
    expect(tried.noCors).toMatch(/^failed/);
    expect(tried.frame).not.toContain('joinUrl');
    expect(tried.popup).not.toContain('joinUrl');
    for (const secret of secrets) expect(JSON.stringify(tried)).not.toContain(secret);
    // The requests reached the gateway with the host's cookie: the browser refused to hand over the answers.
    expect(invitePageRequests(session.id) - before).toBeGreaterThanOrEqual(3);

    // The frame shows the browser's refusal, not the page (read with the DevTools protocol, which sees into every frame).
    const frame = await (await host.page.$('#invite-frame'))?.contentFrame();
    expect(frame).toBeTruthy();
    const framed = (await frame?.evaluate('document.documentElement.outerHTML').catch((err: Error) => `unreadable: ${err.message}`)) as string;
    expect(framed).not.toContain('Invite people');
    for (const secret of secrets) expect(framed).not.toContain(secret);
    await host.context.close();
  });

  it('"New links": the old link gets the refusal page, the new one joins; "Remove": the follower’s view shows it was removed', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const invite = await host.context.newPage();
    const inviteUrl = `${env.t.gateway.url}/s/${session.id}/invite`;
    await invite.goto(inviteUrl);
    expect(await invite.inputValue('#joinUrl')).toBe(session.joinUrl);

    await Promise.all([invite.waitForURL(`${inviteUrl}?done=rotated`), invite.click('#rotate')]);
    await expect.poll(() => invite.locator('#notice').innerText()).toContain('New links are ready');
    const joinUrl = await invite.inputValue('#joinUrl');
    expect(joinUrl).not.toBe(session.joinUrl);
    expect(await invite.inputValue('#observeUrl')).not.toBe(session.observeUrl);

    const second = await launchBrowser();
    const guest = await newParticipant(second);
    const refused = await guest.page.goto(session.joinUrl);
    expect(refused?.status()).toBe(404);
    expect(await guest.page.locator('body').innerText()).toContain('This join link is not valid, or its session has ended.');
    await guest.page.goto(joinUrl);
    await expect.poll(() => guest.page.locator('#roster').innerText()).toMatch(/\(you\)[^\n]*\n?\s*controller/);

    // The host's list has the guest; Remove takes it out.
    await invite.goto(inviteUrl);
    const row = invite.locator('ul.people li', { hasText: 'Guest' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await invite.locator('ul.people li', { hasText: '(you)' }).locator('button').count()).toBe(0);
    await Promise.all([invite.waitForURL(`${inviteUrl}?done=removed`), row.locator('button[id^="remove-"]:not([id^="remove-rotate-"])').click()]);
    expect(await invite.locator('ul.people li', { hasText: 'Guest' }).count()).toBe(0);
    await expect.poll(() => guest.page.locator('#cobrowse-status').innerText()).toBe('The host removed you from this session.');
    // It stays out: its view page does not load again.
    const back = await guest.page.reload();
    expect(back?.status()).toBe(403);
    expect(await guest.page.locator('body').innerText()).toContain('You are not a participant of this session.');

    // "Remove and new links": a guest removed so cannot come back from another browser with its link.
    const other = await newParticipant(second);
    await other.page.goto(joinUrl);
    await expect.poll(() => other.page.locator('#roster').innerText()).toMatch(/\(you\)[^\n]*\n?\s*controller/);
    await invite.goto(inviteUrl);
    const otherRow = invite.locator('ul.people li', { hasText: 'Guest' });
    await expect.poll(() => otherRow.count()).toBe(1);
    await Promise.all([invite.waitForURL(`${inviteUrl}?done=removed-rotated`), otherRow.locator('button[id^="remove-rotate-"]').click()]);
    await expect.poll(() => invite.locator('#notice').innerText()).toContain('the links they had no longer work, in any browser');
    expect(await invite.inputValue('#joinUrl')).not.toBe(joinUrl);
    await expect.poll(() => other.page.locator('#cobrowse-status').innerText()).toBe('The host removed you from this session.');
    const elsewhere = await newParticipant(second);
    expect((await elsewhere.page.goto(joinUrl))?.status()).toBe(404);
    expect([...host.errors, ...guest.errors, ...other.errors]).toEqual([]);
    await Promise.all([host.context.close(), second.close()]);
  });

  it('"New host link": shown once on the page its button answers; it makes a host in another browser, a third browser gets the refusal page', async () => {
    const session = await createSession(env.t, `${env.t.demoOrigin}/products`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const invite = await host.context.newPage();
    const inviteUrl = `${env.t.gateway.url}/s/${session.id}/invite`;
    await invite.goto(inviteUrl);
    expect(await invite.locator('#host-link').innerText()).toContain('The current host link has been opened');
    expect(await invite.locator('#hostUrl').count()).toBe(0);
    const stale = await host.context.newPage();
    await stale.goto(inviteUrl);

    // The browser's own form post (Origin: null under the page's no-referrer policy, Sec-Fetch-Site same-origin).
    const [answer] = await Promise.all([invite.waitForResponse((r) => r.url() === `${inviteUrl}/host-link`), invite.click('#new-host-link')]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()['cache-control']).toBe('no-store');
    await expect.poll(() => invite.locator('#notice').innerText()).toContain('A new host link is ready');
    const hostUrl = await invite.inputValue('#hostUrl');
    expect(hostUrl).toMatch(/\/j\/[\w-]{32}$/);
    expect(hostUrl).not.toBe(session.hostUrl);
    expect(invite.url()).not.toContain(secretOf(hostUrl));
    // A reload does not send the form again (the answer's entry became the page's address): the
    // page comes back without the link, and the link it gave stays the current one.
    expect(invite.url()).toBe(inviteUrl);
    const [reloaded] = await Promise.all([invite.waitForResponse((r) => r.url().startsWith(inviteUrl)), invite.reload()]);
    expect(reloaded.request().method()).toBe('GET');
    expect(reloaded.status()).toBe(200);
    expect(await invite.locator('#hostUrl').count()).toBe(0);
    expect(await invite.locator('#host-link').innerText()).toContain('The current host link has not been opened yet');
    // The form of an older tab (opened before the new link was made) changes nothing either.
    const [staleAnswer] = await Promise.all([stale.waitForResponse((r) => r.url() === `${inviteUrl}/host-link`), stale.click('#new-host-link')]);
    expect(staleAnswer.status()).toBe(409);
    await expect.poll(() => stale.locator('#notice').innerText()).toContain('Nothing changed');
    expect(await stale.locator('#hostUrl').count()).toBe(0);
    await stale.close();
    // Shown once: the page opened again does not have it.
    await invite.goto(inviteUrl);
    expect(await invite.locator('#hostUrl').count()).toBe(0);
    expect(await invite.content()).not.toContain(secretOf(hostUrl));

    // Another browser: a host, on the live page. A third one: the refusal page. The old link: gone.
    const second = await newParticipant(env.browser);
    await second.page.goto(hostUrl);
    await second.page.waitForFunction('window.__cobrowse !== undefined');
    expect(new URL(second.page.url()).hostname).toBe(`o1--${session.id}.cobrowse.localhost`);
    const third = await newParticipant(env.browser);
    const refused = await third.page.goto(hostUrl);
    expect(refused?.status()).toBe(409);
    const text = await third.page.locator('body').innerText();
    expect(text).toContain('This host link was already opened in another browser.');
    expect(text).toContain('New host link');
    expect((await third.page.goto(session.hostUrl))?.status()).toBe(404);
    // The second host's browser gets back in through its link.
    const back = await second.page.goto(hostUrl);
    expect(back?.status()).toBe(200);
    await second.page.waitForFunction('window.__cobrowse !== undefined');
    const view = (
      await env.t.call('GET', `${env.t.gateway.url}/api/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.adminToken}` } })
    ).json<{ participants: { role: string }[]; hostLinkOpened: boolean }>();
    expect(view.participants.map((p) => p.role)).toEqual(['host', 'host']);
    expect(view.hostLinkOpened).toBe(true);
    await Promise.all([host.context.close(), second.context.close(), third.context.close()]);
  });
});
