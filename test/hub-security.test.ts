// The hub's defences against other pages and other participants, with a real gateway and real
// WebSocket clients: the upgrade's Origin must be the proxied host's own; only the host's live
// page sends large messages (anything else is cut off before it is parsed); a participant has a
// bounded number of sockets; a name cannot be another participant's (or "Host") and changes at
// most once a second.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { MAX_SOCKETS_PER_PARTICIPANT, RENAME_INTERVAL_MS } from '../gateway/hub-limits.js';
import { FOLLOWER_MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from '../protocol/messages.js';
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

/** The close code of a socket, or 'still open' when the gateway did not close it within `ms`. */
const closeCode = (client: HubClient, ms = 5000) => Promise.race([client.closed, sleep(ms).then(() => 'still open' as const)]);

/** A session whose host page is live (snapshot sent), and join links for more participants. */
async function liveSession() {
  const s = await createSession(t, `${t.demoOrigin}/`);
  const hostP = await t.join(s.hostUrl);
  const host = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
  host.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
  host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'x', viewport: { w: 800, h: 600 }, tree: pageTree('page') });
  await host.next('welcome');
  return { s, hostP, host };
}

async function follower(link: string): Promise<{ client: HubClient; cookie: string; proxiedOrigin: string }> {
  const p = await t.join(link);
  const client = await connectHub(t.gateway.port, p.proxiedOrigin, p.cookie);
  client.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
  await client.next('welcome');
  return { client, cookie: p.cookie, proxiedOrigin: p.proxiedOrigin };
}

/** Opens a hub socket with exactly these headers; the status and body when the upgrade is refused. */
function upgrade(headers: Record<string, string>): Promise<{ opened: boolean; status?: number; body?: string; ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${t.gateway.port}/__cobrowse/ws`, { headers });
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ opened: true, ws }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += String(chunk)));
      res.on('end', () => resolve({ opened: false, status: res.statusCode, body, ws }));
    });
    ws.on('error', () => resolve({ opened: false, ws }));
  });
}

/** A snapshot message of about `bytes` bytes (valid, so that only its size or sender can refuse it). */
function bigSnapshot(url: string, bytes: number): string {
  const children: unknown[] = [];
  let id = 10;
  for (let size = 0; size < bytes; ) {
    const child = { t: 'el', id: id++, tag: 'i', a: { c: 'x' }, c: [] };
    children.push(child);
    size += JSON.stringify(child).length + 1;
  }
  return JSON.stringify({ type: 'snapshot', url, title: 'big', viewport: { w: 1, h: 1 }, tree: { t: 'doc', id: 1, c: children } });
}

const rosterNames = (client: HubClient) =>
  (client.messages.filter((m) => m.type === 'roster').at(-1) as { participants: { id: string; name: string }[] } | undefined)?.participants ?? [];

describe('hub upgrade: Origin', () => {
  it('refuses a foreign Origin, the Origin of another session or another host of the session, and a missing Origin, with 403', async () => {
    const { s, hostP } = await liveSession();
    const other = await createSession(t, `${t.demoOrigin}/`);
    const otherP = await t.join(other.hostUrl);
    const { host } = new URL(hostP.proxiedOrigin);
    const sibling = hostP.proxiedOrigin.replace(/^http:\/\/o1--/, 'http://o2--');
    expect(sibling).not.toBe(hostP.proxiedOrigin);
    const refused: (string | null)[] = [
      'http://evil.example',
      // A page of session B's hosts, with the browser's cookie for A's host (same site).
      new URL(otherP.proxiedOrigin).origin,
      // Another origin label of the same session.
      sibling,
      // Same host, another scheme.
      hostP.proxiedOrigin.replace(/^http:/, 'https:'),
      'null',
      null,
    ];
    for (const origin of refused) {
      const r = await upgrade({ host, cookie: hostP.cookie, ...(origin === null ? {} : { origin }) });
      expect(r.opened, `Origin ${origin}`).toBe(false);
      expect(r.status, `Origin ${origin}`).toBe(403);
      expect(JSON.parse(r.body ?? '{}').error.code).toBe('BAD_ORIGIN');
    }
    // The session's own host: accepted (a browser page of that host sends exactly this).
    const ok = await upgrade({ host, cookie: hostP.cookie, origin: new URL(hostP.proxiedOrigin).origin });
    expect(ok.opened).toBe(true);
    ok.ws.close();
    // A participant of B opening A's hub from A's host still has no cookie for it: 401, as before.
    const stranger = await upgrade({ host, cookie: otherP.cookie, origin: new URL(hostP.proxiedOrigin).origin });
    expect(stranger.status).toBe(401);
    expect(s.id).not.toBe(other.id);
  });
});

describe('hub messages: only the live page sends large ones', () => {
  it('closes an observer or a controller that sends a message over the limit, before it is parsed', async () => {
    const { s, hostP } = await liveSession();
    const big = bigSnapshot(`${hostP.proxiedOrigin}/`, FOLLOWER_MAX_MESSAGE_BYTES + 1024);
    expect(Buffer.byteLength(big)).toBeGreaterThan(FOLLOWER_MAX_MESSAGE_BYTES);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const link of [s.observeUrl, s.joinUrl]) {
        const { client } = await follower(link);
        client.ws.send(big);
        expect(await closeCode(client)).toBe(4400);
        expect(client.messages.find((m) => m.type === 'error')?.code).toBe('TOO_LARGE');
      }
      // The gateway runs in this process: it never parsed the large message.
      expect(parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length > FOLLOWER_MAX_MESSAGE_BYTES)).toEqual([]);
    } finally {
      parse.mockRestore();
    }
  });

  it("refuses to let the host follow (hello mirror): it gets nothing of the live page, which a site's script on the host's page would watch through it", async () => {
    const { s, hostP, host } = await liveSession();
    const { client: obs } = await follower(s.observeUrl);
    await obs.next('snapshot');
    const seen = obs.messages.length;
    const mirror = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    mirror.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    expect(await closeCode(mirror)).toBe(4400);
    expect(mirror.messages.find((m) => m.type === 'error')?.code).toBe('FORBIDDEN');
    // The live page goes on; what it sends next reaches the observer, never the refused socket.
    host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'second', viewport: { w: 800, h: 600 }, tree: pageTree('page') });
    expect((await obs.next('snapshot', seen)).title).toBe('second');
    // No page content (the welcome, the roster and the error do reach it).
    expect(mirror.messages.filter((m) => m.type === 'snapshot' || m.type === 'mutations')).toEqual([]);
    host.ws.close();
    obs.ws.close();
  });

  it('gives a socket of the host nothing of the session (chat history, chat, roster) until it says it is the live page', async () => {
    const { s, hostP, host } = await liveSession();
    const { client: obs } = await follower(s.observeUrl);
    obs.send({ type: 'chat', text: 'my card ends in 4242' });
    await host.next('chat');
    // A site's script on the host's page opens the hub as the host and says nothing.
    const spy = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    await spy.next('welcome');
    obs.send({ type: 'chat', text: 'and the code is 123456' });
    const seen = host.messages.length;
    expect((await host.next('chat', seen)).text).toBe('and the code is 123456');
    await sleep(300);
    expect(spy.messages.map((m) => m.type)).toEqual(['welcome']);
    // Once it says it is the live page (taking it over, which the page that was live is told), it gets the session.
    spy.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    const history = await spy.next('chat');
    expect(history.text).toBe('my card ends in 4242');
    expect((await host.next('notice')).text).toMatch(/now the live page/);
    for (const c of [host, spy, obs]) c.ws.close();
  });

  it('tells the live page when another socket of the host takes the live page over', async () => {
    const { s, hostP, host } = await liveSession();
    const { client: obs } = await follower(s.observeUrl);
    await obs.next('snapshot');
    const seen = obs.messages.length;
    const other = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    other.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    other.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'other', viewport: { w: 800, h: 600 }, tree: pageTree('page') });
    expect((await obs.next('snapshot', seen)).title).toBe('other');
    const notice = await host.next('notice');
    expect(notice.text).toMatch(/now the live page/);
    // The new live page is not told about itself.
    expect(other.messages.some((m) => m.type === 'notice')).toBe(false);
    for (const c of [host, other, obs]) c.ws.close();
  });

  it("closes a host socket that has not said it is the live page when it sends a large message; the host's live page sends one right behind its hello", async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await t.join(s.hostUrl);
    const { client: obs } = await follower(s.observeUrl);
    const early = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    early.ws.send(bigSnapshot(`${hostP.proxiedOrigin}/`, 200 * 1024));
    expect(await closeCode(early)).toBe(4400);
    expect(early.messages.find((m) => m.type === 'error')?.code).toBe('TOO_LARGE');

    // The live page's first snapshot comes before its hello was handled (the feed starts first).
    const live = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    live.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
    live.ws.send(bigSnapshot(`${hostP.proxiedOrigin}/`, 1024 * 1024));
    const snap = await obs.next('snapshot');
    expect(snap.title).toBe('big');
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
    obs.ws.close();
  });

  it('bounds the bytes per second of a socket that is not the live page', async () => {
    const { s, host } = await liveSession();
    const { client: obs } = await follower(s.observeUrl);
    // Each one is under the size limit and valid (dropped with FORBIDDEN: observers do not act), and 20
    // are far under the message rate: only the byte budget (1 MiB burst) stops them.
    const value = 'v'.repeat(FOLLOWER_MAX_MESSAGE_BYTES - 200);
    for (let i = 0; i < 20 && obs.ws.readyState === WebSocket.OPEN; i++) obs.send({ type: 'input', event: { kind: 'value', target: 4, value } });
    expect(await closeCode(obs)).toBe(4400);
    expect(obs.messages.some((m) => m.type === 'error' && m.code === 'RATE_LIMITED')).toBe(true);

    // A controller typing in a form field still reaches the host's page.
    const { client: ctl } = await follower(s.joinUrl);
    ctl.send({ type: 'input', event: { kind: 'value', target: 4, value: 'w'.repeat(20_000) } });
    const input = await host.next('input');
    expect((input.event as { value: string }).value).toHaveLength(20_000);
    expect(ctl.ws.readyState).toBe(WebSocket.OPEN);
    ctl.ws.close();
  });
});

describe('hub sockets per participant', () => {
  it(`accepts ${MAX_SOCKETS_PER_PARTICIPANT} sockets of one participant and closes the next; a freed place is taken again`, async () => {
    const { s } = await liveSession();
    const obsP = await t.join(s.observeUrl);
    const open: HubClient[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_PARTICIPANT; i++) {
      const c = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
      await c.next('welcome');
      open.push(c);
    }
    const extra = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    expect(await closeCode(extra)).toBe(4400);
    expect(extra.messages.map((m) => m.type)).toEqual(['error']);
    expect(extra.messages[0]?.code).toBe('TOO_MANY_CONNECTIONS');
    const session = t.gateway.context.registry.get(s.id);
    const participant = [...(session?.participants.values() ?? [])].find((p) => p.role === 'observer');
    // The refused socket was never counted.
    expect(participant?.connections).toBe(MAX_SOCKETS_PER_PARTICIPANT);
    expect(open.every((c) => c.ws.readyState === WebSocket.OPEN)).toBe(true);

    open.shift()?.ws.close();
    await expect.poll(() => participant?.connections).toBe(MAX_SOCKETS_PER_PARTICIPANT - 1);
    const again = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    await again.next('welcome');
    open.push(again);
    // Another participant is not limited by this one.
    const other = await follower(s.observeUrl);
    expect(other.client.ws.readyState).toBe(WebSocket.OPEN);
    for (const c of [...open, other.client]) c.ws.close();
    await expect.poll(() => participant?.connections).toBe(0);
  });
});

describe('hub names', () => {
  it('refuses a name another participant goes by (trimmed, any case), and "Host" to anyone but the host', async () => {
    const { s, host } = await liveSession();
    const { client: ada } = await follower(s.joinUrl);
    ada.send({ type: 'name', name: 'Ada' });
    await expect.poll(() => rosterNames(host).map((p) => p.name)).toContain('Ada');
    const { client: obs } = await follower(s.observeUrl);
    const welcome = obs.messages.find((m) => m.type === 'welcome');
    const before = rosterNames(host).find((p) => p.id === welcome?.participantId)?.name;
    expect(before).toMatch(/^Guest/);

    for (const [i, name] of ['Host', '  host ', ' ADA', 'Ｈｏｓｔ'].entries()) {
      if (i > 0) await sleep(RENAME_INTERVAL_MS + 50);
      const from = obs.messages.length;
      obs.send({ type: 'name', name });
      const notice = await obs.next('notice', from);
      expect(notice.text).toContain('already called');
    }
    obs.send({ type: 'chat', text: 'Please paste your one-time code here' });
    const chat = await host.next('chat');
    expect(chat.name).toBe(before);
    expect(rosterNames(host).filter((p) => p.name.trim().toLowerCase() === 'host')).toHaveLength(1);
    expect(rosterNames(host).filter((p) => p.name.toLowerCase() === 'ada')).toHaveLength(1);

    // A free name is taken; the host may rename itself, and then still keeps "Host" out of others' reach.
    await sleep(RENAME_INTERVAL_MS + 50);
    obs.send({ type: 'name', name: 'Grace' });
    await expect.poll(() => rosterNames(host).map((p) => p.name)).toContain('Grace');
    host.send({ type: 'name', name: 'Hana' });
    await expect.poll(() => rosterNames(host).map((p) => p.name)).toContain('Hana');
    await sleep(RENAME_INTERVAL_MS + 50);
    const from = obs.messages.length;
    obs.send({ type: 'name', name: 'host' });
    expect((await obs.next('notice', from)).text).toContain('already called');
    expect(rosterNames(host).map((p) => p.name)).not.toContain('host');
  });

  it('lets a participant change its name once a second; sending its own name again is no change', async () => {
    const { s, host } = await liveSession();
    const { client: obs } = await follower(s.observeUrl);
    const from = host.messages.length;
    for (let i = 0; i < 390; i++) obs.send({ type: 'name', name: `n${i}` });
    await sleep(500);
    const rosters = host.messages.slice(from).filter((m) => m.type === 'roster');
    expect(rosters).toHaveLength(1);
    expect(rosterNames(host).map((p) => p.name)).toContain('n0');
    expect(obs.ws.readyState).toBe(WebSocket.OPEN);
    expect(obs.messages.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED')).toHaveLength(389);

    // A reconnecting page sends the saved name on every welcome: never refused.
    const errors = obs.messages.filter((m) => m.type === 'error').length;
    obs.send({ type: 'name', name: 'n0' });
    obs.send({ type: 'name', name: ' n0 ' });
    await sleep(200);
    expect(obs.messages.filter((m) => m.type === 'error')).toHaveLength(errors);

    await sleep(RENAME_INTERVAL_MS);
    obs.send({ type: 'name', name: 'later' });
    await expect.poll(() => rosterNames(host).map((p) => p.name)).toContain('later');
  });
});
