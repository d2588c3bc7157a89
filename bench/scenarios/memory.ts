// (6) Memory: per idle session (create many, measure the gateway process) and per connected
// participant (join + follower socket), against a bare uWS app holding the same sockets.
// Every run uses fresh processes started with --expose-gc; figures are taken after full GCs.

import { resolve } from 'node:path';
import { GATEWAY_NODE_FLAGS } from '../../gateway/node-flags.js';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import type { Bench } from '../lib/context.js';
import { createSession, gatewayHost, redeemLink } from '../lib/gateway-session.js';
import { httpRequest, pool } from '../lib/http.js';
import { startWorker, type Worker } from '../lib/procs.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtBytes, fmtRatio, median } from '../lib/stats.js';

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface MemoryRun {
  idle: Mem;
  sessionHeap: number;
  sessionRss: number;
  participantHeap: number;
  participantRss: number;
  rawSocketHeap: number;
  rawSocketRss: number;
  idleHeap: number;
  idleRss: number;
  heapWithSessions: number;
  rssWithSessions: number;
}

const GC_ARGS = ['--expose-gc'];

async function oneRun(bench: Bench): Promise<MemoryRun> {
  const { memorySessions: sessions, memoryParticipants: participants } = bench.settings;
  const gateway = await startWorker<{ port: number; url: string }>('gateway-memory', resolve(bench.childrenDir, 'gateway.js'), {
    args: { origin: bench.originUrl, maxSessions: sessions + 10, maxParticipants: participants + 10 },
    execArgv: [...GATEWAY_NODE_FLAGS, ...GC_ARGS],
  });
  const followers: Worker[] = [];
  try {
    const port = gateway.ready.port;
    // Warm the code paths once so JIT code and lazily built state are not counted as sessions.
    await createSession(gateway.ready, `${bench.originUrl}/`);
    const m0 = await gateway.call<Mem>('settledUsage');
    await pool(sessions, 8, () => createSession(gateway.ready, `${bench.originUrl}/`));
    const stats = await gateway.call<{ sessions: number }>('stats');
    if (stats.sessions !== sessions + 1) throw new Error(`the gateway holds ${stats.sessions} sessions, expected ${sessions + 1}`);
    const m1 = await gateway.call<Mem>('settledUsage');

    const f = await startWorker('followers-memory', resolve(bench.childrenDir, 'followers.js'));
    followers.push(f);
    const hello = JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    const connectGateway = async () => {
      const session = await createSession(gateway.ready, `${bench.originUrl}/`);
      const joined = await pool(participants, 8, () => redeemLink(gateway.ready, session.observeUrl));
      await f.call('connect', { url: `ws://127.0.0.1:${port}/__cobrowse/ws`, clients: joined.map((j) => ({ host: j.host, cookie: j.cookie })), hello }, 60_000);
      const gs = await gateway.call<{ sockets: number }>('stats');
      if (gs.sockets !== participants) throw new Error(`the hub holds ${gs.sockets} sockets, expected ${participants}`);
      return session;
    };
    // Warm-up round (allocator arenas, uWS socket pools), ended and collected before measuring.
    const warm = await connectGateway();
    await f.call('closeAll', undefined, 10_000);
    const ended = await httpRequest(port, 'DELETE', `/api/sessions/${warm.id}`, {
      host: gatewayHost(gateway.ready),
      authorization: `Bearer ${warm.adminToken}`,
    });
    if (ended.status !== 204) throw new Error(`DELETE /api/sessions answered ${ended.status}`);
    const m2 = await gateway.call<Mem>('settledUsage');
    await connectGateway();
    const m3 = await gateway.call<Mem>('settledUsage');
    await f.call('closeAll', undefined, 10_000);

    // Baseline: the same number of sockets on a bare uWS app (same warm-up round).
    const raw = await startWorker<{ port: number }>('uws-raw-memory', resolve(bench.childrenDir, 'uws-raw.js'), { execArgv: GC_ARGS });
    let r0: Mem;
    let r1: Mem;
    try {
      const connectRaw = async () => {
        await f.call('connect', { url: `ws://127.0.0.1:${raw.ready.port}/`, clients: Array.from({ length: participants }, () => ({})), hello: null }, 60_000);
        const rs = await raw.call<{ sockets: number }>('stats');
        if (rs.sockets !== participants) throw new Error(`raw uWS holds ${rs.sockets} sockets, expected ${participants}`);
      };
      await connectRaw();
      await f.call('closeAll', undefined, 10_000);
      r0 = await raw.call<Mem>('settledUsage');
      await connectRaw();
      r1 = await raw.call<Mem>('settledUsage');
      await f.call('closeAll', undefined, 10_000);
    } finally {
      await raw.stop();
    }
    return {
      idle: m0,
      sessionHeap: (m1.heapUsed - m0.heapUsed) / sessions,
      sessionRss: (m1.rss - m0.rss) / sessions,
      participantHeap: (m3.heapUsed - m2.heapUsed) / participants,
      participantRss: (m3.rss - m2.rss) / participants,
      rawSocketHeap: (r1.heapUsed - r0.heapUsed) / participants,
      rawSocketRss: (r1.rss - r0.rss) / participants,
      idleHeap: m0.heapUsed,
      idleRss: m0.rss,
      heapWithSessions: m1.heapUsed,
      rssWithSessions: m1.rss,
    };
  } finally {
    for (const w of followers) await w.stop();
    await gateway.stop();
  }
}

export async function memory(bench: Bench): Promise<ScenarioTable> {
  const { memorySessions: sessions, memoryParticipants: participants, runs: count } = bench.settings;
  const runs: MemoryRun[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(await oneRun(bench));
    const r = runs[i]!;
    bench.log(
      `  run ${i + 1}/${count}: session ${fmtBytes(r.sessionHeap)} heap, participant ${fmtBytes(r.participantHeap)} heap (raw uWS socket ${fmtBytes(r.rawSocketHeap)})`,
    );
  }
  const m = (f: (r: MemoryRun) => number) => median(runs.map(f));
  const rows = [
    [
      `idle session (x${sessions})`,
      'gateway',
      fmtBytes(m((r) => r.sessionHeap)),
      fmtBytes(m((r) => r.sessionRss)),
      `${fmtBytes(m((r) => r.heapWithSessions))} heap / ${fmtBytes(m((r) => r.rssWithSessions))} RSS`,
      `${fmtRatio(m((r) => r.heapWithSessions / r.idleHeap))} heap, ${fmtRatio(m((r) => r.rssWithSessions / r.idleRss))} RSS`,
    ],
    [
      `connected participant (x${participants})`,
      'gateway',
      fmtBytes(m((r) => r.participantHeap)),
      fmtBytes(m((r) => r.participantRss)),
      '',
      `${fmtRatio(m((r) => r.participantHeap) / m((r) => r.rawSocketHeap))} heap`,
    ],
    [`connected socket (x${participants})`, 'raw uWS', fmtBytes(m((r) => r.rawSocketHeap)), fmtBytes(m((r) => r.rawSocketRss)), '', '1.00x heap'],
  ];
  return {
    id: 'memory',
    title: '6. Memory per idle session and per connected participant',
    baseline: `sessions: the same gateway process before them (idle: ${fmtBytes(m((r) => r.idleHeap))} heap, ${fmtBytes(m((r) => r.idleRss))} RSS); participants: a bare uWS app holding the same number of sockets`,
    columns: ['what', 'process', 'heap each', 'RSS each', 'process total', 'ratio'],
    rows,
    notes: [
      `Each run starts fresh processes with --expose-gc and reads memory after full GCs. Sessions: POST /api/sessions x${sessions}, checked with the registry's count. Participants: ${participants} join-link redemptions, then ${participants} follower sockets (hello as mirror), checked with the hub's socket count.`,
      `Figures are marginal costs in a warm process: the participant round is preceded by a warm-up round of ${participants} sockets that is closed, its session deleted and collected (the same warm-up in both processes), so map and allocator growth is amortized as it is in a busy gateway. Heap is the figure to compare; uWS keeps each socket's native state outside the JS heap in both processes alike, and RSS per item is coarse (freed pages are reused, not returned): shown for information. ${fmt(count)} runs, median.`,
    ],
    data: { runs, sessions, participants },
  };
}
