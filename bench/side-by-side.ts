// Two builds of the gateway side by side on one origin, at one fixed request rate, in interleaved
// rounds: the main-thread CPU each spends per page (from /proc, the thread whose id is the
// process's) and what its other threads spend (V8's GC helpers, libuv's pool). The instrument for
// changes smaller than the full bench's run-to-run spread: the gateway's main thread is what
// saturates, a fixed rate keeps the two under the same load, and the paired ratio of each round
// (B against the A run just before it) resists the machine's drift, which on a shared machine is
// larger than such changes. bench/run.mjs builds both bundles: A from the git revision of `--base`
// (default HEAD), B from the working tree.
//
//   node bench/run.mjs --side-by-side [--base=REV] [--rate=2500] [--rounds=8] [--seconds=4] [--path=/page/50k.html] [--gzip]
//
// Figures go to stdout only: they are for comparing two builds in one run, not for the record.

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { sessionWithHost } from './lib/gateway-session.js';
import { killAllChildren, startWorker, type Worker } from './lib/procs.js';
import { median } from './lib/stats.js';

interface Options {
  base: string;
  rate: number;
  rounds: number;
  seconds: number;
  path: string;
  gzip: boolean;
}

function options(argv: string[]): Options {
  const value = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}=${text}: expected a number from ${min} to ${max}`);
    return n;
  };
  const path = value('path') ?? '/page/50k.html';
  if (!path.startsWith('/')) throw new Error(`--path=${path}: expected a path of the bench origin, such as /page/50k.html`);
  return {
    base: value('base') ?? 'HEAD',
    rate: number('rate', 2500, 100, 100_000),
    rounds: number('rounds', 8, 1, 100),
    seconds: number('seconds', 4, 1, 60),
    path,
    gzip: argv.includes('--gzip'),
  };
}

/** CPU nanoseconds of each thread of `pid`, the main thread (tid = pid) under 'main', the others summed under 'other'. */
function threadCpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let ns = 0;
    try {
      ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // the thread exited meanwhile
    }
    if (Number(tid) === pid) main += ns;
    else other += ns;
  }
  return { main, other };
}

interface Target {
  name: string;
  worker: Worker<{ port: number; url: string }>;
  host: string;
  cookie: string;
}

interface Round {
  rps: number;
  main: number;
  other: number;
  failed: number;
}

async function load(target: Target, o: Options, seconds: number, rate: number | null): Promise<Round> {
  const before = threadCpu(target.worker.pid);
  const result = await new Promise<autocannon.Result>((done, fail) => {
    autocannon(
      {
        url: `http://127.0.0.1:${target.worker.ready.port}${o.path}`,
        headers: {
          host: target.host,
          cookie: target.cookie,
          accept: 'text/html',
          'sec-fetch-dest': 'document',
          ...(o.gzip ? { 'accept-encoding': 'gzip, deflate, br' } : {}),
        },
        connections: 32,
        duration: seconds,
        sampleInt: 100,
        ...(rate === null ? {} : { overallRate: rate }),
      },
      (err, res) => (err ? fail(err) : done(res)),
    );
  });
  const after = threadCpu(target.worker.pid);
  const ok = result['2xx'];
  if (ok === 0) throw new Error(`${target.name}: no 2xx answer to ${o.path} (${result.non2xx} others, ${result.errors} errors)`);
  return {
    rps: ok / seconds,
    main: (after.main - before.main) / 1000 / ok,
    other: (after.other - before.other) / 1000 / ok,
    failed: result.non2xx + result.errors,
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const children = resolve(process.cwd(), 'bench/tmp/dist/children');
  const origin = await startWorker<{ port: number }>('origin', resolve(children, 'origin.js'));
  const originUrl = `http://127.0.0.1:${origin.ready.port}`;
  const targets: Target[] = [];
  for (const [name, file] of [
    [`A (${o.base})`, 'gateway-base.js'],
    ['B (working tree)', 'gateway.js'],
  ] as const) {
    const worker = await startWorker<{ port: number; url: string }>(name, resolve(children, file), {
      execArgv: [...GATEWAY_NODE_FLAGS],
      args: { origin: originUrl, maxSessions: 10, maxParticipants: 10 },
    });
    const { host } = await sessionWithHost(worker.ready, `${originUrl}/`);
    targets.push({ name, worker, host: host.host, cookie: host.cookie });
  }
  console.log(
    `side by side: ${o.path}${o.gzip ? ' (gzip accepted)' : ''} at ${o.rate} req/s, ${o.rounds} rounds of ${o.seconds} s, A then B (B first in odd rounds)`,
  );
  // Warm-up at full speed, so both builds' code is optimized before the first round.
  for (const t of targets) await load(t, o, 2, null);
  const runs: Round[][] = [[], []];
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) runs[i]!.push(await load(targets[i]!, o, o.seconds, o.rate));
    const [a, b] = [runs[0]![round]!, runs[1]![round]!];
    console.log(
      `  round ${round + 1}: A ${a.main.toFixed(1)} µs main (+${a.other.toFixed(1)} other) at ${a.rps.toFixed(0)}/s, B ${b.main.toFixed(1)} (+${b.other.toFixed(1)}) at ${b.rps.toFixed(0)}/s, B/A ${(b.main / a.main).toFixed(3)}`,
    );
  }
  const [a, b] = runs as [Round[], Round[]];
  const mainA = median(a.map((r) => r.main));
  const mainB = median(b.map((r) => r.main));
  const paired = median(a.map((r, k) => b[k]!.main / r.main));
  const failed = [...a, ...b].reduce((n, r) => n + r.failed, 0);
  console.log(`main thread per page, median: A ${mainA.toFixed(1)} µs, B ${mainB.toFixed(1)} µs; B/A paired by round, median: ${paired.toFixed(3)}`);
  console.log(`other threads per page, median: A ${median(a.map((r) => r.other)).toFixed(1)} µs, B ${median(b.map((r) => r.other)).toFixed(1)} µs`);
  const slow = [...a, ...b].filter((r) => r.rps < o.rate * 0.95).length;
  if (slow > 0) console.log(`note: ${slow} of ${a.length + b.length} runs fell short of ${o.rate} req/s (a saturated build: lower --rate)`);
  if (failed > 0) throw new Error(`${failed} answers were not 2xx or failed`);
}

try {
  await main();
} finally {
  killAllChildren();
}
