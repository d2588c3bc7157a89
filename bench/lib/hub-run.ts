// The hub scenarios' machinery (hub fan-out and scale-out): a target (where the host and the
// followers connect, whose processes' CPU counts), follower processes, the correctness check
// run before measuring, and one measured run at a fixed rate.

import { resolve } from 'node:path';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, parseServerMessage } from '../../protocol/messages.js';
import { monoMicros } from './content.js';
import type { Bench } from './context.js';
import type { Participant } from './gateway-session.js';
import { type HostRunResult, HostSocket } from './hub-host.js';
import { procCpuMs, sleep, startWorker, type Worker, withTimeout } from './procs.js';
import { Histogram } from './stats.js';

/** The host's hello as the live page. */
export const HELLO_LIVE = JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' });
/** A follower's hello as a mirror. */
export const HELLO_MIRROR = JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });

/** What one follower process answers to `report` (children/followers.ts). */
export interface FollowerReport {
  received: number;
  minPerClient: number;
  maxPerClient: number;
  /** Fewest sequenced hub messages (snapshots and batches) any client got since the reset. */
  minSequencedPerClient: number;
  /** Times a client's seq was not the one after its previous (since the reset). */
  seqGaps: number;
  firstGap: string | null;
  hist: [number, number][];
  firstUs: number;
  lastUs: number;
  open: number;
  closed: number;
  closeCodes: Record<string, number>;
  usage: { cpuMs: number; wallMs: number };
}

/** A process whose CPU time counts for a target, read before and after each run. */
export interface CpuSource {
  label: string;
  cpuMs(): Promise<number>;
}

/** CPU of a bench child as it reports it over RPC (process.cpuUsage). */
export function rpcCpu(label: string, worker: Worker): CpuSource {
  return { label, cpuMs: async () => (await worker.call<{ cpuMs: number }>('usage')).cpuMs };
}

/** CPU of any process by pid, from /proc (all threads). */
export function procCpu(label: string, pid: number): CpuSource {
  return {
    label,
    cpuMs: async () => {
      const ms = procCpuMs(pid);
      if (ms === null) throw new Error(`${label} (pid ${pid}) is gone`);
      return ms;
    },
  };
}

/** One side of a comparison: where the host and the followers connect. */
export interface HubTarget {
  name: string;
  /** The server side's processes (a gateway, several nodes and their Redis, a bare uWS app). */
  cpu: CpuSource[];
  hostUrl: string;
  hostHeaders: Record<string, string>;
  hostHello: string | null;
  snapshot: string;
  followers: Worker[];
  /** The server stamps seqs (the gateway): followers must see them consecutive. */
  sequenced: boolean;
}

/** A follower socket that parses every hub message with protocol/messages.ts during the check. */
export interface Verifier {
  url: string;
  participant: Participant;
}

/** One measured run of one target. */
export interface HubRun {
  rate: number;
  n: number;
  target: string;
  offered: number;
  host: HostRunResult;
  delivered: number;
  deliveredPerSec: number;
  share: number;
  p50: number;
  p99: number;
  /** CPU of all the target's processes, % of one core over the send and drain window. */
  serverCpuPct: number;
  /** The same per process, by label. */
  cpuPct: Record<string, number>;
  /** Length of the window the CPU figures cover, ms. */
  cpuWindowMs: number;
  followerCpuPct: number;
  followersOpen: number;
  followersClosed: number;
  minPerClient: number;
  seqGaps: number;
  firstGap: string | null;
}

let runCounter = 1000;

/** A run id no earlier run used (followers count only batches stamped with the current one). */
export function nextRunId(): number {
  return ++runCounter;
}

/** The follower processes' reports. */
export async function reports(followers: Worker[]): Promise<FollowerReport[]> {
  return Promise.all(followers.map((f) => f.call<FollowerReport>('report')));
}

async function sampleCpu(sources: CpuSource[]): Promise<{ at: number; ms: number[] }> {
  const ms = await Promise.all(sources.map((s) => s.cpuMs()));
  return { at: performance.now(), ms };
}

/** Publishes at `rate` for `durationMs` and collects what the followers got. */
export async function measure(bench: Bench, target: HubTarget, n: number, rate: number, durationMs: number): Promise<HubRun> {
  const runId = nextRunId();
  await Promise.all(target.followers.map((f) => f.call('reset', { runId })));
  const host = await HostSocket.open(target.hostUrl, target.hostHeaders, target.hostHello, target.snapshot);
  await sleep(100);
  const before = await sampleCpu(target.cpu);
  const followersBefore = await reports(target.followers);
  const startUs = monoMicros();
  const result = await host.sendAtRate(runId, rate, durationMs);
  // Drain: wait until every follower has everything sent, or nothing moves for 300 ms.
  const expected = result.sent * n;
  const drainEnd = Date.now() + bench.settings.hubDrainMs;
  let last = -1;
  let stillSince = Date.now();
  let got: FollowerReport[] = await reports(target.followers);
  for (;;) {
    const total = got.reduce((s, r) => s + r.received, 0);
    if (total >= expected || Date.now() > drainEnd) break;
    if (total !== last) {
      last = total;
      stillSince = Date.now();
    } else if (Date.now() - stillSince > 300) break;
    await sleep(50);
    got = await reports(target.followers);
  }
  const after = await sampleCpu(target.cpu);
  await host.close();

  const hist = new Histogram();
  for (const r of got) hist.addSparse(r.hist);
  const delivered = got.reduce((s, r) => s + r.received, 0);
  const lastUs = Math.max(...got.map((r) => r.lastUs));
  const windowSec = Math.max(durationMs / 1000, lastUs > 0 ? (lastUs - startUs) / 1e6 : 0);
  const offered = Math.round((rate * durationMs) / 1000) * n;
  let followerCpu = 0;
  let followerWall = 0;
  got.forEach((r, i) => {
    const b = followersBefore[i]!;
    followerCpu += r.usage.cpuMs - b.usage.cpuMs;
    followerWall = Math.max(followerWall, r.usage.wallMs - b.usage.wallMs);
  });
  const wallMs = after.at - before.at;
  const cpuPct: Record<string, number> = {};
  target.cpu.forEach((s, i) => {
    cpuPct[s.label] = (100 * (after.ms[i]! - before.ms[i]!)) / wallMs;
  });
  return {
    rate,
    n,
    target: target.name,
    offered,
    host: result,
    delivered,
    deliveredPerSec: delivered / windowSec,
    share: delivered / offered,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    serverCpuPct: Object.values(cpuPct).reduce((s, v) => s + v, 0),
    cpuPct,
    cpuWindowMs: wallMs,
    followerCpuPct: followerWall > 0 ? (100 * followerCpu) / followerWall : Number.NaN,
    followersOpen: got.reduce((s, r) => s + r.open, 0),
    followersClosed: got.reduce((s, r) => s + r.closed, 0),
    minPerClient: Math.min(...got.map((r) => r.minPerClient)),
    seqGaps: got.reduce((s, r) => s + r.seqGaps, 0),
    firstGap: got.find((r) => r.firstGap)?.firstGap ?? null,
  };
}

/** One group of follower clients: where they connect and as whom. */
export interface FollowerGroup {
  url: string;
  clients: { host?: string; cookie?: string }[];
}

/** Starts follower processes and connects every group's clients, spread over them (2 processes from 500 clients). */
export async function startFollowers(bench: Bench, groups: FollowerGroup[], hello: string | null, name = 'followers'): Promise<Worker[]> {
  const total = groups.reduce((s, g) => s + g.clients.length, 0);
  const procs = total >= 500 ? 2 : 1;
  const workers: Worker[] = [];
  try {
    for (let p = 0; p < procs; p++) workers.push(await startWorker(`${name}-${p + 1}`, resolve(bench.childrenDir, 'followers.js')));
    for (const group of groups) {
      await Promise.all(
        workers.map((w, p) =>
          w.call('connect', { url: group.url, clients: group.clients.filter((_, i) => i % procs === p), hello }, 60_000 + group.clients.length * 50),
        ),
      );
    }
  } catch (err) {
    for (const w of workers) await w.stop();
    throw err;
  }
  return workers;
}

async function openVerifier(v: Verifier, seen: string[]): Promise<WebSocket> {
  const headers = { host: v.participant.host, cookie: v.participant.cookie, origin: `http://${v.participant.host}` };
  const ws = new WebSocket(v.url, { headers, perMessageDeflate: false });
  await withTimeout(
    new Promise<void>((res, rej) => {
      ws.once('open', () => {
        ws.send(HELLO_MIRROR);
        res();
      });
      ws.once('error', rej);
    }),
    10_000,
    'verifier socket',
  );
  ws.on('message', (data: Buffer) => seen.push(data.toString()));
  return ws;
}

/** What a verifier saw, checked with the protocol's parser: snapshot, then every batch of the run with consecutive seqs. */
function checkVerifier(targetName: string, where: string, seen: string[], runId: number, sent: number): void {
  const parsed = seen.map((text) => parseServerMessage(text));
  const bad = parsed.find((p) => !p.ok);
  if (bad && !bad.ok) throw new Error(`${targetName}: the hub sent ${where} a message the protocol rejects: ${bad.error}`);
  const msgs = parsed.flatMap((p) => (p.ok ? [p.value] : []));
  const snapshot = msgs.find((m) => m.type === 'snapshot');
  if (snapshot?.type !== 'snapshot') throw new Error(`${targetName}: the verifying follower ${where} got no snapshot`);
  const muts = msgs.filter((m) => m.type === 'mutations');
  const stamped = muts.filter((m) => m.type === 'mutations' && JSON.stringify(m.batch).includes(`@@ts=${runId}:`));
  if (stamped.length !== sent) throw new Error(`${targetName}: the verifying follower ${where} got ${stamped.length} of ${sent} batches`);
  const seqs = stamped.map((m) => (m.type === 'mutations' ? m.seq : 0));
  if (seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1)) throw new Error(`${targetName}: sequence numbers ${where} are not consecutive: ${seqs.join(',')}`);
}

/**
 * The check before measuring: a short burst must reach every follower exactly once (with
 * consecutive seqs at each, when the target stamps them), and every verifier must parse it all.
 */
export async function verifyHub(target: HubTarget, n: number, verifiers: Verifier[]): Promise<void> {
  const seen: string[][] = verifiers.map(() => []);
  const sockets: WebSocket[] = [];
  try {
    for (const [i, v] of verifiers.entries()) sockets.push(await openVerifier(v, seen[i]!));
    const runId = nextRunId();
    await Promise.all(target.followers.map((f) => f.call('reset', { runId })));
    const host = await HostSocket.open(target.hostUrl, target.hostHeaders, target.hostHello, target.snapshot);
    await sleep(100);
    const sent = await host.sendAtRate(runId, 50, 100);
    const deadline = Date.now() + 5000;
    let got = await reports(target.followers);
    while (got.reduce((s, r) => s + r.received, 0) < sent.sent * n && Date.now() < deadline) {
      await sleep(50);
      got = await reports(target.followers);
    }
    await host.close();
    const min = Math.min(...got.map((r) => r.minPerClient));
    const max = Math.max(...got.map((r) => r.maxPerClient));
    if (min !== sent.sent || max !== sent.sent) {
      throw new Error(`${target.name}: followers got between ${min} and ${max} of the ${sent.sent} batches the host sent (expected all of them, each once)`);
    }
    if (target.sequenced) {
      const gaps = got.reduce((s, r) => s + r.seqGaps, 0);
      if (gaps > 0) throw new Error(`${target.name}: ${gaps} seq gap(s) at the followers (${got.find((r) => r.firstGap)?.firstGap})`);
      const minSeq = Math.min(...got.map((r) => r.minSequencedPerClient));
      if (minSeq < sent.sent) throw new Error(`${target.name}: a follower got only ${minSeq} sequenced messages for ${sent.sent} batches`);
    }
    // Give the verifiers (on other nodes too) the time to receive the end of the burst.
    const until = Date.now() + 3000;
    const stampedIn = (msgs: string[]) => msgs.filter((m) => m.includes(`@@ts=${runId}:`)).length;
    while (seen.some((msgs) => stampedIn(msgs) < sent.sent) && Date.now() < until) await sleep(20);
    for (const [i, v] of verifiers.entries()) checkVerifier(target.name, `on ${v.url}`, seen[i]!, runId, sent.sent);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}
