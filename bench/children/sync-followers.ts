// Protocol-level followers for the sync scenario, plus the WebSocket echo server of its baseline.
// Each follower is a `ws` client with its own participant cookie that says hello as a mirror,
// parses every message with protocol/messages.ts (snapshot first, then mutations with consecutive
// seq) and, for each `add` mutation whose text carries `@@sync=<run>:<i>:<ms>` (the host page's
// `performance.timeOrigin + performance.now()`), records its own clock minus that stamp.
// Built on demand by bench/scenarios/sync.ts (bench/run.mjs lists the other children).

import uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, parseServerMessage, type SerializedNode } from '../../protocol/messages.js';
import { serveRpc, usage } from '../lib/child-rpc.js';

const STAMP = /^@@sync=(\d+):(\d+):([\d.]+)$/;
const HELLO_MIRROR = JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });

interface Client {
  ws: WebSocket;
  lastSeq: number | undefined;
  /** Stamp indices of the current run this client got (to find losses and duplicates). */
  seen: Set<number>;
  duplicates: number;
  snapshots: number;
}

const clients: Client[] = [];
let runId = -1;
let latencies: number[] = [];
let parseErrors = 0;
let firstParseError = '';
let seqGaps = 0;
let closed = 0;
/** Mutations messages received in the current run, and their bytes. */
let mutationMessages = 0;
let mutationBytes = 0;
/** When the last snapshot message arrived (this process's clock) and its size. */
let lastSnapshot: { wall: number; bytes: number } | null = null;

const clock = (): number => performance.timeOrigin + performance.now();

function stampsIn(node: SerializedNode, out: string[]): void {
  if (node.t === 'txt') {
    if (node.v.startsWith('@@sync=')) out.push(node.v);
    return;
  }
  if (node.t === 'el' || node.t === 'doc' || node.t === 'sr') for (const c of node.c) stampsIn(c, out);
}

function onMessage(client: Client, data: Buffer, onSnapshot: () => void): void {
  const now = clock();
  const parsed = parseServerMessage(data.toString());
  if (!parsed.ok) {
    parseErrors++;
    if (!firstParseError) firstParseError = parsed.error;
    return;
  }
  const msg = parsed.value;
  if (msg.type === 'snapshot') {
    lastSnapshot = { wall: now, bytes: data.length };
    client.lastSeq = msg.seq;
    client.snapshots++;
    onSnapshot();
    return;
  }
  if (msg.type !== 'mutations') return;
  mutationMessages++;
  mutationBytes += data.length;
  if (client.lastSeq === undefined || msg.seq !== client.lastSeq + 1) seqGaps++;
  client.lastSeq = msg.seq;
  const texts: string[] = [];
  for (const m of msg.batch) if (m.k === 'add') stampsIn(m.node, texts);
  for (const text of texts) {
    const match = STAMP.exec(text);
    if (!match || Number(match[1]) !== runId) continue;
    const index = Number(match[2]);
    if (client.seen.has(index)) {
      client.duplicates++;
      continue;
    }
    client.seen.add(index);
    latencies.push(now - Number(match[3]));
  }
}

/** Connects one follower and resolves once it holds the session's snapshot. */
function connectOne(url: string, host: string, cookie: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { host, cookie, origin: `http://${host}` }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    const client: Client = { ws, lastSeq: undefined, seen: new Set(), duplicates: 0, snapshots: 0 };
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) {
        settled = true;
        ws.terminate();
        reject(new Error('follower got no snapshot within 10 s'));
      }
    }, 10_000);
    ws.on('open', () => ws.send(HELLO_MIRROR));
    ws.on('message', (data: Buffer) =>
      onMessage(client, data, () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clients.push(client);
        resolve();
      }),
    );
    ws.on('close', (code) => {
      closed++;
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new Error(`follower socket closed (code ${code}) before the snapshot`));
      }
    });
    ws.on('error', (err) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

// The baseline: a bare uWS echo server (the gateway's WebSocket stack, nothing else).
let echoPort = 0;
function startEcho(): Promise<{ port: number }> {
  if (echoPort) return Promise.resolve({ port: echoPort });
  return new Promise((resolve, reject) => {
    const app = uWS.App();
    app.ws('/*', {
      maxPayloadLength: 1024 * 1024,
      idleTimeout: 60,
      message: (ws, message, isBinary) => {
        ws.send(message, isBinary);
      },
    });
    app.listen('127.0.0.1', 0, (listenSocket) => {
      if (!listenSocket) {
        reject(new Error('sync-followers: the echo server could not listen'));
        return;
      }
      echoPort = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
      resolve({ port: echoPort });
    });
  });
}

serveRpc(
  {},
  {
    usage,
    clock,
    echo: () => startEcho(),
    connect: async (raw: unknown) => {
      const { url, participants } = raw as { url: string; participants: { host: string; cookie: string }[] };
      let next = 0;
      const lanes = Array.from({ length: Math.min(16, participants.length) }, async () => {
        while (next < participants.length) {
          const p = participants[next++]!;
          await connectOne(url, p.host, p.cookie);
        }
      });
      await Promise.all(lanes);
      return { connected: clients.length };
    },
    reset: (raw: unknown) => {
      runId = (raw as { runId: number }).runId;
      latencies = [];
      lastSnapshot = null;
      mutationMessages = 0;
      mutationBytes = 0;
      for (const c of clients) {
        c.seen.clear();
        c.duplicates = 0;
        c.snapshots = 0;
      }
      return null;
    },
    report: () => {
      const counts = clients.map((c) => c.seen.size);
      return {
        clients: clients.length,
        open: clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length,
        received: latencies.length,
        minPerClient: counts.length ? Math.min(...counts) : 0,
        maxPerClient: counts.length ? Math.max(...counts) : 0,
        duplicates: clients.reduce((s, c) => s + c.duplicates, 0),
        snapshotsDuringRun: clients.reduce((s, c) => s + c.snapshots, 0),
        parseErrors,
        firstParseError,
        seqGaps,
        closed,
        mutationMessages,
        mutationBytes,
      };
    },
    lastSnapshot: () => lastSnapshot,
    /** The latencies of the current run, ms (follower clock minus the stamp). */
    latencies: () => latencies,
    closeAll: async () => {
      const done = clients.map((c) => new Promise<void>((resolve) => (c.ws.readyState === WebSocket.CLOSED ? resolve() : c.ws.once('close', () => resolve()))));
      for (const c of clients) c.ws.close(1000);
      await Promise.race([Promise.all(done), new Promise((resolve) => setTimeout(resolve, 3000))]);
      for (const c of clients) c.ws.terminate();
      clients.length = 0;
      closed = 0;
      return null;
    },
  },
);
