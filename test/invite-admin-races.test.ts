// What "New links" and "Remove" must hold when they meet other requests half way: a join that
// looked its link up before the links were replaced gets nobody in whenever its write lands; a
// removed browser's marker lives as long as the session (Redis: `touch` extends it); a node's late
// connection count brings no removed participant back; a hub socket whose upgrade was being
// authenticated while its participant was removed is closed with the reason. Both state back
// ends, real gateways on 127.0.0.1 and a real redis-server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../gateway/log.js';
import type { SessionMembers } from '../gateway/session-members.js';
import type { SessionRegistry } from '../gateway/session-registry.js';
import { memoryBackend } from '../gateway/state/memory-store.js';
import { connectRedis, type RedisBackend } from '../gateway/state/redis-backend.js';
import type { RedisStore } from '../gateway/state/redis-store.js';
import type { ParticipantRecord, StateBackend, StateStore } from '../gateway/state/store.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { connectHub } from './helpers/hub-client.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const backends = ['memory', 'redis'] as const;

/** Stores a minimal session straight through a store; its invites are `h<id>`, `c<id>`, `o<id>`. */
async function storedSession(store: StateStore, id: string): Promise<void> {
  const record = {
    id,
    startUrl: 'https://a.example/',
    createdAt: Date.now(),
    adminToken: 't',
    invites: { host: `h${id}`, controller: `c${id}`, observer: `o${id}` },
    idleTimeoutMs: 60_000,
  };
  const fields = { currentUrl: record.startUrl, controlHolder: null, lastActivity: Date.now(), userAgent: null, acceptLanguage: null, live: null };
  expect(await store.createSession({ record, fields, participants: [], origins: [['o1', 'https://a.example']], connections: {} }, 1000)).toBe(true);
}

function participant(id: string, role: ParticipantRecord['role']): ParticipantRecord {
  return { id, name: id, role, token: `tok-${id}-${'x'.repeat(20)}`, joinedAt: Date.now(), color: '#000', enteredLabels: [] };
}

/** The gateway's own state back end (the registry keeps it private). */
const backendOf = (t: TestGateway) => (t.gateway.context.registry as unknown as { backend: StateBackend }).backend;

/** Opens a join link like a browser: the gateway-host cookie, then the enter bounce's participant cookie. */
async function joinWithCookies(t: TestGateway, link: string) {
  const first = await t.call('GET', link);
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const gatewayCookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
  const enter = new URL(String(first.headers.location));
  const second = await t.call('GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  return {
    gatewayCookie,
    token: gatewayCookie.split('=')[1] ?? '',
    cookie: String(second.headers['set-cookie']).split(';')[0] ?? '',
    proxiedOrigin: enter.origin,
  };
}

describe.each(backends)('invite races, state back end: %s', (backend) => {
  let redis: TestRedis | null = null;
  let direct: RedisBackend | null = null;
  let store: StateStore;
  let t: TestGateway;
  let registry: SessionRegistry;

  beforeAll(async () => {
    if (backend === 'redis') {
      redis = await startTestRedis();
      direct = await connectRedis(redis.url, new Logger('silent'), { maxTailBatches: 100, maxTailBytes: 1e7 }, 'racetest:');
    }
    store = direct ? direct.store : memoryBackend().store;
    t = await startTestGateway({ ...(redis ? { redis: redis.url } : {}), sessions: { idleTimeout: '2s' } });
    registry = t.gateway.context.registry;
  });
  afterAll(async () => {
    await t?.close();
    await direct?.close();
    await redis?.close();
  });

  it('the store refuses a join by an invite that "New links" replaced after it was looked up', async () => {
    const id = `race${backend}sessionaaaaaaaaa`.slice(0, 26);
    await storedSession(store, id);
    const oldController = `c${id}`;
    const oldObserver = `o${id}`;
    // Looked up (and current) before the rotation: admitted.
    expect(await store.inviteOf(oldController)).toEqual({ sessionId: id, role: 'controller' });
    expect(await store.addParticipant(id, participant('pbefore', 'controller'), 10, oldController)).toBe('ok');
    expect(await store.rotateInvites(id, { controller: `c2${id}`, observer: `o2${id}` })).toBe(true);
    // The same links, captured before the rotation, landing after it: refused, nothing written.
    const late = participant('plate', 'controller');
    expect(await store.addParticipant(id, late, 10, oldController)).toBe('gone');
    expect(await store.addParticipant(id, participant('plate2', 'observer'), 10, oldObserver)).toBe('gone');
    expect(await store.participantOf(late.token)).toBeNull();
    expect((await store.loadSession(id))?.participants.map((p) => p.id)).toEqual(['pbefore']);
    // A current invite admits only its own role; the new links and the host's work.
    expect(await store.addParticipant(id, participant('pwrong', 'controller'), 10, `o2${id}`)).toBe('gone');
    expect(await store.addParticipant(id, participant('pnew', 'controller'), 10, `c2${id}`)).toBe('ok');
    expect(await store.addParticipant(id, participant('pobs', 'observer'), 10, `o2${id}`)).toBe('ok');
    expect(await store.addParticipant(id, participant('phost', 'host'), 10, `h${id}`)).toBe('ok');
    expect((await store.loadSession(id))?.participants.map((p) => p.id).sort()).toEqual(['pbefore', 'phost', 'pnew', 'pobs']);
  });

  it('/j/ with an old link whose lookup ran before "New links" and whose join lands after it: 404, nobody added', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    await t.join(s.hostUrl);
    const session = await registry.load(s.id);
    if (!session) throw new Error('no session');
    const { store: gwStore } = backendOf(t);
    const original = gwStore.addParticipant;
    let rotated = false;
    // The join step of /j/ <old link> reaches the store only after the host's "New links" returned.
    gwStore.addParticipant = async (...args) => {
      if (!rotated) {
        rotated = true;
        await registry.members.rotateInvites(session, null);
      }
      return original.apply(gwStore, args);
    };
    let res: Awaited<ReturnType<TestGateway['call']>>;
    try {
      res = await t.call('GET', s.joinUrl);
    } finally {
      gwStore.addParticipant = original;
    }
    expect(rotated).toBe(true);
    expect(res.status, res.text).toBe(404);
    expect(res.text).toContain('SESSION_NOT_FOUND');
    expect(res.headers['set-cookie']).toBeUndefined();
    const view = (await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).json<{
      participants: { role: string }[];
    }>();
    expect(view.participants.map((p) => p.role)).toEqual(['host']);
  });

  it('a late connection count of a node brings no removed participant back', async () => {
    const id = `conn${backend}sessionaaaaaaaaa`.slice(0, 26);
    await storedSession(store, id);
    expect(await store.addParticipant(id, participant('pgone', 'observer'), 10, `o${id}`)).toBe('ok');
    await store.setConnections(id, 'pgone', 1);
    expect(await store.removeParticipant(id, 'pgone')).toBe(true);
    await store.setConnections(id, 'pgone', 2);
    const state = await store.loadSession(id);
    expect(state?.removed).toEqual(['pgone']);
    expect(state?.connections.pgone).toBeUndefined();
    if (direct) {
      // What the node wrote, as stored: no count at all for the removed participant.
      const fields = await direct.store.redis.hgetall(direct.store.keys.part(id, 'c'));
      expect(Object.keys(fields).filter((f) => f.endsWith('|pgone'))).toEqual([]);
    }
  });

  it('a hub socket whose upgrade was authenticated just before its participant was removed is closed with REMOVED (4000)', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    await t.join(s.hostUrl);
    const ctlP = await t.join(s.joinUrl);
    const members = registry.members;
    const original = members.participantByToken;
    let removedId: string | null = null;
    // The host's Remove lands after the upgrade found the participant, before the socket opens.
    members.participantByToken = async function (this: SessionMembers, ...args) {
      const found = await original.apply(members, args);
      if (found && !removedId && found.participant.role === 'controller') {
        removedId = found.participant.id;
        await registry.members.removeParticipant(found.session, found.participant.id, 'The host removed you from this session.', null);
      }
      return found;
    };
    let client: Awaited<ReturnType<typeof connectHub>>;
    try {
      client = await connectHub(t.gateway.port, ctlP.proxiedOrigin, ctlP.cookie);
    } finally {
      members.participantByToken = original;
    }
    expect(removedId).not.toBeNull();
    client.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    const told = await client.next('error', 0, 3000);
    expect(told.code).toBe('REMOVED');
    expect(await client.closed).toBe(4000);
    expect(client.messages.some((m) => m.type === 'welcome')).toBe(false);
  });
});

describe('Redis: the removed-token marker lives as long as the session', () => {
  let redis: TestRedis;
  let t: TestGateway;

  beforeAll(async () => {
    redis = await startTestRedis();
    t = await startTestGateway({ redis: redis.url, sessions: { idleTimeout: '2s' } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  it('touch extends a removed participant’s marker: /j/ with its cookie still answers 403 REMOVED after the TTL at removal', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    await t.join(s.hostUrl);
    const ctlP = await joinWithCookies(t, s.joinUrl);
    const registry = t.gateway.context.registry;
    const session = await registry.load(s.id);
    const ctl = [...(session?.participants.values() ?? [])].find((p) => p.token === ctlP.token);
    if (!session || !ctl) throw new Error('no controller');
    await registry.members.removeParticipant(session, ctl.id, 'The host removed you from this session.', null);
    const store = backendOf(t).store as RedisStore;
    const marker = store.keys.token(ctlP.token);
    expect(await store.redis.get(marker)).toBe(`${s.id}|${ctl.id}|removed`);
    // The TTL the marker took at the removal runs out (idle timeout + 10 min grace there; here
    // shortened to 400 ms, as if that long had passed) while the session is kept alive by activity.
    await store.redis.pexpire(marker, 400);
    await store.touch(s.id, Date.now(), session.idleTimeoutMs);
    expect(await store.redis.pttl(marker)).toBeGreaterThan(60_000);
    await new Promise((r) => setTimeout(r, 600));
    const again = await t.call('GET', s.joinUrl, { headers: { cookie: ctlP.gatewayCookie } });
    expect(again.status, again.text).toBe(403);
    expect(again.text).toContain('REMOVED');
    // The session's end takes the marker with it.
    await t.call('DELETE', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(await store.redis.exists(marker)).toBe(0);
  });
});
