// (4) Hub fan-out: a host publishes ~1 KB mutation batches at a fixed rate to N protocol-level
// followers; the same host driver and followers run against a bare uWS publish app (the ceiling).

import { resolve } from 'node:path';
import WebSocket from 'ws';
import { parseServerMessage } from '../../protocol/messages.js';
import { monoMicros, mutationMessage, snapshotMessage } from '../lib/content.js';
import type { Bench } from '../lib/context.js';
import { type Participant, redeemLink, sessionWithHost } from '../lib/gateway-session.js';
import { pool } from '../lib/http.js';
import { type HostRunResult, HostSocket } from '../lib/hub-host.js';
import { sleep, startWorker, type Worker, withTimeout } from '../lib/procs.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtRatio, Histogram, median } from '../lib/stats.js';

const HELLO_LIVE = JSON.stringify({ type: 'hello', v: 1, mode: 'live' });
const HELLO_MIRROR = JSON.stringify({ type: 'hello', v: 1, mode: 'mirror' });

interface FollowerReport {
  received: number;
  minPerClient: number;
  maxPerClient: number;
  hist: [number, number][];
  firstUs: number;
  lastUs: number;
  open: number;
  closed: number;
  closeCodes: Record<string, number>;
  usage: { cpuMs: number; wallMs: number };
}

interface UsageSample {
  cpuMs: number;
  wallMs: number;
}

/** One side of the comparison: where the host and the followers connect. */
interface HubTarget {
  name: string;
  server: Worker;
  hostUrl: string;
  hostHeaders: Record<string, string>;
  hostHello: string | null;
  snapshot: string;
  followers: Worker[];
}

interface HubRun {
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
  serverCpuPct: number;
  followerCpuPct: number;
  followersOpen: number;
  followersClosed: number;
  minPerClient: number;
}

let runCounter = 1000;

async function reports(followers: Worker[]): Promise<FollowerReport[]> {
  return Promise.all(followers.map((f) => f.call<FollowerReport>('report')));
}

/** Publishes at `rate` for the configured time and collects what the followers got. */
async function measure(bench: Bench, target: HubTarget, n: number, rate: number, durationMs: number): Promise<HubRun> {
  const runId = ++runCounter;
  await Promise.all(target.followers.map((f) => f.call('reset', { runId })));
  const host = await HostSocket.open(target.hostUrl, target.hostHeaders, target.hostHello, target.snapshot);
  await sleep(100);
  const before = await target.server.call<UsageSample>('usage');
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
  const after = await target.server.call<UsageSample>('usage');
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
    serverCpuPct: (100 * (after.cpuMs - before.cpuMs)) / (after.wallMs - before.wallMs),
    followerCpuPct: followerWall > 0 ? (100 * followerCpu) / followerWall : Number.NaN,
    followersOpen: got.reduce((s, r) => s + r.open, 0),
    followersClosed: got.reduce((s, r) => s + r.closed, 0),
    minPerClient: Math.min(...got.map((r) => r.minPerClient)),
  };
}

/** Starts follower processes and connects `clients` spread over them. */
async function startFollowers(bench: Bench, url: string, clients: { host?: string; cookie?: string }[], hello: string | null): Promise<Worker[]> {
  const procs = clients.length >= 500 ? 2 : 1;
  const workers: Worker[] = [];
  for (let p = 0; p < procs; p++) workers.push(await startWorker(`followers-${p + 1}`, resolve(bench.childrenDir, 'followers.js')));
  await Promise.all(workers.map((w, p) => w.call('connect', { url, clients: clients.filter((_, i) => i % procs === p), hello }, 60_000 + clients.length * 50)));
  return workers;
}

/** Checks the hub's output for a few batches with a full protocol parse, and that every follower got them all. */
async function verifyHub(target: HubTarget, n: number, check: Participant | null): Promise<void> {
  const seen: string[] = [];
  let verifier: WebSocket | null = null;
  if (check) {
    verifier = new WebSocket(target.hostUrl, { headers: { host: check.host, cookie: check.cookie }, perMessageDeflate: false });
    const v = verifier;
    await withTimeout(
      new Promise<void>((res, rej) => {
        v.once('open', () => {
          v.send(HELLO_MIRROR);
          res();
        });
        v.once('error', rej);
      }),
      10_000,
      'verifier socket',
    );
    v.on('message', (data: Buffer) => seen.push(data.toString()));
  }
  const runId = ++runCounter;
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
  if (verifier) {
    verifier.terminate();
    const parsed = seen.map((text) => parseServerMessage(text));
    const bad = parsed.find((p) => !p.ok);
    if (bad && !bad.ok) throw new Error(`${target.name}: the hub sent a message the protocol rejects: ${bad.error}`);
    const msgs = parsed.flatMap((p) => (p.ok ? [p.value] : []));
    const snapshot = msgs.find((m) => m.type === 'snapshot');
    if (snapshot?.type !== 'snapshot') throw new Error(`${target.name}: the verifying follower got no snapshot`);
    const muts = msgs.filter((m) => m.type === 'mutations');
    const stamped = muts.filter((m) => m.type === 'mutations' && JSON.stringify(m.batch).includes(`@@ts=${runId}:`));
    if (stamped.length !== sent.sent) throw new Error(`${target.name}: the verifying follower got ${stamped.length} of ${sent.sent} batches`);
    const seqs = stamped.map((m) => (m.type === 'mutations' ? m.seq : 0));
    if (seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1)) throw new Error(`${target.name}: sequence numbers are not consecutive: ${seqs.join(',')}`);
  }
}

export async function hubFanout(bench: Bench): Promise<ScenarioTable> {
  const { settings } = bench;
  const gwPort = bench.gateway.ready.port;
  const raw = await startWorker<{ port: number }>('uws-raw', resolve(bench.childrenDir, 'uws-raw.js'));
  const runs: HubRun[] = [];
  const notes: string[] = [];
  const setupNotes: string[] = [];
  try {
    for (const n of settings.hubFollowers) {
      const { session, host } = await sessionWithHost(bench.gateway.ready, `${bench.originUrl}/`);
      const joinStart = Date.now();
      const observers = await pool(n + 1, 8, () => redeemLink(bench.gateway.ready, session.observeUrl));
      const check = observers.pop()!;
      setupNotes.push(`N=${n}: ${n} join-link redemptions took ${Date.now() - joinStart} ms`);
      const wsUrl = `ws://127.0.0.1:${gwPort}/__cobrowse/ws`;
      const snapshotUrl = `http://${host.host}/`;
      const gateway: HubTarget = {
        name: 'gateway hub',
        server: bench.gateway,
        hostUrl: wsUrl,
        hostHeaders: { host: host.host, cookie: host.cookie },
        hostHello: HELLO_LIVE,
        snapshot: snapshotMessage(snapshotUrl),
        followers: [],
      };
      const ceiling: HubTarget = {
        name: 'raw uWS publish',
        server: raw,
        hostUrl: `ws://127.0.0.1:${raw.ready.port}/?role=host`,
        hostHeaders: {},
        hostHello: null,
        snapshot: snapshotMessage(snapshotUrl),
        followers: [],
      };
      try {
        const connectStart = Date.now();
        gateway.followers = await startFollowers(
          bench,
          wsUrl,
          observers.map((o) => ({ host: o.host, cookie: o.cookie })),
          HELLO_MIRROR,
        );
        ceiling.followers = await startFollowers(
          bench,
          `ws://127.0.0.1:${raw.ready.port}/`,
          Array.from({ length: n }, () => ({})),
          null,
        );
        setupNotes.push(`N=${n}: connecting the followers of both targets took ${Date.now() - connectStart} ms`);
        await verifyHub(gateway, n, check);
        await verifyHub(ceiling, n, null);
        for (let run = 0; run < settings.runs; run++) {
          for (const rate of settings.hubRates) {
            const order = run % 2 === 0 ? [gateway, ceiling] : [ceiling, gateway];
            for (const target of order) {
              const r = await measure(bench, target, n, rate, settings.hubMs);
              runs.push(r);
              bench.log(
                `  run ${run + 1}/${settings.runs} N=${n} ${rate}/s ${target.name}: delivered ${fmt(r.deliveredPerSec)}/s (${(r.share * 100).toFixed(0)}%), p99 ${fmt(r.p99)} ms` +
                  (r.host.closeCode !== null
                    ? `, host closed ${r.host.closeCode} ${r.host.closeReason} after ${Math.round(r.host.closedAfterMs ?? 0)} ms`
                    : ''),
              );
            }
          }
        }
      } finally {
        for (const w of [...gateway.followers, ...ceiling.followers]) {
          await w.call('closeAll', undefined, 10_000).catch(() => undefined);
          await w.stop();
        }
      }
    }
  } finally {
    await raw.stop();
  }

  const rows: string[][] = [];
  const summaries: unknown[] = [];
  for (const n of settings.hubFollowers) {
    for (const rate of settings.hubRates) {
      const pick = (target: string) => runs.filter((r) => r.n === n && r.rate === rate && r.target === target);
      const base = pick('raw uWS publish');
      for (const target of ['gateway hub', 'raw uWS publish']) {
        const rs = pick(target);
        if (rs.length === 0) continue;
        const m = (f: (r: HubRun) => number) => median(rs.map(f));
        const mb = (f: (r: HubRun) => number) => median(base.map(f));
        const cut = rs.filter((r) => r.host.closeCode !== null);
        const closedNote =
          cut.length > 0
            ? `host closed ${[...new Set(cut.map((r) => `${r.host.closeCode} ${r.host.closeReason}`))].join(', ')} after ~${fmt(median(cut.map((r) => r.host.closedAfterMs ?? Number.NaN)))} ms in ${cut.length}/${rs.length} runs`
            : '';
        const dropped = rs.filter((r) => r.followersClosed > 0);
        const followerNote = dropped.length > 0 ? `followers disconnected: ${Math.max(...dropped.map((r) => r.followersClosed))}` : '';
        const summary = {
          n,
          rate,
          target,
          offeredPerSec: rate * n,
          deliveredPerSec: m((r) => r.deliveredPerSec),
          share: m((r) => r.share),
          p50: m((r) => r.p50),
          p99: m((r) => r.p99),
          serverCpuPct: m((r) => r.serverCpuPct),
          followerCpuPct: m((r) => r.followerCpuPct),
          deliveredRatio: m((r) => r.deliveredPerSec) / mb((r) => r.deliveredPerSec),
          p99Ratio: m((r) => r.p99) / mb((r) => r.p99),
          cpuRatio: m((r) => r.serverCpuPct) / mb((r) => r.serverCpuPct),
          runs: rs,
        };
        summaries.push(summary);
        rows.push([
          `N=${n}, ${rate} msg/s`,
          target,
          fmt(rate * n),
          fmt(summary.deliveredPerSec),
          fmtRatio(summary.deliveredRatio),
          `${(summary.share * 100).toFixed(1)}%`,
          fmt(summary.p50),
          fmt(summary.p99),
          fmtRatio(summary.p99Ratio),
          `${fmt(summary.serverCpuPct)}%`,
          fmtRatio(summary.cpuRatio),
          `${fmt(summary.followerCpuPct)}%`,
          [closedNote, followerNote].filter(Boolean).join('; ') || '',
        ]);
      }
    }
  }
  const example = mutationMessage(1, 123);
  notes.push(
    `Batches are ${example.length} bytes of JSON (text, attribute, added subtree, scroll, removal); the host sends them from the harness process, followers are \`ws\` clients in ${settings.hubFollowers.some((n) => n >= 500) ? '1-2' : '1'} child process(es).`,
    'Checked first, per N and target: every follower got every batch exactly once; through the gateway a separate follower parsed every message with protocol/messages.ts (snapshot, then mutations with consecutive seq).',
    'delivered/s = batches received by all followers / max(send time, time to the last delivery); share = received / (rate x send time x N); latency = receive time - send time stamped into a text node (CLOCK_MONOTONIC, shared by the processes).',
    'server CPU: CPU time of the gateway (or raw uWS) process over the send and drain window, in % of one core; followers CPU: all follower processes, % of one core — when it nears 100% per process the followers, not the server, are the limit.',
    'The hub closes a socket that sends more than 200 messages/s (burst 400) with 4400 RATE_LIMITED: a host publishing 1000 batches/s is cut off after ~0.5 s and its followers get ~500 batches; the share column shows it. Measured as is, gateway code unchanged.',
    ...setupNotes,
  );
  return {
    id: 'hub',
    title: '4. Hub fan-out (host -> N followers)',
    baseline: 'raw uWS publish of the same payloads to the same number of `ws` followers, same run',
    columns: [
      'case',
      'target',
      'offered/s',
      'delivered/s',
      'vs raw',
      'share',
      'p50 ms',
      'p99 ms',
      'p99 vs raw',
      'server CPU',
      'CPU vs raw',
      'followers CPU',
      'notes',
    ],
    rows,
    notes,
    data: summaries,
  };
}
