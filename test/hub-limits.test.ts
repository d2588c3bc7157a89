// The hub's bounds, with real WebSocket clients: message size, message rate, and a follower that
// stops reading (backpressure) is cut off and resyncs instead of growing the gateway's memory.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.close();
});

interface Client {
  ws: WebSocket;
  messages: { type: string; seq?: number }[];
  closed: Promise<number>;
}

function connect(proxiedOrigin: string, cookie: string): Promise<Client> {
  const { host, origin } = new URL(proxiedOrigin);
  const ws = new WebSocket(`ws://127.0.0.1:${t.gateway.port}/__cobrowse/ws`, { headers: { host, origin, cookie }, maxPayload: 64 * 1024 * 1024 });
  const messages: Client['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Client['messages'][number]));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}

async function liveHost(sessionUrl: string) {
  const s = await createSession(t, sessionUrl);
  const hostP = await t.join(s.hostUrl);
  const host = await connect(hostP.proxiedOrigin, hostP.cookie);
  host.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
  const tree = { t: 'doc', id: 1, c: [{ t: 'el', id: 2, tag: 'html', a: {}, c: [{ t: 'el', id: 3, tag: 'body', a: {}, c: [] }] }] };
  host.ws.send(JSON.stringify({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'x', viewport: { w: 800, h: 600 }, tree }));
  return { s, host };
}

describe('hub limits', () => {
  it('closes a socket that sends a message larger than the limit', async () => {
    const { host } = await liveHost(`${t.demoOrigin}/`);
    host.ws.send(JSON.stringify({ type: 'mutations', batch: [{ k: 'text', id: 3, v: 'x'.repeat(MAX_MESSAGE_BYTES + 10) }] }));
    expect(await host.closed).not.toBe(1000);
  });

  it('closes a socket that sends faster than the rate limit (the host page has a larger budget)', async () => {
    const { s: session, host } = await liveHost(`${t.demoOrigin}/`);
    const followerP = await t.join(session.joinUrl);
    const follower = await connect(followerP.proxiedOrigin, followerP.cookie);
    follower.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    for (let i = 0; i < 1000 && follower.ws.readyState === WebSocket.OPEN; i++)
      follower.ws.send(JSON.stringify({ type: 'presence', cursor: { target: 3, x: i, y: 0 } }));
    expect(await follower.closed).toBe(4400);
    expect(follower.messages.some((m) => (m as { code?: string }).code === 'RATE_LIMITED')).toBe(true);
    // 1000 batches at once are within the host's budget; 10000 are not.
    for (let i = 0; i < 1000; i++) host.ws.send(JSON.stringify({ type: 'mutations', batch: [{ k: 'attr', id: 3, name: 'data-i', value: String(i) }] }));
    await new Promise((r) => setTimeout(r, 300));
    expect(host.ws.readyState).toBe(WebSocket.OPEN);
    for (let i = 0; i < 10000 && host.ws.readyState === WebSocket.OPEN; i++)
      host.ws.send(JSON.stringify({ type: 'mutations', batch: [{ k: 'attr', id: 3, name: 'data-i', value: String(i) }] }));
    expect(await host.closed).toBe(4400);
  });

  it('cuts off a follower that stops reading; it resyncs from the checkpoint when it comes back', async () => {
    const { s, host } = await liveHost(`${t.demoOrigin}/`);
    const slowP = await t.join(s.observeUrl);
    const slow = await connect(slowP.proxiedOrigin, slowP.cookie);
    slow.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => slow.messages.some((m) => m.type === 'snapshot')).toBe(true);
    // The follower's TCP socket stops reading: the gateway's send buffer for it fills up.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const big = 'y'.repeat(200 * 1024);
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 60 && host.ws.readyState === WebSocket.OPEN; i++) {
      host.ws.send(JSON.stringify({ type: 'mutations', batch: [{ k: 'text', id: 3, v: `${i}${big}` }] }));
      await new Promise((r) => setTimeout(r, 10));
    }
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    // uWS closed it at the 4 MB backpressure limit rather than buffering 12 MB for it.
    expect(await slow.closed).not.toBe(1000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);

    const back = await connect(slowP.proxiedOrigin, slowP.cookie);
    back.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror', lastSeq: 1 }));
    await expect.poll(() => back.messages.filter((m) => m.type === 'snapshot' || m.type === 'mutations').length).toBeGreaterThan(0);
    const seqs = back.messages.filter((m) => m.seq !== undefined).map((m) => m.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    back.ws.close();
    host.ws.close();
  });
});
