// One suite, both state back ends: the embedded one (memory) and Redis (a real redis-server on a
// free loopback port). What a session keeps must behave the same on each: participants and
// tickets, the hub's sequence numbers and replay, chat, audit, the cookie jar, idle expiry.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCookieJar } from '../gateway/cookie-jar.js';
import { Logger } from '../gateway/log.js';
import { memoryBackend } from '../gateway/state/memory-store.js';
import { connectRedis } from '../gateway/state/redis-backend.js';
import type { StateStore } from '../gateway/state/store.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { callNode, connectHub, type HubClient, pageTree } from './helpers/hub-client.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const backends = ['memory', 'redis'] as const;

/** Stores a minimal session straight through a store (the jar and stream tests need one). */
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

describe.each(backends)('state back end: %s', (backend) => {
  let redis: TestRedis | null = null;
  let t: TestGateway;

  beforeAll(async () => {
    if (backend === 'redis') redis = await startTestRedis();
    t = await startTestGateway({ ...(redis ? { redis: redis.url } : {}), sessions: { idleTimeout: '2s' } }, { sweepIntervalMs: 200 });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.close();
  });

  async function liveHost() {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await t.join(s.hostUrl);
    const host = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    host.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    await host.next('welcome');
    return { s, hostP, host };
  }

  function mutation(text: string) {
    return { type: 'mutations', batch: [{ k: 'text', id: 4, v: text }] };
  }

  it('keeps participants, their tokens and one-time tickets', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const first = await t.call('GET', s.joinUrl);
    expect(first.status).toBe(302);
    const enter = new URL(String(first.headers.location));
    const ok = await t.call('GET', enter.href);
    expect(ok.status).toBe(302);
    const again = await t.call('GET', enter.href);
    expect(again.status).toBe(403);
    expect(again.text).toContain('TICKET_INVALID');
    const cookie = String(ok.headers['set-cookie']).split(';')[0] ?? '';
    const page = await t.call('GET', `${enter.origin}/__cobrowse/view`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const stranger = await t.call('GET', `${enter.origin}/__cobrowse/map?origin=x`, { headers: { cookie: '__cobrowse=forged' } });
    expect(stranger.status).toBe(401);
    const view = await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(view.json<{ participants: { role: string }[] }>().participants.map((p) => p.role)).toEqual(['controller']);
  });

  it('stamps gap-free sequence numbers and replays a late follower from its last seq', async () => {
    const { s, hostP, host } = await liveHost();
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree('v0') });
    const obsP = await t.join(s.observeUrl);
    const follower = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    follower.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await follower.next('snapshot');
    for (let i = 1; i <= 20; i++) host.send(mutation(`v${i}`));
    await expect.poll(() => follower.seqs().length).toBe(21);
    expect(follower.seqs()).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));

    // Resuming from seq 15 gets 16..21 only; without a seq, the snapshot and the whole tail.
    const resumed = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    resumed.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 15 });
    await expect.poll(() => resumed.seqs()).toEqual([16, 17, 18, 19, 20, 21]);
    const fresh = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    fresh.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await expect.poll(() => fresh.seqs().length).toBe(21);
    expect(fresh.messages.find((m) => m.type === 'snapshot')?.seq).toBe(1);

    // A new snapshot restarts the tail; the stream goes on with the next seq.
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree('again') });
    host.send(mutation('after'));
    await expect.poll(() => follower.seqs().slice(-2)).toEqual([22, 23]);
    const late = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    late.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 5 });
    await expect.poll(() => late.seqs()).toEqual([22, 23]);
    for (const c of [host, follower, resumed, fresh, late]) c.ws.close();
  });

  it('refuses stream messages from anyone but the live host, and drops an observer input at the server', async () => {
    const { s, hostP, host } = await liveHost();
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree() });
    const obsP = await t.join(s.observeUrl);
    const observer = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    observer.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await observer.next('snapshot');
    observer.send(mutation('forged'));
    observer.send({ type: 'input', event: { kind: 'click', target: 4, x: 1, y: 1 } });
    expect((await observer.next('error')).code).toBe('FORBIDDEN');
    host.send(mutation('real'));
    await expect.poll(() => observer.seqs()).toEqual([1, 2]);
    const batch = observer.messages.find((m) => m.type === 'mutations') as { batch: { v: string }[] } | undefined;
    expect(batch?.batch[0]?.v).toBe('real');
    expect(host.messages.some((m) => m.type === 'input')).toBe(false);
    host.ws.close();
    observer.ws.close();
  });

  it('stores chat before showing it, replays the history to a newcomer, and keeps the audit log', async () => {
    const { s, host } = await liveHost();
    host.send({ type: 'chat', text: '  hello there  ' });
    const echoed = await host.next('chat');
    expect(echoed).toMatchObject({ text: 'hello there', name: 'Host' });
    const joinP = await t.join(s.joinUrl);
    const guest: HubClient = await connectHub(t.gateway.port, joinP.proxiedOrigin, joinP.cookie);
    expect(await guest.next('chat')).toMatchObject({ text: 'hello there' });
    guest.send({ type: 'name', name: 'Ada' });
    await expect
      .poll(() => host.messages.filter((m) => m.type === 'roster').at(-1))
      .toMatchObject({ participants: expect.arrayContaining([expect.objectContaining({ name: 'Ada', role: 'controller', connected: true })]) });
    const audit = await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}/audit`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(audit.json<{ entries: { event: string; role?: string }[] }>().entries.map((e) => `${e.event}:${e.role}`)).toEqual(['join:host', 'join:controller']);
    host.ws.close();
    guest.ws.close();
  });

  it('ends an idle session everywhere: links, tokens and the API answer that it is gone', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await t.join(s.hostUrl);
    await expect
      .poll(async () => (await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).status, {
        timeout: 8000,
      })
      .toBe(404);
    expect((await t.call('GET', s.hostUrl)).status).toBe(404);
    expect((await t.call('GET', `${hostP.proxiedOrigin}/`, { headers: { cookie: hostP.cookie } })).status).toBe(404);
    if (redis) {
      const keys = await redis.client().keys(`cobrowse:*${s.id}*`);
      expect(keys).toEqual([]);
    }
  });

  it('keeps a session while someone is connected, however long it stays idle', async () => {
    const { s, host } = await liveHost();
    await new Promise((r) => setTimeout(r, 3000));
    const view = await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(view.status).toBe(200);
    host.ws.close();
  });

  it('reports its health, with the number of sessions over every node', async () => {
    const res = await callNode(t.gateway.port, 'GET', `${t.gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'ok', state: 'ok', sessions: expect.any(Number) });
  });

  it('refuses batches past four times the tail limits until a snapshot, and recreates nothing of an ended session', async () => {
    const limits = { maxTailBatches: 10, maxTailBytes: 1e6 };
    const shared = backend === 'redis' && redis ? await connectRedis(redis.url, new Logger('silent'), limits, 'tailtest:') : null;
    const { store } = shared ?? memoryBackend(limits);
    const id = 'tailtestsessionaaaaaaaaaaa';
    await storedSession(store, id);
    expect(await store.recordMutations(id, [{ k: 'text', id: 1, v: 'x' }])).toBeNull();
    await store.recordSnapshot(id, { url: 'http://h/', title: 't', viewport: { w: 1, h: 1 }, tree: { t: 'doc', id: 0, c: [] } });
    const results = [];
    for (let i = 0; i < 41; i++) results.push(await store.recordMutations(id, [{ k: 'text', id: 1, v: `v${i}` }]));
    expect(results.slice(0, 10).every((r) => r && !r.wantsSnapshot)).toBe(true);
    expect(results[10]?.wantsSnapshot).toBe(true);
    expect(results[39]).not.toBeNull();
    expect(results[40]).toBeNull();
    expect((await store.readCheckpoint(id)).lastSeq).toBe(41);
    await store.recordSnapshot(id, { url: 'http://h/', title: 't', viewport: { w: 1, h: 1 }, tree: { t: 'doc', id: 0, c: [] } });
    expect((await store.recordMutations(id, [{ k: 'text', id: 1, v: 'after' }]))?.seq).toBe(43);

    const jar = new SessionCookieJar(undefined, undefined, undefined, store.cookieStore(id));
    expect(await store.endSession(id)).toBe(true);
    await store.setConnections(id, 'p1', 2);
    await jar.store(['late=1; Path=/'], new URL('https://a.example/'), 'strict');
    if (redis) expect(await redis.client().keys(`tailtest:*${id}*`)).toEqual([]);
    expect(await store.loadSession(id)).toBeNull();
    await shared?.close();
  });

  it('keeps every cookie when two jars of one session (two nodes) set different cookies at once', async () => {
    const log = new Logger('silent');
    const a = backend === 'redis' && redis ? await connectRedis(redis.url, log, { maxTailBatches: 10, maxTailBytes: 1e6 }, 'jartest:') : null;
    const b = backend === 'redis' && redis ? await connectRedis(redis.url, log, { maxTailBatches: 10, maxTailBytes: 1e6 }, 'jartest:') : null;
    const mem = memoryBackend();
    await storedSession(a ? a.store : mem.store, 'jartestsessionaaaaaaaaaaa');
    const storeA = a ? a.store.cookieStore('jartestsessionaaaaaaaaaaa') : mem.store.cookieStore('jartestsessionaaaaaaaaaaa');
    const storeB = b ? b.store.cookieStore('jartestsessionaaaaaaaaaaa') : storeA;
    const jarA = new SessionCookieJar(undefined, undefined, undefined, storeA);
    const jarB = new SessionCookieJar(undefined, undefined, undefined, storeB);
    const url = new URL('https://shop.example.com/cart');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? jarA : jarB).store([`c${i}=v${i}; Path=/`, `shared=from${i % 2 === 0 ? 'a' : 'b'}; Path=/`], url, 'strict'),
      ),
    );
    const header = await jarA.cookieHeader(url, 'strict');
    for (let i = 0; i < 40; i++) expect(header).toContain(`c${i}=v${i}`);
    expect(header.match(/shared=/g)).toHaveLength(1);
    expect(await jarB.cookieHeader(url, 'strict')).toBe(header);
    await jarA.setFromScript('c0=changed; Path=/', url, 'strict');
    expect(await jarB.cookieHeader(url, 'strict')).toContain('c0=changed');
    expect(await jarB.cookieHeader(new URL('https://other.example.org/'), 'strict')).toBe('');
    await a?.close();
    await b?.close();
  });
});
