// The hub's answer to a hello of another protocol version, with a real gateway and real WebSocket
// clients that say hello as pages of protocol 1 did: the reload notice their panel shows, the
// refusal (VERSION_MISMATCH), REMOVED with the reload notice (the one error a view page of
// protocol 1 keeps showing), then 4400, which no version of the page's script reconnects after;
// nothing of the session answers the hello, and the refusal is logged and counted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, RELOAD_NOTICE, VERSION_MISMATCH } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { connectHub, type HubClient, type HubMessage, pageTree } from './helpers/hub-client.js';

const METRICS_TOKEN = 'metrics-token-hub-version';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({}, { metricsToken: METRICS_TOKEN });
});
afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a page of another protocol version is sent in answer to its hello. */
const refusal = (v: number): HubMessage[] => [
  { type: 'notice', text: RELOAD_NOTICE },
  {
    type: 'error',
    code: VERSION_MISMATCH,
    message: `v: this page's cobrowsing script speaks protocol ${v}, the gateway ${PROTOCOL_VERSION}: reload the page`,
  },
  { type: 'error', code: 'REMOVED', message: RELOAD_NOTICE },
];

/** The close code of a socket, or 'still open' when the gateway did not close it within 5 s. */
const closeCode = (client: HubClient) => Promise.race([client.closed, sleep(5000).then(() => 'still open' as const)]);

/** A session whose host page is live (snapshot sent) and whose chat has a message. */
async function liveSession() {
  const s = await createSession(t, `${t.demoOrigin}/`);
  const hostP = await t.join(s.hostUrl);
  const host = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
  host.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
  host.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'x', viewport: { w: 800, h: 600 }, tree: pageTree('the page') });
  await host.next('welcome');
  host.send({ type: 'chat', text: 'said in the session' });
  await host.next('chat');
  return { s, hostP, host };
}

/** cobrowse_rejected_total{reason} as /metrics reports it now. */
async function rejected(reason: string): Promise<number> {
  const res = await t.call('GET', `${t.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  const line = res.text.split('\n').find((l) => l.startsWith(`cobrowse_rejected_total{reason="${reason}"} `));
  return Number(line?.split(' ')[1] ?? 0);
}

const isSessionContent = (m: HubMessage) => ['snapshot', 'mutations', 'waiting-for-host', 'chat', 'roster', 'presence', 'highlight'].includes(m.type);

describe('a hello of another protocol version', () => {
  it("the host's page of protocol 1 (hello and snapshot at once, as its script sends them) gets the welcome and the refusal only, then 4400", async () => {
    const { s, hostP, host } = await liveSession();
    const obsP = await t.join(s.observeUrl);
    const obs = await connectHub(t.gateway.port, obsP.proxiedOrigin, obsP.cookie);
    obs.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    await obs.next('snapshot');
    const obsSeen = obs.messages.length;
    const badBefore = await rejected('bad_message');
    const staleBefore = await rejected('version_mismatch');
    // A second tab of the host (same browser, same cookie) still running the old script.
    const old = await connectHub(t.gateway.port, hostP.proxiedOrigin, hostP.cookie);
    old.send({ type: 'hello', v: 1, mode: 'live' });
    old.send({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'old', viewport: { w: 800, h: 600 }, tree: pageTree('old script') });
    expect(await closeCode(old)).toBe(4400);
    const welcome = { type: 'welcome', v: PROTOCOL_VERSION, sessionId: s.id, participantId: expect.any(String), role: 'host' };
    // Nothing of the session: no chat history, no roster, and it did not take the live page over.
    expect(old.messages).toEqual([welcome, ...refusal(1)]);
    await sleep(300);
    expect(host.messages.some((m) => m.type === 'notice')).toBe(false);
    expect(obs.messages.slice(obsSeen).filter((m) => m.type === 'snapshot' || m.type === 'mutations')).toEqual([]);
    // Logged with its code, counted under its own reason (not as a bad message).
    expect(t.logs.some((l) => l.msg === 'hub message rejected' && l.code === VERSION_MISMATCH && l.sessionId === s.id && l.role === 'host')).toBe(true);
    expect(await rejected('version_mismatch')).toBe(staleBefore + 1);
    expect(await rejected('bad_message')).toBe(badBefore);
    for (const c of [host, obs]) c.ws.close();
  });

  it('a view page of protocol 1 gets the refusal and 4400 in answer to its hello: no page, no replay, no chat or roster after it', async () => {
    const { s, host } = await liveSession();
    const guestP = await t.join(s.joinUrl);
    const guest = await connectHub(t.gateway.port, guestP.proxiedOrigin, guestP.cookie);
    // What every socket gets at its opening, before any hello is read.
    await guest.next('roster');
    const atOpen = guest.messages.map((m) => m.type);
    expect(atOpen).toEqual(['welcome', 'chat', 'roster']);
    // As a page of protocol 1 says it when it reconnects (to a hub that was updated meanwhile).
    guest.send({ type: 'hello', v: 1, mode: 'mirror', lastSeq: 1 });
    expect(await closeCode(guest)).toBe(4400);
    expect(guest.messages.slice(atOpen.length)).toEqual(refusal(1));
    expect(guest.messages.slice(atOpen.length).filter(isSessionContent)).toEqual([]);
    // Everyone else sees it gone.
    const guestConnected = () => {
      const roster = host.messages.filter((m) => m.type === 'roster').at(-1) as { participants: { role: string; connected: boolean }[] } | undefined;
      return roster?.participants.find((p) => p.role === 'controller')?.connected;
    };
    await expect.poll(guestConnected).toBe(false);
    host.ws.close();
  });

  it('a view page of protocol 1 saying hello at once, as its script does, gets nothing of the page and the same refusal', async () => {
    const { s, host } = await liveSession();
    const guestP = await t.join(s.joinUrl);
    const guest = await connectHub(t.gateway.port, guestP.proxiedOrigin, guestP.cookie);
    guest.send({ type: 'hello', v: 1, mode: 'mirror' });
    expect(await closeCode(guest)).toBe(4400);
    expect(guest.messages.slice(-3)).toEqual(refusal(1));
    expect(guest.messages.filter((m) => m.type === 'snapshot' || m.type === 'mutations' || m.type === 'waiting-for-host')).toEqual([]);
    host.ws.close();
  });

  it('a page of a newer protocol gets the same answer; a hello of this version that is otherwise bad is a BAD_MESSAGE only', async () => {
    const { s, host } = await liveSession();
    const newerP = await t.join(s.joinUrl);
    const newer = await connectHub(t.gateway.port, newerP.proxiedOrigin, newerP.cookie);
    await newer.next('roster');
    const seen = newer.messages.length;
    newer.send({ type: 'hello', v: PROTOCOL_VERSION + 1, mode: 'mirror' });
    expect(await closeCode(newer)).toBe(4400);
    expect(newer.messages.slice(seen)).toEqual(refusal(PROTOCOL_VERSION + 1));

    const badP = await t.join(s.joinUrl);
    const bad = await connectHub(t.gateway.port, badP.proxiedOrigin, badP.cookie);
    await bad.next('roster');
    const before = bad.messages.length;
    bad.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'sideways' });
    expect(await closeCode(bad)).toBe(4400);
    expect(bad.messages.slice(before)).toEqual([{ type: 'error', code: 'BAD_MESSAGE', message: 'mode: expected live or mirror' }]);
    host.ws.close();
  });
});
