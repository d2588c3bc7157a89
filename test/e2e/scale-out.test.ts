// Several gateway processes, one Redis, a load balancer without sticky sessions, real Chromium:
// participants of one session on different nodes see one page, act on it, chat, share a login,
// and keep going when a node is killed (-9) or drained (SIGTERM).

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoSite, startDemoSite } from '../../demo/site.js';
import { converge, launchBrowser, mirrorBody, newParticipant } from '../helpers/browser.js';
import { type Balancer, configDir, type GatewayNode, startBalancer, startNode } from '../helpers/cluster.js';
import { callNode } from '../helpers/hub-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let demo: DemoSite;
let lb: Balancer;
const nodes: GatewayNode[] = [];
let browser: Browser;
let configPath: string;
const dir = configDir();

function gatewayUrl(): string {
  return `http://cobrowse.localhost:${lb.port}`;
}

async function addNode(): Promise<GatewayNode> {
  const node = await startNode(configPath);
  nodes.push(node);
  lb.backends.push(node.port);
  return node;
}

async function createSession(path: string) {
  const res = await callNode(lb.port, 'POST', `${gatewayUrl()}/api/sessions`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${demo.origin}${path}` }),
  });
  expect(res.status).toBe(201);
  return JSON.parse(res.text) as { id: string; hostUrl: string; joinUrl: string; observeUrl: string; adminToken: string };
}

/** Sum of one metric on a node (its own port, so it is that node's figure). */
async function metric(node: GatewayNode, name: string, label = ''): Promise<number> {
  const res = await callNode(node.port, 'GET', `${gatewayUrl()}/metrics`);
  let sum = 0;
  for (const line of res.text.split('\n')) if (line.startsWith(name) && line.includes(label)) sum += Number(line.split(' ').at(-1));
  return sum;
}

beforeAll(async () => {
  redis = await startTestRedis();
  demo = await startDemoSite();
  lb = await startBalancer();
  configPath = dir.write(
    'node.yaml',
    `server: { host: 127.0.0.1, port: 0 }
publicUrl: ${gatewayUrl()}
redis: ${redis.url}
sessions: { hostGracePeriod: 30s }
sites:
  - url: ${demo.origin}
    name: Demo shop
    mask: [.private]
    privateNetwork: true
shutdown: { deadline: 3s }
`,
  );
  for (let i = 0; i < 3; i++) await addNode();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  for (const [i, n] of nodes.entries())
    for (const l of n.logs()) if (l.level !== 'info' || /host|live|hub/.test(String(l.msg))) console.log(i, JSON.stringify(l).slice(0, 300));
  await browser?.close();
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await lb?.close();
  await demo?.close();
  await redis?.close();
  dir.remove();
});

describe('one session over three gateway nodes', () => {
  it('participants on different nodes see the same page, act on it, chat and share the login', async () => {
    const session = await createSession('/products');
    lb.pin(0);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await expect.poll(() => host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await expect.poll(() => metric(nodes[0]!, 'cobrowse_ws_connections')).toBe(1);

    lb.pin(1);
    const controller = await newParticipant(browser);
    await controller.page.goto(session.joinUrl);
    await converge(controller.page, host.page);
    await expect.poll(() => metric(nodes[1]!, 'cobrowse_ws_connections')).toBe(1);

    lb.pin(2);
    const observer = await newParticipant(browser);
    await observer.page.goto(session.observeUrl);
    await converge(observer.page, host.page);
    await expect.poll(() => metric(nodes[2]!, 'cobrowse_ws_connections')).toBe(1);
    lb.pin(null);

    // The host's changes (node 0) reach both mirrors (nodes 1 and 2).
    await host.page.click('#add-item');
    await expect.poll(() => host.page.locator('#items li').count()).toBe(4);
    await converge(controller.page, host.page);
    await converge(observer.page, host.page);

    // The controller's click in its mirror (node 1) is applied in the host's page (node 0).
    await controller.page.frameLocator('#cobrowse-mirror').locator('#add-item').click();
    await expect.poll(() => host.page.locator('#items li').count()).toBe(5);
    await converge(observer.page, host.page);

    // Chat from node 1 reaches node 2.
    await controller.page.fill('#chat-input', 'Hello from another node');
    await controller.page.press('#chat-input', 'Enter');
    await expect.poll(() => observer.page.locator('#chat').innerText()).toContain('Hello from another node');

    // A login through whichever nodes the balancer picks is the session's login everywhere.
    await host.page.goto(new URL('/login', host.page.url()).href);
    await host.page.fill('#username', 'alice');
    await host.page.fill('#password', 'demo');
    await Promise.all([host.page.waitForURL(/\/account$/), host.page.click('#login-form [type="submit"]')]);
    await converge(controller.page, host.page);
    expect(await mirrorBody(observer.page)).toContain('Signed in as alice');
    // The host's page reads it (a follower gets the page's assets only, not its data).
    const proxied = new URL(host.page.url()).origin;
    for (let i = 0; i < 3; i++) {
      // Fresh connections: each fetch may land on another node; every one reads the shared jar.
      const account = await host.page.evaluate(
        async (u) => (await fetch(u, { cache: 'no-store', headers: { connection: 'close' } })).text(),
        `${proxied}/account`,
      );
      expect(account).toContain('Signed in as alice');
    }
    expect([...host.errors, ...controller.errors, ...observer.errors]).toEqual([]);
    await Promise.all([host.context.close(), controller.context.close(), observer.context.close()]);
  });

  it('a participant whose node is killed (-9) resumes on another node from its last seq, without a reload; a drained node loses nothing', async () => {
    const session = await createSession('/login');
    lb.pin(0);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.fill('#username', 'bob');
    await host.page.fill('#password', 'demo');
    await Promise.all([host.page.waitForURL(/\/account$/), host.page.click('#login-form [type="submit"]')]);
    await host.page.goto(new URL('/products', host.page.url()).href);
    await expect.poll(() => host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    lb.pin(1);
    const follower = await newParticipant(browser);
    await follower.page.goto(session.joinUrl);
    await converge(follower.page, host.page);
    lb.pin(2);
    const observer = await newParticipant(browser);
    await observer.page.goto(session.observeUrl);
    await converge(observer.page, host.page);
    lb.pin(null);
    await follower.page.evaluate('window.__notReloaded = true');
    await host.page.click('#add-item');
    await converge(follower.page, host.page);
    // Acknowledged before the nodes go: a chat message (shown to its sender) and a login (in the jar).
    await follower.page.fill('#chat-input', 'said before the crash');
    await follower.page.press('#chat-input', 'Enter');
    await expect.poll(() => follower.page.locator('#chat').innerText()).toContain('said before the crash');

    // kill -9 the follower's node: the balancer sends its reconnect to a node that is up.
    const killed = nodes[1]!;
    const resumedBefore =
      (await metric(nodes[0]!, 'cobrowse_ws_mirror_syncs_total', 'kind="tail"')) + (await metric(nodes[2]!, 'cobrowse_ws_mirror_syncs_total', 'kind="tail"'));
    await killed.stop('SIGKILL');
    lb.backends.splice(lb.backends.indexOf(killed.port), 1);
    await host.page.click('#add-item');
    await host.page.click('#add-item');
    await expect.poll(() => host.page.locator('#items li').count()).toBe(6);
    await converge(follower.page, host.page, 20_000);
    expect(await follower.page.evaluate('window.__notReloaded === true')).toBe(true);
    // The chat history came again with the new welcome: shown once, not twice.
    expect((await follower.page.locator('#chat').innerText()).split('said before the crash').length - 1).toBe(1);
    const resumedAfter =
      (await metric(nodes[0]!, 'cobrowse_ws_mirror_syncs_total', 'kind="tail"')) + (await metric(nodes[2]!, 'cobrowse_ws_mirror_syncs_total', 'kind="tail"'));
    expect(resumedAfter).toBeGreaterThan(resumedBefore);

    // SIGTERM the host's node: it drains and exits 0; the host page reconnects elsewhere and stays live.
    const drained = nodes[0]!;
    const exit = drained.stop('SIGTERM');
    lb.backends.splice(lb.backends.indexOf(drained.port), 1);
    expect(await exit).toEqual({ code: 0, signal: null });
    await host.page.click('#add-item');
    await expect.poll(() => host.page.locator('#items li').count()).toBe(7);
    await converge(follower.page, host.page, 20_000);
    await converge(observer.page, host.page, 20_000);
    expect(await follower.page.evaluate('window.__notReloaded === true')).toBe(true);

    // The login and the chat acknowledged before the nodes went are still the session's.
    const proxied = new URL(host.page.url()).origin;
    const account = await host.page.evaluate(async (u) => (await fetch(u, { cache: 'no-store' })).text(), `${proxied}/account`);
    expect(account).toContain('Signed in as bob');
    const late = await newParticipant(browser);
    await late.page.goto(session.observeUrl);
    await expect.poll(() => late.page.locator('#chat').innerText()).toContain('said before the crash');
    await late.context.close();

    // A node started afterwards serves the same session (nothing lived only in the nodes that went).
    const fresh = await addNode();
    const info = await callNode(fresh.port, 'GET', `${gatewayUrl()}/api/sessions/${session.id}`, {
      headers: { authorization: `Bearer ${session.adminToken}` },
    });
    expect(info.status).toBe(200);
    const body = JSON.parse(info.text) as { participants: { role: string; connected: boolean }[] };
    expect(body.participants.map((p) => `${p.role}:${p.connected}`).sort()).toEqual(['controller:true', 'host:true', 'observer:false', 'observer:true']);
    expect([...host.errors, ...follower.errors, ...observer.errors]).toEqual([]);
    await Promise.all([host.context.close(), follower.context.close(), observer.context.close()]);
  });
});
