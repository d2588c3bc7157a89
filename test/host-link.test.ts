// A host link opens once: the first browser that opens it becomes a host; from then on it takes
// only that browser back in (its gateway-host cookie), and any other browser gets a 409
// HOST_LINK_USED page that says what to do. Two browsers opening a fresh host link at the same
// moment give exactly one host, on either state back end and over two nodes on one Redis (the
// store checks and marks the link in the same step as the host's write). A new host link (API
// `POST /api/sessions/:id/host-link`, or the invite page's "New host link", shown once in that
// form's answer) stops the old one at once; the hosts already in stay. Real gateways on
// 127.0.0.1 and a real redis-server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../gateway/log.js';
import { memoryBackend } from '../gateway/state/memory-store.js';
import { connectRedis, type RedisBackend } from '../gateway/state/redis-backend.js';
import type { RedisStore } from '../gateway/state/redis-store.js';
import type { ParticipantRecord, SessionRecord, StateBackend, StateStore } from '../gateway/state/store.js';
import { createSession, startTestGateway, startTwoNodes, type TestGateway } from './helpers/gateway.js';
import { callNode, type Reply } from './helpers/hub-client.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const METRICS_TOKEN = 'metrics-token-host-link';

/** One browser's join through a link on node `port`: both cookies. */
interface Joined {
  gatewayCookie: string;
  cookie: string;
  proxiedOrigin: string;
}

function openLink(port: number, link: string, cookie?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return callNode(port, 'GET', link, { headers: { ...(cookie ? { cookie } : {}), ...headers } });
}

async function join(port: number, link: string, gatewayCookie?: string): Promise<Joined> {
  const first = await openLink(port, link, gatewayCookie);
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const enter = new URL(String(first.headers.location));
  const second = await callNode(port, 'GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  return {
    gatewayCookie: String(first.headers['set-cookie']).split(';')[0] ?? '',
    cookie: String(second.headers['set-cookie']).split(';')[0] ?? '',
    proxiedOrigin: enter.origin,
  };
}

/** The gateway-host cookie a `/j/` answer set (name=value). */
const setCookieOf = (res: Reply) => String(res.headers['set-cookie'] ?? '').split(';')[0] ?? '';

/** The secret part of a join link. */
const secretOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

/** What the refused browser is shown. */
function expectHostLinkUsedPage(res: Reply): void {
  expect(res.status, res.text).toBe(409);
  expect(String(res.headers['content-type'])).toContain('text/html');
  expect(res.text).toContain('HOST_LINK_USED');
  expect(res.text).toContain('This host link was already opened in another browser.');
  expect(res.text).toContain('New host link');
  expect(res.text).toContain('POST /api/sessions/&lt;id&gt;/host-link');
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.headers['cache-control']).toBe('no-store');
}

/** A form post as the invite page's own form sends it (same origin), with overrides. */
function postForm(port: number, base: string, path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return callNode(port, 'POST', `${base}${path}`, {
    headers: { cookie, origin: base, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

function participant(id: string, role: ParticipantRecord['role']): ParticipantRecord {
  return { id, name: id, role, token: `tok-${id}-${'x'.repeat(20)}`, joinedAt: Date.now(), color: '#000', enteredLabels: [] };
}

/** Stores a session straight through a store; its invites are `h<id>`, `c<id>`, `o<id>`. Without `hostLinkOpenedBy`: as stored before host links opened once. */
async function storedSession(store: StateStore, id: string, hostLinkOpenedBy?: string): Promise<void> {
  const record: SessionRecord = {
    id,
    startUrl: 'https://a.example/',
    createdAt: Date.now(),
    adminToken: 't',
    invites: { host: `h${id}`, controller: `c${id}`, observer: `o${id}` },
    idleTimeoutMs: 60_000,
    ...(hostLinkOpenedBy === undefined ? {} : { hostLinkOpenedBy }),
  };
  const fields = { currentUrl: record.startUrl, controlHolder: null, lastActivity: Date.now(), userAgent: null, acceptLanguage: null, live: null };
  expect(await store.createSession({ record, fields, participants: [], origins: [['o1', 'https://a.example']], connections: {} }, 1000)).toBe(true);
}

/** The gateway's own state back end (the registry keeps it private). */
const backendOf = (t: TestGateway) => (t.gateway.context.registry as unknown as { backend: StateBackend }).backend;

describe.each(['memory', 'redis'] as const)('host links open once, state back end: %s', (backend) => {
  let redis: TestRedis | null = null;
  let direct: RedisBackend | null = null;
  let store: StateStore;
  let t: TestGateway;
  let port: number;
  let base: string;

  beforeAll(async () => {
    if (backend === 'redis') {
      redis = await startTestRedis();
      direct = await connectRedis(redis.url, new Logger('silent'), { maxTailBatches: 100, maxTailBytes: 1e7 }, 'hostlinktest:');
    }
    store = direct ? direct.store : memoryBackend().store;
    t = await startTestGateway(redis ? { redis: redis.url } : {}, { metricsToken: METRICS_TOKEN });
    port = t.gateway.port;
    base = t.gateway.url;
  });
  afterAll(async () => {
    await t?.close();
    await direct?.close();
    await redis?.close();
  });

  const admin = (s: { adminToken: string }) => ({ authorization: `Bearer ${s.adminToken}` });
  const view = async (s: { id: string; adminToken: string }) =>
    (await t.call('GET', `${base}/api/sessions/${s.id}`, { headers: admin(s) })).json<{
      participants: { id: string; role: string }[];
      links: { hostUrl: string; joinUrl: string; observeUrl: string };
      hostLinkOpened: boolean;
    }>();
  const audit = async (s: { id: string; adminToken: string }) =>
    (await t.call('GET', `${base}/api/sessions/${s.id}/audit`, { headers: admin(s) })).json<{
      entries: { event: string; participantId?: string; role?: string; detail?: string }[];
    }>().entries;
  const rejected = async (reason: string) => {
    const res = await t.call('GET', `${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const line = res.text.split('\n').find((l) => l.startsWith(`cobrowse_rejected_total{reason="${reason}"} `));
    return Number(line?.split(' ')[1] ?? 0);
  };
  const newHostLink = (s: { id: string; adminToken: string }, headers: Record<string, string> = admin(s)) =>
    t.call('POST', `${base}/api/sessions/${s.id}/host-link`, { headers });

  it('a second browser opening a used host link gets the HOST_LINK_USED page; the first browser re-enters; join links are unchanged', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    expect((await view(s)).hostLinkOpened).toBe(false);
    const countedBefore = await rejected('host_link_used');
    const hostP = await join(port, s.hostUrl);
    expect((await view(s)).hostLinkOpened).toBe(true);

    // Another browser (no cookie), and a browser that is in the session with another role.
    expectHostLinkUsedPage(await openLink(port, s.hostUrl));
    const ctlP = await join(port, s.joinUrl);
    expectHostLinkUsedPage(await openLink(port, s.hostUrl, ctlP.gatewayCookie));
    const asJson = await openLink(port, s.hostUrl, undefined, { accept: 'application/json' });
    expect(asJson.status).toBe(409);
    expect(JSON.parse(asJson.text).error.code).toBe('HOST_LINK_USED');

    // The browser that opened it: back in as the same participant, any number of times.
    for (let i = 0; i < 2; i++) {
      const again = await openLink(port, s.hostUrl, hostP.gatewayCookie);
      expect(again.status, again.text).toBe(302);
      expect(setCookieOf(again)).toBe(hostP.gatewayCookie);
    }
    const reentered = await join(port, s.hostUrl, hostP.gatewayCookie);
    expect((await callNode(port, 'GET', `${reentered.proxiedOrigin}/`, { headers: { cookie: reentered.cookie, accept: 'text/html' } })).status).toBe(200);

    // Control and watch links still open for any number of browsers.
    expect((await openLink(port, s.joinUrl)).status).toBe(302);
    expect((await openLink(port, s.observeUrl)).status).toBe(302);
    expect((await openLink(port, s.observeUrl)).status).toBe(302);

    const v = await view(s);
    expect(v.participants.filter((p) => p.role === 'host')).toHaveLength(1);
    expect(v.participants.map((p) => p.role).sort()).toEqual(['controller', 'controller', 'host', 'observer', 'observer']);
    // Logged (warn), audited, counted.
    expect(t.logs.some((l) => l.level === 'warn' && l.msg === 'host link opened again from another browser: refused' && l.sessionId === s.id)).toBe(true);
    const blocked = (await audit(s)).filter((e) => e.event === 'blocked' && /HOST_LINK_USED/.test(e.detail ?? ''));
    expect(blocked).toHaveLength(3);
    expect(await rejected('host_link_used')).toBe(countedBefore + 3);
  });

  it('many browsers opening a fresh host link at the same moment: exactly one host', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const answers = await Promise.all(Array.from({ length: 8 }, () => openLink(port, s.hostUrl)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([302, 409, 409, 409, 409, 409, 409, 409]);
    const winner = answers.find((r) => r.status === 302);
    const v = await view(s);
    expect(v.participants.map((p) => p.role)).toEqual(['host']);
    expect(v.hostLinkOpened).toBe(true);
    // The winner's browser is the one that gets back in.
    expect((await openLink(port, s.hostUrl, setCookieOf(winner as Reply))).status).toBe(302);
    for (const loser of answers.filter((r) => r.status === 409)) expect(loser.text).toContain('HOST_LINK_USED');
  });

  it('the store: a host invite is admitted once, checked and marked in one step; a new one once more; a session stored before (no marker) counts a host as opened', async () => {
    const id = `hl${backend}freshsessionaaaaaaaa`.slice(0, 26);
    await storedSession(store, id, '');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.addParticipant(id, participant(`ph${i}`, 'host'), 10, `h${id}`)));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'used')).toHaveLength(5);
    const winner = `ph${results.indexOf('ok')}`;
    expect((await store.loadSession(id))?.record.hostLinkOpenedBy).toBe(winner);
    expect((await store.loadSession(id))?.participants.map((p) => p.id)).toEqual([winner]);
    // A replaced host invite admits nobody; the new one, once.
    expect(await store.rotateHostInvite(id, `h2${id}`)).toBe(true);
    expect(await store.inviteOf(`h${id}`)).toBeNull();
    expect(await store.inviteOf(`h2${id}`)).toEqual({ sessionId: id, role: 'host' });
    expect((await store.loadSession(id))?.record.hostLinkOpenedBy).toBe('');
    expect((await store.loadSession(id))?.record.invites.host).toBe(`h2${id}`);
    expect(await store.addParticipant(id, participant('plate', 'host'), 10, `h${id}`)).toBe('gone');
    expect(await store.addParticipant(id, participant('pnew', 'host'), 10, `h2${id}`)).toBe('ok');
    expect(await store.addParticipant(id, participant('pnew2', 'host'), 10, `h2${id}`)).toBe('used');
    // Controller and observer invites are not limited.
    for (const i of [1, 2]) expect(await store.addParticipant(id, participant(`pc${i}`, 'controller'), 10, `c${id}`)).toBe('ok');
    expect((await store.loadSession(id))?.participants.map((p) => p.id).sort()).toEqual(['pc1', 'pc2', 'pnew', winner].sort());
    expect(await store.rotateHostInvite('nosuchsessionaaaaaaaaaaaaa', 'hx')).toBe(false);

    // Stored before host links opened once: not opened while it has no host, opened once it has one.
    const old = `hl${backend}legacysessionaaaaaaa`.slice(0, 26);
    await storedSession(store, old);
    expect((await store.loadSession(old))?.record.hostLinkOpenedBy).toBeUndefined();
    expect(await store.addParticipant(old, participant('pobs', 'observer'), 10, `o${old}`)).toBe('ok');
    expect(await store.addParticipant(old, participant('pfirst', 'host'), 10, `h${old}`)).toBe('ok');
    expect(await store.addParticipant(old, participant('psecond', 'host'), 10, `h${old}`)).toBe('used');
    expect((await store.loadSession(old))?.record.hostLinkOpenedBy).toBe('pfirst');
  });

  it.runIf(backend === 'redis')(
    'Redis: a session stored before this change (no hostOpenedBy field) keeps working; its host link opens once from then on',
    async () => {
      const s = await createSession(t, `${t.demoOrigin}/`);
      const redisStore = backendOf(t).store as RedisStore;
      // What an older gateway stored: no hostOpenedBy field in the session's hash.
      expect(await redisStore.redis.hget(redisStore.keys.session(s.id), 'hostOpenedBy')).toBe('');
      await redisStore.redis.hdel(redisStore.keys.session(s.id), 'hostOpenedBy');
      const hostP = await join(port, s.hostUrl);
      expectHostLinkUsedPage(await openLink(port, s.hostUrl));
      expect((await openLink(port, s.hostUrl, hostP.gatewayCookie)).status).toBe(302);
      expect((await view(s)).participants.map((p) => p.role)).toEqual(['host']);
    },
  );

  it('the API: POST /api/sessions/:id/host-link needs the admin token, stops the old link at once, the new one opens once, the old host stays host', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await join(port, s.hostUrl);
    const hostId = (await view(s)).participants[0]?.id;

    // Bad or missing token, unknown session: the same errors as the other admin routes.
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const res = await newHostLink(s, headers);
      expect(res.status).toBe(401);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('UNAUTHORIZED');
    }
    const unknown = await t.call('POST', `${base}/api/sessions/${'a'.repeat(26)}/host-link`, { headers: admin(s) });
    expect(unknown.status).toBe(404);
    expect(unknown.json<{ error: { code: string } }>().error.code).toBe('SESSION_NOT_FOUND');
    expect((await view(s)).links.hostUrl).toBe(s.hostUrl);

    const res = await newHostLink(s);
    expect(res.status, res.text).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { hostUrl } = res.json<{ hostUrl: string }>();
    expect(hostUrl).toMatch(new RegExp(`^${base}/j/[A-Za-z0-9_-]{32}$`));
    expect(hostUrl).not.toBe(s.hostUrl);
    const v = await view(s);
    expect(v.links.hostUrl).toBe(hostUrl);
    expect(v.links.joinUrl).toBe(s.joinUrl);
    expect(v.hostLinkOpened).toBe(false);
    expect((await audit(s)).some((e) => e.event === 'invites' && /new host link/.test(e.detail ?? ''))).toBe(true);

    // The old link: dead for everyone, its first browser too.
    expect((await openLink(port, s.hostUrl)).status).toBe(404);
    expect((await openLink(port, s.hostUrl, hostP.gatewayCookie)).status).toBe(404);
    // The old host stays host: its proxied cookie works, the invite page is still its.
    expect((await callNode(port, 'GET', `${hostP.proxiedOrigin}/`, { headers: { cookie: hostP.cookie, accept: 'text/html' } })).status).toBe(200);
    expect((await openLink(port, `${base}/s/${s.id}/invite`, hostP.gatewayCookie)).status).toBe(200);

    // The old host's own browser opening the new link goes back in as itself, and leaves it unopened.
    const own = await openLink(port, hostUrl, hostP.gatewayCookie);
    expect(own.status).toBe(302);
    expect(setCookieOf(own)).toBe(hostP.gatewayCookie);
    expect((await view(s)).hostLinkOpened).toBe(false);

    // The new link: one new host, then refused for the others, back in for its browser.
    const second = await join(port, hostUrl);
    expectHostLinkUsedPage(await openLink(port, hostUrl));
    expect((await openLink(port, hostUrl, second.gatewayCookie)).status).toBe(302);
    const after = await view(s);
    expect(after.hostLinkOpened).toBe(true);
    expect(after.participants.map((p) => p.role)).toEqual(['host', 'host']);
    expect(after.participants[0]?.id).toBe(hostId);
    expect((await callNode(port, 'GET', `${second.proxiedOrigin}/`, { headers: { cookie: second.cookie, accept: 'text/html' } })).status).toBe(200);

    await t.call('DELETE', `${base}/api/sessions/${s.id}`, { headers: admin(s) });
    expect((await newHostLink(s)).status).toBe(404);
  });

  it('the invite page: "New host link" (same origin and its token only) shows the new link once, in its answer; it opens once', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await join(port, s.hostUrl);
    const ctlP = await join(port, s.joinUrl);
    const page = await openLink(port, `${base}/s/${s.id}/invite`, hostP.gatewayCookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="new-host-link"');
    expect(page.text).toContain('lets someone else become a host');
    expect(page.text).toContain('It opens once');
    expect(page.text).toContain('The current host link has been opened');
    expect(page.text).not.toContain(secretOf(s.hostUrl));
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const current = /name="current" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    expect(current).toMatch(/^[\w-]{22}$/);
    expect(current).not.toContain(secretOf(s.hostUrl).slice(0, 8));
    const path = `/s/${s.id}/invite/host-link`;

    // Refused: a proxied page's form or fetch (same site), no token, another token, a follower, a stranger.
    const foreign = await postForm(port, base, path, hostP.gatewayCookie, { csrf }, { origin: hostP.proxiedOrigin, 'sec-fetch-site': 'same-site' });
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('BAD_ORIGIN');
    expect((await postForm(port, base, path, hostP.gatewayCookie, { csrf }, { origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await postForm(port, base, path, hostP.gatewayCookie, {})).text).toContain('FORBIDDEN');
    expect((await postForm(port, base, path, hostP.gatewayCookie, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await postForm(port, base, path, ctlP.gatewayCookie, { csrf })).status).toBe(403);
    expect((await postForm(port, base, path, '', { csrf })).status).toBe(403);
    expect((await view(s)).links.hostUrl).toBe(s.hostUrl);

    // The page's own form: the answer is the page with the new link, not a redirect.
    const logsBefore = t.logs.length;
    const res = await postForm(port, base, path, hostP.gatewayCookie, { csrf, current }, { origin: 'null' });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toContain('A new host link is ready');
    const hostUrl = /id="hostUrl" type="text" readonly value="([^"]+)"/.exec(res.text)?.[1] ?? '';
    expect(hostUrl).toMatch(/\/j\/[\w-]{32}$/);
    expect(hostUrl).not.toBe(s.hostUrl);
    expect(hostUrl).toBe((await view(s)).links.hostUrl);
    expect(res.text).toContain('Shown this once');
    // Its forms still work from that answer (same token).
    expect(res.text).toContain(`name="csrf" value="${csrf}"`);
    // The secret is in no log line, and the page shown again does not carry it.
    expect(JSON.stringify(t.logs.slice(logsBefore))).not.toContain(secretOf(hostUrl));
    const again = await openLink(port, `${base}/s/${s.id}/invite`, hostP.gatewayCookie);
    expect(again.text).not.toContain(secretOf(hostUrl));
    expect(again.text).toContain('The current host link has not been opened yet');

    // The same form sent again (a reload of its answer, an older tab), or one that names no link:
    // nothing changes, so the link just given out keeps working.
    const nextCurrent = /name="current" value="([^"]+)"/.exec(res.text)?.[1] ?? '';
    expect(nextCurrent).not.toBe(current);
    for (const fields of [{ csrf, current }, { csrf }, { csrf, current: 'x'.repeat(22) }] as Record<string, string>[]) {
      const resent = await postForm(port, base, path, hostP.gatewayCookie, fields, { origin: 'null' });
      expect(resent.status, resent.text).toBe(409);
      expect(resent.text).toContain('Nothing changed: this form was sent before');
      expect(resent.text).not.toContain(secretOf(hostUrl));
      expect(resent.text).toContain(`name="current" value="${nextCurrent}"`);
      expect((await view(s)).links.hostUrl).toBe(hostUrl);
    }

    // The old link stops; the new one opens once; the old host stays.
    expect((await openLink(port, s.hostUrl)).status).toBe(404);
    expect((await openLink(port, hostUrl)).status).toBe(302);
    expectHostLinkUsedPage(await openLink(port, hostUrl));
    const roles = (await view(s)).participants.map((p) => p.role).sort();
    expect(roles).toEqual(['controller', 'host', 'host']);
    expect((await openLink(port, `${base}/s/${s.id}/invite`, hostP.gatewayCookie)).text).toContain('The current host link has been opened');
    const entries = await audit(s);
    expect(entries.some((e) => e.event === 'invites' && e.role === 'host' && /new host link/.test(e.detail ?? ''))).toBe(true);
  });
});

describe('host links on two nodes of one Redis', () => {
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

  it('browsers opening a fresh host link on both nodes at once: exactly one host; a new host link made on A stops the old one on B at once', async () => {
    const [a, b] = nodes as [TestGateway, TestGateway];
    const pa = a.gateway.port;
    const pb = b.gateway.port;
    const s = await createSession(a, `${a.demoOrigin}/`);
    // Both nodes know the session (and the link) before the race.
    expect((await callNode(pb, 'GET', `${publicUrl}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => openLink(i % 2 === 0 ? pa : pb, s.hostUrl)));
    expect(answers.filter((r) => r.status === 302)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 409)).toHaveLength(7);
    const winner = answers.find((r) => r.status === 302) as Reply;
    const view = async (port: number) =>
      JSON.parse((await callNode(port, 'GET', `${publicUrl}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).text) as {
        participants: { role: string }[];
        links: { hostUrl: string };
        hostLinkOpened: boolean;
      };
    expect((await view(pa)).participants.map((p) => p.role)).toEqual(['host']);
    expect((await view(pb)).hostLinkOpened).toBe(true);
    // Its browser gets back in through either node.
    expect((await openLink(pa, s.hostUrl, setCookieOf(winner))).status).toBe(302);
    expect((await openLink(pb, s.hostUrl, setCookieOf(winner))).status).toBe(302);

    const rotated = await callNode(pa, 'POST', `${publicUrl}/api/sessions/${s.id}/host-link`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(rotated.status).toBe(200);
    const { hostUrl } = JSON.parse(rotated.text) as { hostUrl: string };
    expect((await openLink(pb, s.hostUrl)).status).toBe(404);
    expect((await openLink(pb, s.hostUrl, setCookieOf(winner))).status).toBe(404);
    expect((await openLink(pb, hostUrl)).status).toBe(302);
    expect((await openLink(pa, hostUrl)).status).toBe(409);
    await expect.poll(async () => (await view(pb)).participants.map((p) => p.role)).toEqual(['host', 'host']);
    expect((await view(pb)).links.hostUrl).toBe(hostUrl);
  });
});
