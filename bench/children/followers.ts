// Protocol-level followers: many `ws` clients in one process that say hello as mirrors and count
// the mutation batches they receive, with the latency read from the stamp the host put in each
// batch (CLOCK_MONOTONIC is shared by every process of the machine). Each client also checks
// that the hub's sequenced messages (snapshots and batches) come with consecutive seqs.

import WebSocket from 'ws';
import { serveRpc, usage } from '../lib/child-rpc.js';
import { monoMicros, STAMP_PREFIX } from '../lib/content.js';
import { Histogram } from '../lib/stats.js';

interface ConnectArgs {
  url: string;
  clients: { host?: string; cookie?: string }[];
  hello: string | null;
}

const MARK = Buffer.from(STAMP_PREFIX);
const SEQ_MARK = Buffer.from('"seq":');
/** The hub puts `"seq":` right after the type, within the first bytes of a message. */
const SEQ_WINDOW = 48;
const sockets: WebSocket[] = [];
let perClient = new Uint32Array(0);
/** Per client: the last seq seen (kept across resets: the stream goes on between runs), and how many since the reset. */
let lastSeq = new Float64Array(0);
let seqCount = new Uint32Array(0);
let seqGaps = 0;
let firstGap: string | null = null;
const hist = new Histogram();
let runId = -1;
let received = 0;
let firstUs = 0;
let lastUs = 0;
let snapshots = 0;
let others = 0;
let closed = 0;
const closeCodes: Record<string, number> = {};

function checkSeq(index: number, data: Buffer): void {
  const at = data.subarray(0, SEQ_WINDOW).indexOf(SEQ_MARK);
  if (at < 0) return;
  let j = at + SEQ_MARK.length;
  let seq = 0;
  while (data[j]! >= 48 && data[j]! <= 57) seq = seq * 10 + data[j++]! - 48;
  const prev = lastSeq[index]!;
  if (prev > 0 && seq !== prev + 1) {
    seqGaps++;
    firstGap ??= `client ${index}: seq ${seq} after ${prev}`;
  }
  lastSeq[index] = seq;
  seqCount[index]!++;
}

function onMessage(index: number, data: Buffer): void {
  checkSeq(index, data);
  const at = data.indexOf(MARK);
  if (at < 0) {
    if (data.subarray(0, 40).includes('"snapshot"')) snapshots++;
    else others++;
    return;
  }
  let j = at + MARK.length;
  let run = 0;
  while (data[j]! >= 48 && data[j]! <= 57) run = run * 10 + data[j++]! - 48;
  if (data[j] !== 58 || run !== runId) return;
  j++;
  let stamp = 0;
  while (data[j]! >= 48 && data[j]! <= 57) stamp = stamp * 10 + data[j++]! - 48;
  const now = monoMicros();
  hist.record((now - stamp) / 1000);
  received++;
  perClient[index]!++;
  if (firstUs === 0) firstUs = now;
  lastUs = now;
}

function connectOne(index: number, url: string, client: { host?: string; cookie?: string }, hello: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    // The hub takes only the page's own Origin (a browser sends it on every WebSocket upgrade).
    if (client.host) Object.assign(headers, { host: client.host, origin: `http://${client.host}` });
    if (client.cookie) headers.cookie = client.cookie;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 10_000 });
    let settled = false;
    ws.on('open', () => {
      if (hello) ws.send(hello);
    });
    ws.on('message', (data: Buffer) => {
      if (!settled) {
        settled = true;
        sockets[index] = ws;
        resolve();
      }
      onMessage(index, data);
    });
    ws.on('close', (code) => {
      closed++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
    ws.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}

async function connect(raw: unknown): Promise<{ connected: number }> {
  const { url, clients, hello } = raw as ConnectArgs;
  const offset = sockets.length;
  perClient = new Uint32Array(offset + clients.length);
  const seqs = new Float64Array(offset + clients.length);
  seqs.set(lastSeq.subarray(0, offset));
  lastSeq = seqs;
  seqCount = new Uint32Array(offset + clients.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(50, clients.length) }, async () => {
    while (next < clients.length) {
      const i = next++;
      await connectOne(offset + i, url, clients[i]!, hello);
    }
  });
  await Promise.all(lanes);
  return { connected: sockets.length };
}

serveRpc(
  {},
  {
    connect,
    usage,
    reset: (raw: unknown) => {
      runId = (raw as { runId: number }).runId;
      received = 0;
      firstUs = 0;
      lastUs = 0;
      snapshots = 0;
      others = 0;
      perClient.fill(0);
      seqCount.fill(0);
      seqGaps = 0;
      firstGap = null;
      hist.reset();
      return null;
    },
    report: () => {
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      let minSeq = Number.POSITIVE_INFINITY;
      for (let i = 0; i < sockets.length; i++) {
        const n = perClient[i] ?? 0;
        if (n < min) min = n;
        if (n > max) max = n;
        minSeq = Math.min(minSeq, seqCount[i] ?? 0);
      }
      const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
      return {
        received,
        minPerClient: sockets.length ? min : 0,
        maxPerClient: max,
        minSequencedPerClient: sockets.length ? minSeq : 0,
        seqGaps,
        firstGap,
        hist: hist.toSparse(),
        firstUs,
        lastUs,
        snapshots,
        others,
        open,
        closed,
        closeCodes,
        usage: usage(),
      };
    },
    closeAll: async () => {
      const done = sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve()))));
      for (const ws of sockets) ws.terminate();
      await Promise.race([Promise.all(done), new Promise((resolve) => setTimeout(resolve, 3000))]);
      sockets.length = 0;
      perClient = new Uint32Array(0);
      lastSeq = new Float64Array(0);
      seqCount = new Uint32Array(0);
      return null;
    },
  },
);
