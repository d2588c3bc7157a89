// Redis going away: unreachable at start is a clear error; restarted mid-session, the gateway
// reports degraded health, refuses what it cannot store (nothing is silently lost), and
// recovers by itself when Redis returns. Two gateway nodes share the Redis here.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/schema.js';
import { Logger } from '../gateway/log.js';
import { startGateway } from '../gateway/server.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { configDir } from './helpers/cluster.js';
import { createSession, startTwoNodes, type TestGateway } from './helpers/gateway.js';
import { callNode, connectHub, joinOnNodes, pageTree } from './helpers/hub-client.js';
import { freePort, startTestRedis, type TestRedis } from './helpers/redis.js';

describe('Redis unreachable at start', () => {
  it('startGateway fails with a clear error that names the Redis (password hidden)', async () => {
    const port = await freePort();
    const config = validateConfig({ server: { port: 0 }, sites: ['https://example.com'], redis: `redis://user:secret@127.0.0.1:${port}` }, 'test');
    const started = startGateway(config, { log: new Logger('silent'), injectBundle: new Uint8Array() });
    await expect(started).rejects.toThrow(new RegExp(`^Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/? is unreachable: .+`));
    await expect(started).rejects.not.toThrow(/secret/);
  });

  it('the gateway command exits 1 and says why', async () => {
    const port = await freePort();
    const dir = configDir();
    const file = dir.write('gw.yaml', 'sites: [https://example.com]\n');
    const r = spawnSync(process.execPath, ['dist/gateway.js', '--config', file, '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'silent' },
      timeout: 20_000,
    });
    dir.remove();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`The gateway could not start: Redis at redis://127\\.0\\.0\\.1:${port}/? is unreachable`));
  });
});

describe('Redis restarted mid-session', () => {
  let redis: TestRedis;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    redis = await startTestRedis();
    // The second node proxies the first node's demo site (one shared origin for the session).
    ({ a, b } = await startTwoNodes(redis.url));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.close();
  });

  it('reports degraded health, refuses what it cannot store, and picks up where it was when Redis is back', async () => {
    const s = await createSession(a, `${a.demoOrigin}/`);
    const hostP = await joinOnNodes(a.gateway.port, a.gateway.port, s.hostUrl);
    const host = await connectHub(a.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    host.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    await host.next('welcome');
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree('before') });
    const guestP = await joinOnNodes(b.gateway.port, b.gateway.port, s.joinUrl);
    const guest = await connectHub(b.gateway.port, guestP.proxiedOrigin, guestP.cookie);
    guest.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await guest.next('snapshot');
    guest.send({ type: 'chat', text: 'said before the restart' });
    await host.next('chat');
    host.send({ type: 'mutations', batch: [{ k: 'text', id: 4, v: 'one' }] });
    await expect.poll(() => guest.seqs()).toEqual([1, 2]);

    await redis.kill();

    // Health: live but degraded; not ready.
    const ready = await callNode(a.gateway.port, 'GET', `${a.gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).checks.redis).toMatch(/Redis/);
    const health = JSON.parse((await callNode(b.gateway.port, 'GET', `${b.gateway.url}/healthz`)).text);
    expect(health).toMatchObject({ status: 'degraded' });
    expect(health.state).toMatch(/Redis/);

    // What cannot be stored is refused, with a reason, never dropped silently.
    const created = await callNode(a.gateway.port, 'POST', `${a.gateway.url}/api/sessions`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${a.demoOrigin}/` }),
    });
    expect(created.status).toBe(503);
    expect(JSON.parse(created.text).error.code).toBe('STATE_UNAVAILABLE');
    const chatFrom = guest.messages.length;
    guest.send({ type: 'chat', text: 'said while Redis was down' });
    expect((await guest.next('error', chatFrom)).code).toBe('CHAT_NOT_SENT');
    const hostFrom = host.messages.length;
    host.send({ type: 'mutations', batch: [{ k: 'text', id: 4, v: 'two (not recorded)' }] });
    expect((await host.next('error', hostFrom)).code).toBe('STATE_UNAVAILABLE');
    host.send({ type: 'mutations', batch: [{ k: 'text', id: 4, v: 'three (held back)' }] });
    // The host's second tab connects while Redis is down: its connection cannot be written now.
    const second = await connectHub(b.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    await second.next('welcome');

    await redis.start();

    // Ready again by itself; the host page is asked for a fresh snapshot, and mirrors get it next in line.
    await expect.poll(async () => (await callNode(a.gateway.port, 'GET', `${a.gateway.url}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    await host.next('request-snapshot', hostFrom, 15_000);
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree('after') });
    host.send({ type: 'mutations', batch: [{ k: 'text', id: 4, v: 'four' }] });
    await expect.poll(() => guest.seqs(), { timeout: 15_000 }).toEqual([1, 2, 3, 4]);
    const snapshot = guest.messages.filter((m) => m.type === 'snapshot').at(-1) as { tree: unknown } | undefined;
    expect(JSON.stringify(snapshot?.tree)).toContain('after');
    expect(guest.messages.some((m) => m.type === 'mutations' && JSON.stringify(m).includes('not recorded'))).toBe(false);

    // The session, its participants and the chat said before the restart are all still there.
    const info = await callNode(b.gateway.port, 'GET', `${b.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(info.status).toBe(200);
    // Node b wrote its connections again once Redis was back: node a sees the host's second tab.
    host.ws.close();
    await host.closed;
    const connected = async () => {
      const view = await callNode(a.gateway.port, 'GET', `${a.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      return (JSON.parse(view.text) as { participants: { role: string; connected: boolean }[] }).participants.find((p) => p.role === 'host')?.connected;
    };
    await expect.poll(connected, { timeout: 10_000 }).toBe(true);
    const obsP = await joinOnNodes(b.gateway.port, a.gateway.port, s.observeUrl);
    const late = await connectHub(a.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    expect(await late.next('chat')).toMatchObject({ text: 'said before the restart' });
    // The host's second tab becomes the live page now that the first is gone (a socket of the host
    // gets nothing of the session before it says so), and gets the history and what is said next.
    second.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    await expect.poll(() => second.messages.filter((m) => m.type === 'chat').map((m) => m.text)).toContain('said before the restart');
    guest.send({ type: 'chat', text: 'said after' });
    await expect.poll(() => second.messages.filter((m) => m.type === 'chat').map((m) => m.text)).toContain('said after');
    for (const c of [guest, late, second]) c.ws.close();
  }, 60_000);
});
