// Protocol-level participants for tests: real WebSocket clients of the hub on one gateway node,
// and HTTP join flows, all on 127.0.0.1 with the proxied Host header (Node cannot resolve
// *.localhost). Any node of a shared deployment can be addressed by its port.

import { request } from 'undici';
import WebSocket from 'ws';

/** A hub message as a test reads it. */
export interface HubMessage {
  type: string;
  seq?: number;
  code?: string;
  [k: string]: unknown;
}

/** One open hub socket and what it received. */
export interface HubClient {
  ws: WebSocket;
  messages: HubMessage[];
  closed: Promise<number>;
  send(message: Record<string, unknown>): void;
  /** Waits for a message of this type (the first one after `from` messages). */
  next(type: string, from?: number, timeoutMs?: number): Promise<HubMessage>;
  /** The seq numbers of every snapshot and mutation batch received, in order. */
  seqs(): number[];
}

/** Opens the hub socket of a participant on the node listening on `port`. */
export function connectHub(port: number, proxiedOrigin: string, cookie: string | null): Promise<HubClient> {
  const { host, origin } = new URL(proxiedOrigin);
  // The Origin a browser sends from the page of that host (the hub refuses any other).
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__cobrowse/ws`, { headers: { host, origin, ...(cookie ? { cookie } : {}) }, maxPayload: 64 * 1024 * 1024 });
  const messages: HubMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as HubMessage);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const client: HubClient = {
    ws,
    messages,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    next: (type, from = 0, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${type}" message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`)),
          timeoutMs,
        );
        const look = () => {
          const found = messages.slice(from).find((m) => m.type === type);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else waiters.push(look);
        };
        look();
      }),
    seqs: () => messages.filter((m) => m.type === 'snapshot' || m.type === 'mutations').map((m) => m.seq ?? -1),
  };
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve(client));
    ws.on('error', reject);
  });
}

/** A response read completely. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** An HTTP request to the node on `port`, for `url` (its host goes in the Host header). */
export async function callNode(port: number, method: string, url: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const target = new URL(url);
  const res = await request(`http://127.0.0.1:${port}${target.pathname}${target.search}`, {
    method: method as 'GET',
    headers: { host: target.host, ...opts.headers },
    body: opts.body,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/**
 * Follows a join link like a browser, the link on node `port` and the ticket on node `enterPort`.
 * `gatewayCookie` is the browser's cookie on the gateway host, if it has one (a host link opens
 * once: it takes back in only the browser that opened it); the answer has the one `/j/` set.
 */
export async function joinOnNodes(
  port: number,
  enterPort: number,
  link: string,
  gatewayCookie?: string,
): Promise<{ cookie: string; gatewayCookie: string; proxiedOrigin: string; landing: string }> {
  const first = await callNode(port, 'GET', link, gatewayCookie ? { headers: { cookie: gatewayCookie } } : {});
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const enter = new URL(String(first.headers.location));
  const second = await callNode(enterPort, 'GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  const cookie = String(second.headers['set-cookie']).split(';')[0] ?? '';
  return {
    cookie,
    gatewayCookie: String(first.headers['set-cookie']).split(';')[0] ?? '',
    proxiedOrigin: enter.origin,
    landing: String(second.headers.location),
  };
}

/** A small page tree for snapshots. */
export function pageTree(text = 'hello'): Record<string, unknown> {
  return {
    t: 'doc',
    id: 1,
    c: [{ t: 'el', id: 2, tag: 'html', a: {}, c: [{ t: 'el', id: 3, tag: 'body', a: {}, c: [{ t: 'txt', id: 4, v: text }] }] }],
  };
}
