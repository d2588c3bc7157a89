// Three gateway nodes (in this process) sharing one real redis-server, addressed one by one with
// protocol-level clients: one gap-free stream while the host page moves between nodes, what one
// node creates is known at once on the others, and the session's keys carry its expiry.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { callNode, connectHub, type HubClient, joinOnNodes, pageTree } from './helpers/hub-client.js';
import { freePort, startTestRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let nodes: TestGateway[] = [];
let second: Server;
let secondOrigin: string;

beforeAll(async () => {
  redis = await startTestRedis();
  second = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`second site: ${req.url}`);
  });
  await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
  secondOrigin = `http://127.0.0.1:${(second.address() as { port: number }).port}`;
  const publicUrl = `http://cobrowse.localhost:${await freePort()}`;
  const first = await startTestGateway({ redis: redis.url, publicUrl, sites: [{ url: secondOrigin, privateNetwork: true }], sessions: { idleTimeout: '10m' } });
  nodes = [first];
  for (let i = 0; i < 2; i++) {
    nodes.push(
      await startTestGateway({
        redis: redis.url,
        publicUrl,
        demo: { enabled: false },
        sites: [
          { url: first.demoOrigin, privateNetwork: true },
          { url: secondOrigin, privateNetwork: true },
        ],
        sessions: { idleTimeout: '10m' },
      }),
    );
  }
});
afterAll(async () => {
  for (const n of nodes) await n.close();
  await new Promise((r) => second?.close(r));
  await redis?.close();
});

const port = (i: number) => nodes[i]!.gateway.port;

describe('one session on three nodes', () => {
  it('followers on every node get one gap-free stream while the host page moves from node to node', async () => {
    const [a] = nodes as [TestGateway];
    const s = await createSession(a, `${a.demoOrigin}/`);
    const hostP = await joinOnNodes(port(0), port(1), s.hostUrl);
    const followers: HubClient[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await joinOnNodes(port(i), port(i), s.observeUrl);
      const f = await connectHub(port(i), p.proxiedOrigin, p.cookie);
      f.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
      await f.next('waiting-for-host');
      followers.push(f);
    }
    let sent = 0;
    for (let hop = 0; hop < 3; hop++) {
      // The host's page reconnects through another node, as after a reload or a node's restart.
      const host = await connectHub(port(hop), hostP.proxiedOrigin, hostP.cookie);
      host.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
      await host.next('welcome');
      host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: pageTree(`hop ${hop}`) });
      sent++;
      for (let i = 0; i < 50; i++) {
        host.send({ type: 'mutations', batch: [{ k: 'text', id: 4, v: `hop ${hop} change ${i}` }] });
        sent++;
      }
      await expect.poll(() => followers.map((f) => f.seqs().length)).toEqual([sent, sent, sent]);
      host.ws.close();
      await host.closed;
    }
    const expected = Array.from({ length: sent }, (_, i) => i + 1);
    for (const f of followers) expect(f.seqs()).toEqual(expected);
    // Every follower applied the same last change.
    const last = followers.map((f) => JSON.stringify(f.messages.filter((m) => m.type === 'mutations').at(-1)));
    expect(new Set(last).size).toBe(1);
    for (const f of followers) f.ws.close();
  });

  it('what one node creates is known at once on the others: participants, tickets, origin labels', async () => {
    const [a] = nodes as [TestGateway];
    const s = await createSession(a, `${a.demoOrigin}/`);
    // Join link on node 1, its ticket redeemed on node 2, the page asked for on node 0.
    const guest = await joinOnNodes(port(1), port(2), s.joinUrl);
    const view = await callNode(port(0), 'GET', `${guest.proxiedOrigin}/__cobrowse/view`, { headers: { cookie: guest.cookie } });
    expect(view.status).toBe(200);
    const hostP = await joinOnNodes(port(2), port(0), s.hostUrl);
    const page = await callNode(port(1), 'GET', `${hostP.proxiedOrigin}/`, { headers: { cookie: hostP.cookie, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Demo Shop');

    // Node 0 labels a second origin (a navigation there); node 1 serves that label at once.
    const go = await callNode(port(0), 'GET', `${hostP.proxiedOrigin}/__cobrowse/go?url=${encodeURIComponent(`${secondOrigin}/path?q=1`)}`, {
      headers: { cookie: hostP.cookie },
    });
    expect(go.status).toBe(302);
    const target = new URL(String(go.headers.location));
    expect(target.hostname).toMatch(new RegExp(`^h[a-z2-7]{10}--${s.id}\\.`));
    const bounce = await callNode(port(1), 'GET', target.href, {
      headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' },
    });
    expect(bounce.status).toBe(302);
    expect(String(bounce.headers.location)).toContain(`/t/${s.id}?host=`);
    // The host's browser opening its host link again (its gateway-host cookie goes along) is taken back in.
    const entered = await joinOnNodes(port(2), port(1), s.hostUrl, hostP.gatewayCookie);
    expect(entered.proxiedOrigin).toBe(hostP.proxiedOrigin);
    const cross = await callNode(port(2), 'GET', `${hostP.proxiedOrigin}/__cobrowse/cross-enter?label=${target.hostname.split('--')[0]}`, {
      headers: { cookie: hostP.cookie },
    });
    expect(cross.status).toBe(302);
    const enter = await callNode(port(0), 'GET', String(cross.headers.location));
    expect(enter.status).toBe(302);
    const cookie = String(enter.headers['set-cookie']).split(';')[0] ?? '';
    const proxied = await callNode(port(1), 'GET', target.href, { headers: { cookie } });
    expect(proxied.text).toBe('second site: /path?q=1');
  });

  it("keeps the session's keys with its expiry, extended by activity", async () => {
    const [a] = nodes as [TestGateway];
    const s = await createSession(a, `${a.demoOrigin}/`);
    await joinOnNodes(port(1), port(2), s.joinUrl);
    const client = redis.client();
    const keys = await client.keys(`cobrowse:*${s.id}*`);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    const idleMs = 10 * 60_000;
    for (const key of keys) {
      const ttl = await client.pttl(key);
      expect(ttl, key).toBeGreaterThan(idleMs);
      expect(ttl, key).toBeLessThanOrEqual(idleMs + 10 * 60_000);
    }
    const tokens = await client.keys('cobrowse:tok:*');
    for (const key of tokens) expect(await client.pttl(key), key).toBeGreaterThan(0);
    const invites = await client.keys('cobrowse:inv:*');
    for (const key of invites) expect(await client.pttl(key), key).toBeGreaterThan(0);
    const score = Number(await client.zscore('cobrowse:sessions', s.id));
    expect(score).toBeGreaterThan(Date.now() + idleMs - 60_000);
  });
});
