// (4) Hub fan-out: a host publishes ~1 KB mutation batches at a fixed rate to N protocol-level
// followers; the same host driver and followers run against a bare uWS publish app (the ceiling).

import { resolve } from 'node:path';
import { mutationMessage, snapshotMessage } from '../lib/content.js';
import type { Bench } from '../lib/context.js';
import { redeemLink, sessionWithHost } from '../lib/gateway-session.js';
import { pool } from '../lib/http.js';
import { HELLO_LIVE, HELLO_MIRROR, type HubRun, type HubTarget, measure, rpcCpu, startFollowers, verifyHub } from '../lib/hub-run.js';
import { startWorker } from '../lib/procs.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtRatio, median } from '../lib/stats.js';

/** Scenario 4: the gateway's hub against a bare uWS publish, per follower count and rate. */
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
        cpu: [rpcCpu('gateway', bench.gateway)],
        sequenced: true,
        hostUrl: wsUrl,
        // The hub takes only the page's own Origin (a browser sends it on every WebSocket upgrade).
        hostHeaders: { host: host.host, cookie: host.cookie, origin: `http://${host.host}` },
        hostHello: HELLO_LIVE,
        snapshot: snapshotMessage(snapshotUrl),
        followers: [],
      };
      const ceiling: HubTarget = {
        name: 'raw uWS publish',
        cpu: [rpcCpu('uws-raw', raw)],
        sequenced: false,
        hostUrl: `ws://127.0.0.1:${raw.ready.port}/?role=host`,
        hostHeaders: {},
        hostHello: null,
        snapshot: snapshotMessage(snapshotUrl),
        followers: [],
      };
      try {
        const connectStart = Date.now();
        gateway.followers = await startFollowers(bench, [{ url: wsUrl, clients: observers.map((o) => ({ host: o.host, cookie: o.cookie })) }], HELLO_MIRROR);
        ceiling.followers = await startFollowers(bench, [{ url: `ws://127.0.0.1:${raw.ready.port}/`, clients: Array.from({ length: n }, () => ({})) }], null);
        setupNotes.push(`N=${n}: connecting the followers of both targets took ${Date.now() - connectStart} ms`);
        await verifyHub(gateway, n, [{ url: wsUrl, participant: check }]);
        await verifyHub(ceiling, n, []);
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
    'Checked first, per N and target: every follower got every batch exactly once (through the gateway with consecutive seqs at every follower); a separate follower parsed every message with protocol/messages.ts (snapshot, then mutations with consecutive seq).',
    'delivered/s = batches received by all followers / max(send time, time to the last delivery); share = received / (rate x send time x N); latency = receive time - send time stamped into a text node (CLOCK_MONOTONIC, shared by the processes).',
    'server CPU: CPU time of the gateway (or raw uWS) process over the send and drain window, in % of one core; followers CPU: all follower processes, % of one core — when it nears 100% per process the followers, not the server, are the limit.',
    'The hub closes a follower socket that sends more than 200 messages/s (burst 400) with 4400 RATE_LIMITED; the live host socket has its own budget of 2000/s (burst 4000), so a host publishing 1000 batches/s is not cut off.',
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
