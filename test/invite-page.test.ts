// Join links stay out of the proxied pages: a script of the host's page can open the hub socket
// itself (the browser sends the participant cookie, the Origin is the page's own), so nothing the
// hub sends may carry them. The host reads them on the gateway host, GET /s/<session>/invite,
// answered to the session's host only (its cookie on the gateway host), readable and frameable
// from no proxied host. A real gateway, the demo site and real WebSocket clients.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { connectHub, type HubClient, pageTree } from './helpers/hub-client.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A join link opened like a browser: the gateway-host cookie `/j/` sets, and the proxied host's cookie. */
async function joinKeepingCookies(link: string): Promise<{ gatewayCookie: string; cookie: string; proxiedOrigin: string }> {
  const first = await t.call('GET', link);
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const gatewayCookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
  const enter = new URL(String(first.headers.location));
  const second = await t.call('GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  return { gatewayCookie, cookie: String(second.headers['set-cookie']).split(';')[0] ?? '', proxiedOrigin: enter.origin };
}

/** The secret part of a join link. */
const secretOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

/** Everything a socket received, as one text to search. */
const received = (...clients: HubClient[]) => clients.map((c) => JSON.stringify(c.messages)).join('\n');

function invitePage(sessionId: string, headers: Record<string, string> = {}) {
  return t.call('GET', `${t.gateway.url}/s/${sessionId}/invite`, { headers });
}

describe('the hub sends no join link', () => {
  it('to a socket opened as the host from its page (cookie and Origin of the page), live or mirror, nor after the role passed on', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await joinKeepingCookies(s.hostUrl);
    // What a script of the host's page can do: open the hub with the page's cookie and Origin.
    const live = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    live.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    live.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'x', viewport: { w: 800, h: 600 }, tree: pageTree('page') });
    const welcome = await live.next('welcome');
    expect(welcome.role).toBe('host');
    const spy = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    spy.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await spy.next('welcome');

    const ctlP = await joinKeepingCookies(s.joinUrl);
    const ctl = await connectHub(t.gateway.port, ctlP.proxiedOrigin, ctlP.cookie);
    ctl.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    const ctlWelcome = await ctl.next('welcome');
    const obsP = await joinKeepingCookies(s.observeUrl);
    const obs = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    obs.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await obs.next('welcome');
    ctl.send({ type: 'chat', text: 'hello' });
    await live.next('chat');

    // The controller becomes the host: its page reconnects live and is welcomed as the host.
    live.send({ type: 'control', action: 'make-host', participantId: ctlWelcome.participantId });
    await ctl.next('promoted');
    const promoted = await connectHub(t.gateway.port, ctlP.proxiedOrigin, ctlP.cookie);
    promoted.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    expect((await promoted.next('welcome')).role).toBe('host');
    await sleep(300);

    const everything = received(live, spy, ctl, obs, promoted);
    expect(everything).toContain('"welcome"');
    for (const link of [s.hostUrl, s.joinUrl, s.observeUrl]) expect(everything).not.toContain(secretOf(link));
    expect(everything).not.toContain('/j/');
    expect(everything).not.toMatch(/joinUrl|observeUrl|invites/);
    for (const c of [live, spy, ctl, obs, promoted]) c.ws.close();
  });
});

describe('GET /s/:session/invite', () => {
  it("shows the host both join links, and they work; the page is for the gateway's origin only", async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await joinKeepingCookies(s.hostUrl);
    expect(hostP.gatewayCookie).toMatch(/^cobrowse_/);
    // As a proxied page's script would ask (its Origin): answered, but with nothing that lets it read or frame the page.
    const res = await invitePage(s.id, { cookie: hostP.gatewayCookie, origin: hostP.proxiedOrigin, 'sec-fetch-site': 'same-site' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain(`value="${s.joinUrl}"`);
    expect(res.text).toContain(`value="${s.observeUrl}"`);
    expect(res.text).not.toContain(secretOf(s.hostUrl));
    expect(res.text).toContain('Copy');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cache-control']).toBe('no-store');

    // The links on the page are the session's: they join with their roles.
    const ctl = await joinKeepingCookies(s.joinUrl);
    const obs = await joinKeepingCookies(s.observeUrl);
    const view = await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    const roles = view.json<{ participants: { role: string }[] }>().participants.map((p) => p.role);
    expect(roles.sort()).toEqual(['controller', 'host', 'observer']);
    expect(ctl.gatewayCookie).not.toBe(obs.gatewayCookie);
  });

  it('answers 403 to a follower, a stranger, and the proxied host’s cookie; 404 to an unknown session', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await joinKeepingCookies(s.hostUrl);
    const ctl = await joinKeepingCookies(s.joinUrl);
    const obs = await joinKeepingCookies(s.observeUrl);
    const other = await createSession(t, `${t.demoOrigin}/`);
    const otherHost = await joinKeepingCookies(other.hostUrl);
    const refused = [
      ctl.gatewayCookie,
      obs.gatewayCookie,
      '',
      // The participant cookie of a proxied host, or the host's token under another name, is not the gateway's.
      hostP.cookie,
      `${otherHost.gatewayCookie.split('=')[0]}=${hostP.gatewayCookie.split('=')[1]}`,
      // The host of another session.
      otherHost.gatewayCookie,
      `${hostP.gatewayCookie.split('=')[0]}=wrong`,
    ];
    for (const cookie of refused) {
      const res = await invitePage(s.id, cookie ? { cookie } : {});
      expect(res.status, cookie).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('Only the session&#39;s host can see its join links.');
      for (const link of [s.hostUrl, s.joinUrl, s.observeUrl]) expect(res.text).not.toContain(secretOf(link));
      expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    const unknown = await invitePage('a'.repeat(26), { cookie: hostP.gatewayCookie });
    expect(unknown.status).toBe(404);
    expect((await invitePage('not-a-session', { cookie: hostP.gatewayCookie })).status).toBe(404);
    // Ended: nothing any more.
    await t.call('DELETE', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect((await invitePage(s.id, { cookie: hostP.gatewayCookie })).status).toBe(404);
  });

  it('follows the host role: after it passed on, the new host gets the page and the former host 403', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await joinKeepingCookies(s.hostUrl);
    const live = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    live.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    await live.next('welcome');
    const ctlP = await joinKeepingCookies(s.joinUrl);
    const ctl = await connectHub(t.gateway.port, ctlP.proxiedOrigin, ctlP.cookie);
    ctl.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    const ctlWelcome = await ctl.next('welcome');
    expect((await invitePage(s.id, { cookie: ctlP.gatewayCookie })).status).toBe(403);

    live.send({ type: 'control', action: 'make-host', participantId: ctlWelcome.participantId });
    await ctl.next('promoted');
    await expect.poll(async () => (await invitePage(s.id, { cookie: ctlP.gatewayCookie })).status).toBe(200);
    expect((await invitePage(s.id, { cookie: hostP.gatewayCookie })).status).toBe(403);
    live.ws.close();
    ctl.ws.close();
  });
});
