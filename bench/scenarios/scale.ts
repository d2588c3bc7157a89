// (9) Scale-out: the hub's fan-out with the Redis back end, on one node and across two nodes,
// against one node with its state in memory. The same host driver and `ws` followers as the hub
// scenario; the three set-ups run interleaved in one run, each with its own gateway process(es),
// session, followers and (for Redis) its own redis-server.

import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../../gateway/node-flags.js';
import { mutationMessage, snapshotMessage } from '../lib/content.js';
import type { Bench } from '../lib/context.js';
import { type GatewayAddr, type Participant, redeemLink, sessionWithHost } from '../lib/gateway-session.js';
import { pool } from '../lib/http.js';
import { HELLO_LIVE, HELLO_MIRROR, type HubRun, type HubTarget, measure, procCpu, startFollowers, verifyHub } from '../lib/hub-run.js';
import { freePort } from '../lib/nginx.js';
import { startWorker, type Worker } from '../lib/procs.js';
import { type BenchRedis, redisVersion, startRedisServer } from '../lib/redis-server.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtRatio, median } from '../lib/stats.js';

type GatewayWorker = Worker<GatewayAddr>;

/** One of the three set-ups: its gateway node(s) (the host's first) and its Redis. */
interface Setup {
  name: string;
  short: string;
  nodes: { label: string; worker: GatewayWorker }[];
  redis: BenchRedis | null;
}

const BASELINE = '1 node, memory';

async function startSetups(bench: Bench, stack: { stop(): Promise<void> }[]): Promise<Setup[]> {
  const script = resolve(bench.childrenDir, 'gateway.js');
  const maxParticipants = Math.max(...bench.settings.hubFollowers) + 20;
  const base = { origin: bench.originUrl, maxSessions: 100, maxParticipants };
  const gateway = async (name: string, args: Record<string, unknown>): Promise<GatewayWorker> => {
    const w = await startWorker<GatewayAddr>(name, script, { args: { ...base, ...args }, execArgv: [...GATEWAY_NODE_FLAGS] });
    stack.push(w);
    return w;
  };
  const memory = await gateway('gateway-memory', {});
  const redisOne = await startRedisServer('redis-1node', bench.tmpDir);
  stack.push(redisOne);
  const single = await gateway('gateway-redis', { redis: redisOne.url });
  const redisTwo = await startRedisServer('redis-2nodes', bench.tmpDir);
  stack.push(redisTwo);
  // Both nodes answer for one public URL, as behind a balancer; the bench's clients connect to
  // each node's own port with that Host header (nothing listens on the public port itself).
  const publicUrl = `http://cobrowse.localhost:${await freePort()}`;
  const nodeA = await gateway('gateway-A', { redis: redisTwo.url, publicUrl });
  const nodeB = await gateway('gateway-B', { redis: redisTwo.url, publicUrl });
  return [
    { name: BASELINE, short: 'memory', nodes: [{ label: 'gateway', worker: memory }], redis: null },
    { name: '1 node, Redis', short: 'redis-1', nodes: [{ label: 'gateway', worker: single }], redis: redisOne },
    {
      name: '2 nodes, Redis',
      short: 'redis-2',
      nodes: [
        { label: 'gateway A', worker: nodeA },
        { label: 'gateway B', worker: nodeB },
      ],
      redis: redisTwo,
    },
  ];
}

const wsUrlOf = (node: GatewayWorker) => `ws://127.0.0.1:${node.ready.port}/__cobrowse/ws`;

/** A session on the set-up's first node, `n` followers spread over its nodes (each redeemed on the node it connects to), one verifier per node. */
async function prepare(
  bench: Bench,
  setup: Setup,
  n: number,
  notes: string[],
): Promise<{ target: HubTarget; verifiers: { url: string; participant: Participant }[] }> {
  const first = setup.nodes[0]!.worker;
  const { session, host } = await sessionWithHost(first.ready, `${bench.originUrl}/`);
  const k = setup.nodes.length;
  const joinStart = Date.now();
  const joined = await pool(n + k, 8, (i) => redeemLink(setup.nodes[i % k]!.worker.ready, session.observeUrl));
  const verifiers = joined.slice(n).map((participant, j) => ({ url: wsUrlOf(setup.nodes[(n + j) % k]!.worker), participant }));
  const followers = joined.slice(0, n);
  notes.push(`N=${n}, ${setup.name}: ${n + k} join-link redemptions took ${Date.now() - joinStart} ms`);
  const target: HubTarget = {
    name: setup.name,
    cpu: [...setup.nodes.map((node) => procCpu(node.label, node.worker.pid)), ...(setup.redis ? [procCpu('redis-server', setup.redis.pid)] : [])],
    hostUrl: wsUrlOf(first),
    // The hub takes only the page's own Origin (a browser sends it on every WebSocket upgrade).
    hostHeaders: { host: host.host, cookie: host.cookie, origin: `http://${host.host}` },
    hostHello: HELLO_LIVE,
    snapshot: snapshotMessage(`http://${host.host}/`),
    followers: [],
    sequenced: true,
  };
  const groups = setup.nodes.map((node, j) => ({
    url: wsUrlOf(node.worker),
    clients: followers.filter((_, i) => i % k === j).map((p) => ({ host: p.host, cookie: p.cookie })),
  }));
  const connectStart = Date.now();
  target.followers = await startFollowers(bench, groups, HELLO_MIRROR, `followers-${setup.short}`);
  notes.push(
    `N=${n}, ${setup.name}: connecting the followers (${groups.map((g, j) => `${g.clients.length} on ${setup.nodes[j]!.label}`).join(', ')}) took ${Date.now() - connectStart} ms`,
  );
  return { target, verifiers };
}

const pct = (v: number) => `${fmt(v)}%`;

/** Scenario 9: fan-out throughput, latency and CPU with Redis on one and two nodes, against one node in memory. */
export async function scaleOut(bench: Bench): Promise<ScenarioTable> {
  const { settings } = bench;
  const version = redisVersion();
  if (!version) throw new Error('redis-server is not installed (apt-get install -y redis-server, or set REDIS_SERVER_PATH)');
  const stack: { stop(): Promise<void> }[] = [];
  const runs: HubRun[] = [];
  const setupNotes: string[] = [];
  const failedChecks: string[] = [];
  let setups: Setup[] = [];
  try {
    setups = await startSetups(bench, stack);
    bench.log(
      `  nodes: ${setups.map((s) => `${s.name} (${s.nodes.map((n) => `:${n.worker.ready.port}`).join(' ')}${s.redis ? `, redis :${s.redis.port}` : ''})`).join('; ')}`,
    );
    for (const n of settings.hubFollowers) {
      const targets: HubTarget[] = [];
      try {
        for (const setup of setups) {
          const { target, verifiers } = await prepare(bench, setup, n, setupNotes);
          targets.push(target);
          await verifyHub(target, n, verifiers);
        }
        // Each process is fresh (and the Redis path only runs with Redis): one uncounted run per set-up warms the JIT.
        const warmRate = Math.max(...settings.hubRates);
        for (const target of targets) {
          const w = await measure(bench, target, n, warmRate, settings.hubMs / 2);
          if (w.seqGaps > 0) failedChecks.push(`N=${n} ${target.name}, warm-up: ${w.seqGaps} seq gap(s) (${w.firstGap})`);
        }
        for (let run = 0; run < settings.runs; run++) {
          for (const rate of settings.hubRates) {
            // Rotate the order from run to run, so no set-up always follows the same one.
            const order = targets.map((_, i) => targets[(i + run) % targets.length]!);
            for (const target of order) {
              const r = await measure(bench, target, n, rate, settings.hubMs);
              runs.push(r);
              if (r.seqGaps > 0) failedChecks.push(`N=${n} ${rate}/s ${target.name}, run ${run + 1}: ${r.seqGaps} seq gap(s) (${r.firstGap})`);
              bench.log(
                `  run ${run + 1}/${settings.runs} N=${n} ${rate}/s ${target.name}: delivered ${fmt(r.deliveredPerSec)}/s (${(r.share * 100).toFixed(0)}%), ` +
                  `p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms, CPU ${Object.entries(r.cpuPct)
                    .map(([k, v]) => `${k} ${fmt(v)}%`)
                    .join(', ')}` +
                  (r.host.closeCode !== null ? `, host closed ${r.host.closeCode} ${r.host.closeReason}` : '') +
                  (r.followersClosed > 0 ? `, ${r.followersClosed} follower(s) disconnected` : ''),
              );
            }
          }
        }
      } finally {
        for (const w of targets.flatMap((t) => t.followers)) {
          await w.call('closeAll', undefined, 10_000).catch(() => undefined);
          await w.stop();
        }
      }
    }
  } finally {
    for (const p of stack.reverse()) await p.stop();
  }

  const rows: string[][] = [];
  const summaries: unknown[] = [];
  for (const n of settings.hubFollowers) {
    for (const rate of settings.hubRates) {
      const pick = (name: string) => runs.filter((r) => r.n === n && r.rate === rate && r.target === name);
      const base = pick(BASELINE);
      const mb = (f: (r: HubRun) => number) => median(base.map(f));
      for (const setup of setups) {
        const rs = pick(setup.name);
        if (rs.length === 0) continue;
        const m = (f: (r: HubRun) => number) => median(rs.map(f));
        const gatewayCpu = (r: HubRun) => setup.nodes.reduce((s, node) => s + (r.cpuPct[node.label] ?? 0), 0);
        const redisCpu = (r: HubRun) => r.cpuPct['redis-server'] ?? Number.NaN;
        // CPU of the server side (gateways + Redis) per delivered message, µs.
        const perDelivery = (r: HubRun) => (r.serverCpuPct * 10 * r.cpuWindowMs) / Math.max(1, r.delivered);
        const summary = {
          n,
          rate,
          setup: setup.name,
          offeredPerSec: rate * n,
          deliveredPerSec: m((r) => r.deliveredPerSec),
          share: m((r) => r.share),
          p50: m((r) => r.p50),
          p99: m((r) => r.p99),
          gatewayCpuPct: m(gatewayCpu),
          gatewayCpuPctByNode: Object.fromEntries(setup.nodes.map((node) => [node.label, m((r) => r.cpuPct[node.label] ?? 0)])),
          redisCpuPct: setup.redis ? m(redisCpu) : null,
          serverCpuPct: m((r) => r.serverCpuPct),
          cpuUsPerDelivery: m(perDelivery),
          followerCpuPct: m((r) => r.followerCpuPct),
          deliveredRatio: m((r) => r.deliveredPerSec) / mb((r) => r.deliveredPerSec),
          p99Ratio: m((r) => r.p99) / mb((r) => r.p99),
          cpuRatio: m((r) => r.serverCpuPct) / mb((r) => r.serverCpuPct),
          runs: rs,
        };
        summaries.push(summary);
        const cut = rs.filter((r) => r.host.closeCode !== null);
        const dropped = rs.filter((r) => r.followersClosed > 0);
        const notes = [
          cut.length > 0
            ? `host closed ${[...new Set(cut.map((r) => `${r.host.closeCode} ${r.host.closeReason}`))].join(', ')} in ${cut.length}/${rs.length} runs`
            : '',
          dropped.length > 0 ? `followers disconnected: up to ${Math.max(...dropped.map((r) => r.followersClosed))}` : '',
        ].filter(Boolean);
        const byNode =
          setup.nodes.length > 1
            ? ` (${setup.nodes.map((node) => `${node.label.replace('gateway ', '')} ${fmt(summary.gatewayCpuPctByNode[node.label]!)}`).join(' + ')})`
            : '';
        rows.push([
          `N=${n}, ${rate} msg/s`,
          setup.name,
          fmt(rate * n),
          fmt(summary.deliveredPerSec),
          fmtRatio(summary.deliveredRatio),
          `${(summary.share * 100).toFixed(1)}%`,
          fmt(summary.p50),
          fmt(summary.p99),
          fmtRatio(summary.p99Ratio),
          `${pct(summary.gatewayCpuPct)}${byNode}`,
          summary.redisCpuPct === null ? '—' : pct(summary.redisCpuPct),
          fmtRatio(summary.cpuRatio),
          fmt(summary.cpuUsPerDelivery),
          pct(summary.followerCpuPct),
          notes.join('; '),
        ]);
      }
    }
  }
  const example = mutationMessage(1, 123);
  return {
    id: 'scale',
    title: '9. Scale-out: fan-out through Redis, one node and two nodes',
    baseline: `one gateway node with its state in memory (${BASELINE}), the same followers and rates, interleaved with the other two in the same run`,
    columns: [
      'case',
      'setup',
      'offered/s',
      'delivered/s',
      'vs memory',
      'share',
      'p50 ms',
      'p99 ms',
      'p99 vs memory',
      'gateway CPU',
      'redis CPU',
      'CPU vs memory',
      'CPU µs/delivery',
      'followers CPU',
      'notes',
    ],
    rows,
    notes: [
      `Set-ups: "${BASELINE}" is a gateway with the in-memory back end; "1 node, Redis" a gateway with \`redis:\` set, the host and all followers on it; "2 nodes, Redis" two gateways on one Redis sharing one publicUrl, the host on A and the followers alternately on A and B (half each). Each set-up has its own gateway process(es), session and follower process; the two Redis set-ups have a redis-server each (${version}, persistence off: \`--save '' --appendonly no\`).`,
      `With Redis, each batch the host sends goes to Redis (a Lua script stamps the seq, appends it to the checkpoint's tail and PUBLISHes it on the session's channel); every node subscribed to that channel hands it to its local followers. Batches are ${example.length} bytes of JSON, as in the hub scenario; the host is a \`ws\` client in the harness.`,
      'Checked first, per N and set-up: a burst of 5 batches reached every follower exactly once with consecutive seqs (snapshots and batches) at each, and a verifier on each node parsed every message with protocol/messages.ts. During the warm-up and measured runs every follower keeps checking its seqs: a gap fails the scenario. Every process is fresh, so each set-up gets one uncounted warm-up run (half the send time, at the highest rate) per N before the measured runs.',
      'delivered/s, share and latency as in the hub scenario (latency = receive time at the follower - send time stamped by the host, CLOCK_MONOTONIC). gateway CPU: the gateway process(es), % of one core over the send and drain window, from /proc (schedstat of every thread); for 2 nodes the sum, A + B in parentheses; redis CPU: the redis-server the same way. CPU vs memory: (gateways + redis-server) against the in-memory node. CPU µs/delivery: (gateways + redis-server) CPU per message delivered to a follower.',
      `The harness (host), the follower process, the gateways and redis-server share the machine's ${cpus().length} cores: when the followers CPU column nears 100% (one process) the followers, not the server, are the limit.`,
      ...setupNotes,
    ],
    data: summaries,
    ...(failedChecks.length > 0 ? { failedChecks } : {}),
  };
}
