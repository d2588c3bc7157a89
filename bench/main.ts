// The benchmark harness: starts the origin, the gateway, http-proxy and nginx as child processes,
// runs the scenarios, prints the table and writes bench/results/<date>-<mode>.{json,md}.
// Run it with `npm run bench` (quick) or `npm run bench -- --full`; bench/run.mjs builds it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import type { Bench, Settings } from './lib/context.js';
import { sessionWithHost } from './lib/gateway-session.js';
import { closeHttpAgent } from './lib/http.js';
import { findNginx, type NginxProxy, startNginx } from './lib/nginx.js';
import { killAllChildren, startWorker } from './lib/procs.js';
import { machineInfo, renderMarkdown, renderText, type ScenarioTable } from './lib/report.js';
import { cookieJar, htmlPages, staticAssets } from './scenarios/http.js';
import { hubFanout } from './scenarios/hub.js';
import { memory } from './scenarios/memory.js';
import { scaleOut } from './scenarios/scale.js';
import { sync } from './scenarios/sync.js';

// A scenario returns one table, or several (sync: latency and snapshot).
const SCENARIOS: Record<string, (bench: Bench) => Promise<ScenarioTable | ScenarioTable[]>> = {
  static: staticAssets,
  html: htmlPages,
  cookies: cookieJar,
  hub: hubFanout,
  memory,
  sync,
  scale: scaleOut,
};

const USAGE = `npm run bench [-- options]
  (no option)      quick mode: 3 runs per figure, short load runs (< 2 minutes)
  --full           full mode: 5 runs, longer load runs, 1000 followers in the hub scenario
  --only=a,b       run only these scenarios: ${Object.keys(SCENARIOS).join(', ')}
  --runs=N         runs per figure (median reported)
  --no-nginx       skip the nginx baseline
  --results=DIR    write the run's .md and .json into DIR (default bench/results)
  --no-build       use the dist/inject.js that is there instead of building it first
  --rewriter-throughput   only the HTML rewriter's throughput (bench/rewriter-throughput.ts, bundled)
  --zlib-calls            only zlib streams against one call each (bench/zlib-calls.ts, bundled)
  --side-by-side [--base=REV] [--rate=N] [--rounds=N] [--seconds=N] [--path=P] [--gzip]
                          the working tree's gateway against REV's (default HEAD) at a fixed rate: main-thread CPU per page (bench/side-by-side.ts)
  --help`;

function settingsFor(full: boolean): Settings {
  return full
    ? {
        mode: 'full',
        runs: 5,
        httpSeconds: 5,
        warmupSeconds: 2,
        connections: 32,
        hubMs: 3000,
        hubDrainMs: 5000,
        hubFollowers: [10, 100, 1000],
        hubRates: [100, 1000],
        memorySessions: 1000,
        memoryParticipants: 100,
      }
    : {
        mode: 'quick',
        runs: 3,
        httpSeconds: 1,
        warmupSeconds: 0.2,
        connections: 32,
        hubMs: 1000,
        hubDrainMs: 1500,
        hubFollowers: [10, 100],
        hubRates: [100, 1000],
        memorySessions: 1000,
        memoryParticipants: 100,
      };
}

function parseArgs(argv: string[]): { settings: Settings; only: string[]; nginx: boolean; resultsDir: string } {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const full = argv.includes('--full');
  const settings = settingsFor(full);
  let only = Object.keys(SCENARIOS);
  let nginx = true;
  let resultsDir = 'bench/results';
  for (const arg of argv) {
    if (arg === '--full' || arg === '--no-build') continue; // --no-build is run.mjs's
    if (arg === '--no-nginx') nginx = false;
    else if (arg.startsWith('--results=') && arg.length > 10) resultsDir = arg.slice(10);
    else if (arg.startsWith('--only=')) only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--runs=')) settings.runs = Math.max(1, Number.parseInt(arg.slice(7), 10) || settings.runs);
    else {
      console.error(`unknown option ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  const unknown = only.filter((s) => !(s in SCENARIOS));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s) ${unknown.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return { settings, only, nginx, resultsDir };
}

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  return `node bench/run.mjs${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
}

function stamp(date: Date): string {
  return date.toISOString().replace(/:/g, '').replace(/\..*$/, 'Z');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const { settings, only, nginx: wantNginx, resultsDir: resultsArg } = parseArgs(argv);
  const started = Date.now();
  const here = dirname(fileURLToPath(import.meta.url));
  const childrenDir = resolve(here, 'children');
  const tmpDir = resolve('bench/tmp');
  const resultsDir = resolve(resultsArg);
  mkdirSync(tmpDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const log = (msg: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);

  // Whole-run watchdog: every loop is bounded, and so is the run.
  const watchdogMs = settings.mode === 'full' ? 60 * 60_000 : 10 * 60_000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${watchdogMs / 60_000} minutes, stopping\n`);
    killAllChildren();
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();

  const { bin: nginxBin, note: findNote } = wantNginx ? findNginx(log) : { bin: null, note: 'nginx baseline disabled with --no-nginx' };
  const machine = machineInfo(settings.mode, commandLine(argv), nginxBin);
  log(`${settings.mode} mode: ${only.join(', ')}; ${machine.cpus} CPUs, load ${machine.loadAverageAtStart.join(' ')}`);

  const tables: ScenarioTable[] = [];
  let failed = false;
  let nginx: NginxProxy | null = null;
  try {
    const origin = await startWorker<Bench['origin']['ready']>('origin', resolve(childrenDir, 'origin.js'));
    const originUrl = `http://127.0.0.1:${origin.ready.port}`;
    const gateway = await startWorker<Bench['gateway']['ready']>('gateway', resolve(childrenDir, 'gateway.js'), {
      execArgv: [...GATEWAY_NODE_FLAGS],
      args: { origin: originUrl, maxSessions: 5000, maxParticipants: Math.max(...settings.hubFollowers) + 100 },
    });
    const rewriterOffGateway = only.includes('html')
      ? await startWorker<Bench['gateway']['ready']>('gateway-rewriter-off', resolve(childrenDir, 'gateway.js'), {
          execArgv: [...GATEWAY_NODE_FLAGS],
          args: { origin: originUrl, maxSessions: 10, maxParticipants: 10, rewriterOff: true },
        })
      : null;
    const httpProxy = await startWorker<{ port: number }>('http-proxy', resolve(childrenDir, 'http-proxy.js'), { args: { origin: originUrl } });
    const floor = await startWorker<{ port: number }>('uws-undici', resolve(childrenDir, 'uws-undici.js'), { args: { origin: originUrl } });
    let nginxNote = findNote;
    if (nginxBin) {
      try {
        nginx = await startNginx(nginxBin, origin.ready.port, tmpDir);
      } catch (err) {
        nginxNote = `nginx could not start (${(err as Error).message}): its baseline is skipped`;
      }
    }
    if (nginxNote) log(nginxNote);
    const { host: gatewayHost } = await sessionWithHost(gateway.ready, `${originUrl}/`);
    const rewriterOff = rewriterOffGateway
      ? { gateway: rewriterOffGateway, host: (await sessionWithHost(rewriterOffGateway.ready, `${originUrl}/`)).host }
      : null;
    log(
      `origin :${origin.ready.port}, gateway :${gateway.ready.port}, http-proxy :${httpProxy.ready.port}, uws-undici :${floor.ready.port}${nginx ? `, nginx :${nginx.port}` : ''}`,
    );

    const bench: Bench = { settings, childrenDir, tmpDir, origin, originUrl, gateway, gatewayHost, rewriterOff, httpProxy, floor, nginx, nginxNote, log };
    for (const id of only) {
      const run = SCENARIOS[id]!;
      log(`scenario ${id}`);
      try {
        const produced = [await run(bench)].flat();
        tables.push(...produced);
        for (const t of produced.filter((t) => t.failedChecks?.length)) {
          failed = true;
          log(`scenario ${id} FAILED checks: ${t.failedChecks?.join('; ')}`);
        }
      } catch (err) {
        failed = true;
        const message = err instanceof Error ? err.message : String(err);
        log(`scenario ${id} FAILED: ${message}`);
        tables.push({ id, title: id, baseline: '—', columns: [], rows: [], notes: [], data: null, error: message });
      }
    }
  } finally {
    await nginx?.stop();
    killAllChildren();
    closeHttpAgent();
  }

  const totalSeconds = Math.round((Date.now() - started) / 100) / 10;
  const md = `${renderMarkdown(machine, tables, { ...settings, nginx: Boolean(nginx) })}\nTotal time: ${totalSeconds} s.\n`;
  const base = resolve(resultsDir, `${stamp(new Date(machine.date))}-${settings.mode}`);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ machine, settings, totalSeconds, scenarios: tables }, null, 2)}\n`);
  console.log(renderText(tables));
  console.log(`\n${totalSeconds} s in all. Written: ${base}.md and .json`);
  console.log('Figures are noisy on a shared machine: compare ratios within one run, not absolute numbers across runs.');
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the loop open (sockets in TIME_WAIT handlers, timers) must not keep us here.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    killAllChildren();
    process.exit(1);
  },
);
