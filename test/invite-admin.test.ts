// The host's invite page manages who can come in: "New links" replaces both join links (the old
// ones, and an old link's unused ticket, stop at once on every node; who is in stays), "Remove"
// takes a follower out (its cookies stop, its hub sockets close with the reason, control it held
// goes back, the roster and the audit log say so). Its forms are same-origin only, with the page's
// token. The API has the same two actions. Real gateways on 127.0.0.1, both state back ends, and
// two nodes on one real redis-server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, startTwoNodes, type TestGateway } from './helpers/gateway.js';
import { callNode, connectHub, type HubClient, type HubMessage, pageTree, type Reply } from './helpers/hub-client.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

/** One browser's join through a link, on node `port` (its enter on `enterPort`): both cookies. */
interface Joined {
  gatewayCookie: string;
  cookie: string;
  proxiedOrigin: string;
  enter: string;
}

async function openLink(port: number, link: string, cookie?: string): Promise<Reply> {
  return callNode(port, 'GET', link, cookie ? { headers: { cookie } } : {});
}

async function join(port: number, link: string, enterPort = port): Promise<Joined> {
  const first = await openLink(port, link);
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const gatewayCookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
  const enter = new URL(String(first.headers.location));
  const second = await callNode(enterPort, 'GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  return { gatewayCookie, cookie: String(second.headers['set-cookie']).split(';')[0] ?? '', proxiedOrigin: enter.origin, enter: enter.href };
}

async function mirror(port: number, p: Joined): Promise<HubClient> {
  const c = await connectHub(port, p.proxiedOrigin, p.cookie);
  c.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
  await c.next('welcome');
  return c;
}

async function live(port: number, p: Joined): Promise<HubClient> {
  const c = await connectHub(port, p.proxiedOrigin, p.cookie);
  c.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
  c.send({ type: 'snapshot', url: `${p.proxiedOrigin}/`, title: 'x', viewport: { w: 800, h: 600 }, tree: pageTree('page') });
  await c.next('welcome');
  return c;
}

interface PageView {
  status: number;
  text: string;
  csrf: string;
  joinUrl: string;
  observeUrl: string;
  people: string[];
}

async function invitePage(port: number, base: string, sessionId: string, gatewayCookie: string, search = ''): Promise<PageView> {
  const res = await callNode(port, 'GET', `${base}/s/${sessionId}/invite${search}`, { headers: { cookie: gatewayCookie } });
  const pick = (re: RegExp) => re.exec(res.text)?.[1] ?? '';
  return {
    status: res.status,
    text: res.text,
    csrf: pick(/name="csrf" value="([^"]+)"/),
    joinUrl: pick(/id="joinUrl" type="text" readonly value="([^"]+)"/),
    observeUrl: pick(/id="observeUrl" type="text" readonly value="([^"]+)"/),
    people: [...res.text.matchAll(/data-participant="([^"]+)"/g)].map((m) => m[1] ?? ''),
  };
}

/** A form post as the invite page's own form sends it (same origin), with overrides. */
function postForm(port: number, base: string, path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return callNode(port, 'POST', `${base}${path}`, {
    headers: { cookie, origin: base, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

const lastRoster = (c: HubClient) =>
  [...c.messages].reverse().find((m) => m.type === 'roster') as (HubMessage & { participants: { id: string }[]; controlHolder: string | null }) | undefined;

describe.each(['memory', 'redis'] as const)('invite page management, state back end: %s', (backend) => {
  let redis: TestRedis | null = null;
  let t: TestGateway;
  let port: number;
  let base: string;

  beforeAll(async () => {
    if (backend === 'redis') redis = await startTestRedis();
    t = await startTestGateway(redis ? { redis: redis.url } : {});
    port = t.gateway.port;
    base = t.gateway.url;
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  const admin = (s: { adminToken: string }) => ({ authorization: `Bearer ${s.adminToken}` });
  const audit = async (s: { id: string; adminToken: string }) =>
    (await t.call('GET', `${base}/api/sessions/${s.id}/audit`, { headers: admin(s) })).json<{
      entries: { event: string; participantId?: string; detail?: string }[];
    }>().entries;

  /** A session with its host's live page, a controller's and an observer's mirror, all connected. */
  const hostControllerObserver = async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await join(port, s.hostUrl);
    const host = await live(port, hostP);
    const ctlP = await join(port, s.joinUrl);
    const ctl = await mirror(port, ctlP);
    const obsP = await join(port, s.observeUrl);
    const obs = await mirror(port, obsP);
    return { s, hostP, host, ctlP, ctl, obsP, obs };
  };

  it('"New links": the old links and an old link’s unused ticket are refused, the new ones work, who is in stays', async () => {
    const { s, hostP, host, ctlP, ctl, obs } = await hostControllerObserver();
    // Opened the old control link, not entered yet: holds a ticket and a gateway-host cookie.
    const pending = await openLink(port, s.joinUrl);
    expect(pending.status).toBe(302);
    const pendingCookie = String(pending.headers['set-cookie']).split(';')[0] ?? '';
    const pendingTicket = String(pending.headers.location);

    const before = await invitePage(port, base, s.id, hostP.gatewayCookie);
    expect(before.status).toBe(200);
    expect(before.joinUrl).toBe(s.joinUrl);
    expect(before.text).toContain('New links');
    const res = await postForm(port, base, `/s/${s.id}/invite/rotate`, hostP.gatewayCookie, { csrf: before.csrf });
    expect(res.status, res.text).toBe(303);
    expect(res.headers.location).toBe(`/s/${s.id}/invite?done=rotated`);

    const after = await invitePage(port, base, s.id, hostP.gatewayCookie, '?done=rotated');
    expect(after.text).toContain('New links are ready');
    expect(after.joinUrl).toMatch(/\/j\/[\w-]{20,}$/);
    expect(after.joinUrl).not.toBe(s.joinUrl);
    expect(after.observeUrl).not.toBe(s.observeUrl);
    // The old links, in a fresh browser and in a joined one: refused.
    for (const old of [s.joinUrl, s.observeUrl]) {
      expect((await openLink(port, old)).status).toBe(404);
      expect((await openLink(port, old, ctlP.gatewayCookie)).status).toBe(404);
    }
    // The old link's ticket does not enter, and its cookie gets no new ticket.
    const entered = await callNode(port, 'GET', pendingTicket);
    expect(entered.status).toBe(403);
    expect(entered.text).toContain('TICKET_INVALID');
    const bounce = await callNode(port, 'GET', `${base}/t/${s.id}?host=${new URL(pendingTicket).hostname.split('--')[0]}&to=/`, {
      headers: { cookie: pendingCookie },
    });
    expect(bounce.status).toBe(403);
    // The new links join with their roles.
    const ctl2P = await join(port, after.joinUrl);
    const ctl2 = await mirror(port, ctl2P);
    expect((await ctl2.next('welcome')).role).toBe('controller');
    const obs2P = await join(port, after.observeUrl);
    expect((await mirror(port, obs2P)).messages.find((m) => m.type === 'welcome')?.role).toBe('observer');
    // The ones who were in stay: sockets open, their cookies still work.
    await new Promise((r) => setTimeout(r, 200));
    expect(ctl.ws.readyState).toBe(ctl.ws.OPEN);
    expect(obs.ws.readyState).toBe(obs.ws.OPEN);
    expect((await callNode(port, 'GET', `${ctlP.proxiedOrigin}/__cobrowse/view`, { headers: { cookie: ctlP.cookie } })).status).toBe(200);
    const view = (await t.call('GET', `${base}/api/sessions/${s.id}`, { headers: admin(s) })).json<{
      links: { joinUrl: string; observeUrl: string };
      participants: { role: string }[];
    }>();
    expect(view.links.joinUrl).toBe(after.joinUrl);
    expect(view.participants.map((p) => p.role).sort()).toEqual(['controller', 'controller', 'host', 'observer', 'observer']);
    expect((await audit(s)).some((e) => e.event === 'invites')).toBe(true);
    for (const c of [host, ctl, obs, ctl2]) c.ws.close();
  });

  it('refuses the forms from anywhere but the invite page itself, and from anyone but the host', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await join(port, s.hostUrl);
    const ctlP = await join(port, s.joinUrl);
    const page = await invitePage(port, base, s.id, hostP.gatewayCookie);
    const path = `/s/${s.id}/invite/rotate`;
    // A script of a proxied page (same site: the Lax cookie goes along) posting a form or fetching.
    const foreign = await postForm(port, base, path, hostP.gatewayCookie, { csrf: page.csrf }, { origin: hostP.proxiedOrigin, 'sec-fetch-site': 'same-site' });
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('BAD_ORIGIN');
    expect(foreign.text).toContain('works only from the session&#39;s invite page');
    expect((await postForm(port, base, path, hostP.gatewayCookie, { csrf: page.csrf }, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    // The page's own form under its no-referrer policy: `Origin: null`, which counts only with Sec-Fetch-Site same-origin.
    expect((await postForm(port, base, path, hostP.gatewayCookie, { csrf: page.csrf }, { origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const nullOnly = await callNode(port, 'POST', `${base}${path}`, {
      headers: { cookie: hostP.gatewayCookie, origin: 'null', 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${page.csrf}`,
    });
    expect(nullOnly.status).toBe(403);
    const noOrigin = await callNode(port, 'POST', `${base}${path}`, {
      headers: { cookie: hostP.gatewayCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${page.csrf}`,
    });
    expect(noOrigin.status).toBe(403);
    // Same origin, but without the page's token or with another one.
    expect((await postForm(port, base, path, hostP.gatewayCookie, {})).status).toBe(403);
    expect((await postForm(port, base, path, hostP.gatewayCookie, { csrf: 'x'.repeat(43) })).text).toContain('out of date');
    // A follower (its own cookie, even with the host's token), a stranger.
    expect((await postForm(port, base, path, ctlP.gatewayCookie, { csrf: page.csrf })).status).toBe(403);
    expect((await postForm(port, base, path, '', { csrf: page.csrf })).status).toBe(403);
    expect((await postForm(port, base, `/s/${s.id}/invite/remove`, ctlP.gatewayCookie, { csrf: page.csrf, participant: 'p1' })).status).toBe(403);
    // Nothing changed.
    expect((await invitePage(port, base, s.id, hostP.gatewayCookie)).joinUrl).toBe(s.joinUrl);
    expect((await openLink(port, s.joinUrl)).status).toBe(302);
    // Unknown session: 404.
    expect((await postForm(port, base, `/s/${'a'.repeat(26)}/invite/rotate`, hostP.gatewayCookie, { csrf: page.csrf })).status).toBe(404);
  });

  it('"Remove": the follower’s socket closes with the reason, its cookies stop, control goes back, the roster and audit say so', async () => {
    const { s, hostP, host, ctlP, ctl, obsP, obs } = await hostControllerObserver();
    const ctlId = String((await ctl.next('welcome')).participantId);
    ctl.send({ type: 'control', action: 'request' });
    await expect.poll(() => lastRoster(host)?.controlHolder).toBe(ctlId);

    const page = await invitePage(port, base, s.id, hostP.gatewayCookie);
    expect(page.people).toContain(ctlId);
    expect(page.text).toContain(`id="remove-${ctlId}"`);
    const hostId = String((await host.next('welcome')).participantId);
    expect(page.text).not.toContain(`id="remove-${hostId}"`);
    const from = host.messages.length;
    const res = await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: ctlId });
    expect(res.status, res.text).toBe(303);
    expect(res.headers.location).toBe(`/s/${s.id}/invite?done=removed`);

    const told = await ctl.next('error');
    expect(told.code).toBe('REMOVED');
    expect(told.message).toBe('The host removed you from this session.');
    expect(await ctl.closed).toBe(4000);
    // Its proxied-host cookie: refused (401), no bounce; its hub socket: refused.
    const next = await callNode(port, 'GET', `${ctlP.proxiedOrigin}/`, { headers: { cookie: ctlP.cookie } });
    expect(next.status).toBe(401);
    await expect(connectHub(port, ctlP.proxiedOrigin, ctlP.cookie)).rejects.toThrow(/401/);
    // Its gateway-host cookie: no ticket, no invite page, and the link it has does not take it back.
    const label = new URL(ctlP.proxiedOrigin).hostname.split('--')[0];
    expect((await callNode(port, 'GET', `${base}/t/${s.id}?host=${label}&to=/`, { headers: { cookie: ctlP.gatewayCookie } })).status).toBe(403);
    const again = await openLink(port, s.joinUrl, ctlP.gatewayCookie);
    expect(again.status).toBe(403);
    expect(again.text).toContain('The host removed you from this session.');
    // Control went back to the host, the roster has no ctl any more.
    await expect.poll(() => host.messages.slice(from).some((m) => m.type === 'roster')).toBe(true);
    const roster = lastRoster(host);
    expect(roster?.controlHolder).toBeNull();
    expect(roster?.participants.map((p) => p.id)).not.toContain(ctlId);
    expect(lastRoster(obs)?.participants.map((p) => p.id)).not.toContain(ctlId);
    const entries = await audit(s);
    expect(entries.find((e) => e.event === 'remove')?.participantId).toBe(ctlId);
    expect(entries.some((e) => e.event === 'control' && e.participantId === ctlId && /back to the host/.test(e.detail ?? ''))).toBe(true);
    expect((await invitePage(port, base, s.id, hostP.gatewayCookie)).people).not.toContain(ctlId);
    // The observer stays.
    expect(obs.ws.readyState).toBe(obs.ws.OPEN);
    expect((await callNode(port, 'GET', `${obsP.proxiedOrigin}/__cobrowse/view`, { headers: { cookie: obsP.cookie } })).status).toBe(200);

    // Bad input: unknown participant 404, the host 400, ended session 404.
    const unknown = await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: ctlId });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('PARTICIPANT_NOT_FOUND');
    const self = await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: hostId });
    expect(self.status).toBe(400);
    expect(self.text).toContain('The host cannot be removed');
    await t.call('DELETE', `${base}/api/sessions/${s.id}`, { headers: admin(s) });
    expect(
      (await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: obs.messages[0]?.participantId as string }))
        .status,
    ).toBe(404);
    host.ws.close();
    obs.ws.close();
  });

  it('"Remove and new links": the removed guest cannot come back from another browser with the link it had; the others stay, the new links join', async () => {
    const { s, hostP, host, ctl, obsP, obs } = await hostControllerObserver();
    const ctlId = String((await ctl.next('welcome')).participantId);
    const page = await invitePage(port, base, s.id, hostP.gatewayCookie);
    expect(page.text).toContain(`id="remove-rotate-${ctlId}"`);

    // The form's second button.
    const res = await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: ctlId, rotate: '1' });
    expect(res.status, res.text).toBe(303);
    expect(res.headers.location).toBe(`/s/${s.id}/invite?done=removed-rotated`);
    expect((await ctl.next('error')).code).toBe('REMOVED');
    const after = await invitePage(port, base, s.id, hostP.gatewayCookie, '?done=removed-rotated');
    expect(after.text).toContain('the links they had no longer work, in any browser');
    expect(after.people).not.toContain(ctlId);

    // Another browser (no cookie) with the links the guest had: gone. The new links join.
    expect((await openLink(port, s.joinUrl)).status).toBe(404);
    expect((await openLink(port, s.observeUrl)).status).toBe(404);
    const links = (await t.call('GET', `${base}/api/sessions/${s.id}`, { headers: admin(s) })).json<{ links: { joinUrl: string; observeUrl: string } }>().links;
    expect(links.joinUrl).not.toBe(s.joinUrl);
    expect((await openLink(port, links.joinUrl)).status).toBe(302);
    // The observer who was in stays; the audit says the links were replaced by the host.
    expect(obs.ws.readyState).toBe(obs.ws.OPEN);
    expect((await callNode(port, 'GET', `${obsP.proxiedOrigin}/__cobrowse/view`, { headers: { cookie: obsP.cookie } })).status).toBe(200);
    const entries = await audit(s);
    expect(entries.find((e) => e.event === 'remove')?.participantId).toBe(ctlId);
    expect(entries.some((e) => e.event === 'invites' && /new join links/.test(e.detail ?? ''))).toBe(true);

    // A removal that fails replaces nothing.
    const unknown = await postForm(port, base, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: ctlId, rotate: '1' });
    expect(unknown.status).toBe(404);
    expect((await t.call('GET', `${base}/api/sessions/${s.id}`, { headers: admin(s) })).json<{ links: { joinUrl: string } }>().links.joinUrl).toBe(
      links.joinUrl,
    );
    host.ws.close();
    obs.ws.close();
  });

  it('the API: POST /api/sessions/:id/invites/rotate and DELETE /api/sessions/:id/participants/:pid (a host too)', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await join(port, s.hostUrl);
    const host = await live(port, hostP);
    const obsP = await join(port, s.observeUrl);
    const obs = await mirror(port, obsP);
    const obsId = String((await obs.next('welcome')).participantId);
    const hostId = String((await host.next('welcome')).participantId);

    expect((await t.call('POST', `${base}/api/sessions/${s.id}/invites/rotate`)).status).toBe(401);
    const rotated = await t.call('POST', `${base}/api/sessions/${s.id}/invites/rotate`, { headers: admin(s) });
    expect(rotated.status).toBe(200);
    const links = rotated.json<{ joinUrl: string; observeUrl: string; hostUrl: string }>();
    expect(links.joinUrl).not.toBe(s.joinUrl);
    expect(links.hostUrl).toBe(s.hostUrl);
    expect((await openLink(port, s.observeUrl)).status).toBe(404);
    expect((await openLink(port, links.observeUrl)).status).toBe(302);
    expect(obs.ws.readyState).toBe(obs.ws.OPEN);

    const del = (pid: string, headers = admin(s)) => t.call('DELETE', `${base}/api/sessions/${s.id}/participants/${pid}`, { headers });
    expect((await del(obsId, {} as ReturnType<typeof admin>)).status).toBe(401);
    expect((await del('pnope')).status).toBe(404);
    expect((await del(obsId)).status).toBe(204);
    expect((await obs.next('error')).code).toBe('REMOVED');
    expect(await obs.closed).toBe(4000);
    expect((await callNode(port, 'GET', `${obsP.proxiedOrigin}/`, { headers: { cookie: obsP.cookie } })).status).toBe(401);
    expect((await del(obsId)).status).toBe(404);

    // A host too (one a host link that leaked before its holder opened it made): out, and a new
    // host link brings another host in; the removed one's browser cannot come back through it.
    expect((await del(hostId)).status).toBe(204);
    const hostError = await host.next('error');
    expect(hostError.code).toBe('REMOVED');
    expect(hostError.message).toBe('You were removed from this session by its administrator.');
    expect(await host.closed).toBe(4000);
    expect((await callNode(port, 'GET', `${hostP.proxiedOrigin}/`, { headers: { cookie: hostP.cookie } })).status).toBe(401);
    const audit = (await t.call('GET', `${base}/api/sessions/${s.id}/audit`, { headers: admin(s) })).json<{
      entries: { event: string; participantId?: string; role?: string }[];
    }>();
    expect(audit.entries).toContainEqual(expect.objectContaining({ event: 'remove', participantId: hostId, role: 'host' }));
    const view = (await t.call('GET', `${base}/api/sessions/${s.id}`, { headers: admin(s) })).json<{ participants: { id: string }[] }>();
    expect(view.participants.map((p) => p.id)).not.toContain(hostId);
    const newHost = (await t.call('POST', `${base}/api/sessions/${s.id}/host-link`, { headers: admin(s) })).json<{ hostUrl: string }>();
    expect((await openLink(port, newHost.hostUrl)).status).toBe(302);
    expect((await openLink(port, newHost.hostUrl, hostP.gatewayCookie)).status).toBe(403);

    await t.call('DELETE', `${base}/api/sessions/${s.id}`, { headers: admin(s) });
    expect((await t.call('POST', `${base}/api/sessions/${s.id}/invites/rotate`, { headers: admin(s) })).status).toBe(404);
    expect((await del(obsId)).status).toBe(404);
  });
});

describe('two nodes on one Redis', () => {
  let redis: TestRedis;
  const nodes: TestGateway[] = [];
  let publicUrl: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    const started = await startTwoNodes(redis.url);
    publicUrl = started.publicUrl;
    nodes.push(started.a, started.b);
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await redis?.close();
  });

  it('links replaced on node A are refused on node B at once; a follower on node B removed from node A is out there', async () => {
    const [a, b] = nodes as [TestGateway, TestGateway];
    const pa = a.gateway.port;
    const pb = b.gateway.port;
    const s = await createSession(a, `${a.demoOrigin}/`);
    const hostP = await join(pa, s.hostUrl);
    const host = await live(pa, hostP);
    const ctlP = await join(pb, s.joinUrl);
    const ctl = await mirror(pb, ctlP);
    const ctlId = String((await ctl.next('welcome')).participantId);
    ctl.send({ type: 'control', action: 'request' });
    await expect.poll(() => lastRoster(host)?.controlHolder).toBe(ctlId);
    // Node B knows the old links (it served one).
    const pendingOnB = await openLink(pb, s.observeUrl);
    expect(pendingOnB.status).toBe(302);

    const page = await invitePage(pa, publicUrl, s.id, hostP.gatewayCookie);
    expect(page.people).toContain(ctlId);
    expect((await postForm(pa, publicUrl, `/s/${s.id}/invite/rotate`, hostP.gatewayCookie, { csrf: page.csrf })).status).toBe(303);
    expect((await openLink(pb, s.joinUrl)).status).toBe(404);
    expect((await openLink(pb, s.observeUrl)).status).toBe(404);
    expect((await callNode(pb, 'GET', String(pendingOnB.headers.location))).status).toBe(403);
    const fresh = await invitePage(pb, publicUrl, s.id, hostP.gatewayCookie);
    expect(fresh.joinUrl).not.toBe(s.joinUrl);
    expect(fresh.joinUrl).toBe((await invitePage(pa, publicUrl, s.id, hostP.gatewayCookie)).joinUrl);
    const obsP = await join(pb, fresh.observeUrl);
    const obs = await mirror(pb, obsP);
    expect(ctl.ws.readyState).toBe(ctl.ws.OPEN);

    const from = host.messages.length;
    expect((await postForm(pa, publicUrl, `/s/${s.id}/invite/remove`, hostP.gatewayCookie, { csrf: page.csrf, participant: ctlId })).status).toBe(303);
    const told = await ctl.next('error');
    expect(told.code).toBe('REMOVED');
    expect(told.message).toBe('The host removed you from this session.');
    expect(await ctl.closed).toBe(4000);
    expect((await callNode(pb, 'GET', `${ctlP.proxiedOrigin}/`, { headers: { cookie: ctlP.cookie } })).status).toBe(401);
    expect((await callNode(pa, 'GET', `${ctlP.proxiedOrigin}/`, { headers: { cookie: ctlP.cookie } })).status).toBe(401);
    await expect(connectHub(pb, ctlP.proxiedOrigin, ctlP.cookie)).rejects.toThrow(/401/);
    await expect.poll(() => host.messages.slice(from).some((m) => m.type === 'roster')).toBe(true);
    expect(lastRoster(host)?.controlHolder).toBeNull();
    await expect
      .poll(() =>
        lastRoster(obs)
          ?.participants.map((p) => p.id)
          .includes(ctlId),
      )
      .toBe(false);
    expect(obs.ws.readyState).toBe(obs.ws.OPEN);
    for (const c of [host, obs]) c.ws.close();
  });
});
