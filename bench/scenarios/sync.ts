// (7) Live sync in real browsers: the latency from a DOM change in the host's page (real Chromium,
// through the gateway) to the change applied in followers (a real Chromium follower, plus 9 or 49
// protocol-level `ws` followers), against a plain WebSocket echo round trip measured in the same
// run; and (8) the snapshot of a 10,000-element page: its size, the host's time to produce it and
// the follower's time to apply it, against the page's own HTML and the browser parsing it.
//
// Processes: the harness (this file, Playwright's client and a tiny node:http origin serving the
// two pages), a gateway child of its own (the bench gateway's allowlist names the bench origin),
// children/sync-followers.ts (the `ws` followers and the uWS echo server) and Chromium, started
// with spawnTracked so that the harness kills its whole process group on every exit path.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { GATEWAY_NODE_FLAGS } from '../../gateway/node-flags.js';
import { CHROMIUM_FLAGS as TEST_CHROMIUM_FLAGS } from '../../test/helpers/chromium-flags.js';
import type { Bench } from '../lib/context.js';
import { createSession, type Participant, redeemLink } from '../lib/gateway-session.js';
import { pool } from '../lib/http.js';
import { type Spawned, sleep, spawnTracked, startWorker, withTimeout } from '../lib/procs.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtBytes, fmtRatio, median } from '../lib/stats.js';

/** Where the browser tests expect Chromium (test/helpers/browser.ts). */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags of test/helpers/browser.ts, plus no throttling of pages that are not in front. */
const CHROMIUM_FLAGS = [
  ...TEST_CHROMIUM_FLAGS,
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** The issue's target for 10 followers. */
const TARGET = { followers: 10, p50: 30, p99: 100 };

interface SyncSettings {
  runs: number;
  /** How long the host page changes its DOM per follower count, ms. */
  changeMs: number;
  /** One change every `everyMs`. */
  everyMs: number;
  /** Total followers per case: always 1 browser, the rest `ws` clients. */
  followerCounts: number[];
  /** Echo baseline per run (half before the cases, half after), ms. */
  echoMs: number;
  /** Size of an echo message: about a mutations message of this scenario. */
  echoBytes: number;
  /** `<li>` rows of the big page (5 elements each). */
  rows: number;
  snapshotRuns: number;
}

function syncSettings(bench: Bench): SyncSettings {
  const full = bench.settings.mode === 'full';
  return {
    runs: full ? 3 : 1,
    // Quick mode keeps the whole `npm run bench` under two minutes.
    changeMs: full ? 5000 : 3000,
    everyMs: 20,
    followerCounts: [1, 10, 50],
    echoMs: full ? 5000 : 1500,
    echoBytes: 250,
    rows: 2000,
    snapshotRuns: full ? 5 : 2,
  };
}

// ---- the origin: two pages, served from the harness process ----

const LIVE_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sync bench: live feed</title>
<style>body{font:14px/1.4 sans-serif;margin:16px}li{padding:1px 0}.static li{color:#555}</style></head>
<body><h1>Live feed</h1><ul class="static">${Array.from({ length: 50 }, (_, i) => `<li class="item" data-i="${i}"><span>Item ${i}</span> <b>${(i * 1.37).toFixed(2)}</b></li>`).join('')}</ul>
<ul id="feed"></ul></body></html>
`;

function bigPage(rows: number): string {
  const items: string[] = [];
  for (let i = 0; i < rows; i++) {
    items.push(
      `<li class="row" data-i="${i}"><span class="name"><a href="#item-${i}">Item ${i}</a></span><span class="price"><b>${((i * 7919) % 10000) / 100}</b> EUR</span></li>`,
    );
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sync bench: ${rows * 5} elements</title>
<style>body{font:13px/1.3 sans-serif;margin:16px}.row{display:flex;gap:8px}.price{color:#060}</style></head>
<body><h1>${rows} rows</h1><ul id="rows">${items.join('')}</ul></body></html>
`;
}

function startOrigin(pages: Map<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const body = pages.get((req.url ?? '/').split('?')[0] ?? '/');
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  });
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res(server));
  });
}

// ---- Chromium, as a tracked process group, driven over CDP ----

async function launchChromium(bench: Bench): Promise<{ browser: Browser; proc: Spawned; removeProfile: () => void }> {
  const profile = mkdtempSync(resolve(bench.tmpDir, 'chromium-'));
  // Also on Ctrl-C and fatal errors: lib/procs.ts kills the process group and exits, and then this runs.
  const removeProfile = () => {
    process.off('exit', removeProfile);
    rmSync(profile, { recursive: true, force: true });
  };
  process.on('exit', removeProfile);
  const proc = spawnTracked('chromium', CHROMIUM_PATH, [...CHROMIUM_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank']);
  try {
    const deadline = Date.now() + 20_000;
    let endpoint: string | undefined;
    while (!endpoint) {
      endpoint = /DevTools listening on (ws:\/\/\S+)/.exec(proc.stderr())?.[1];
      if (endpoint) break;
      if (proc.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `Chromium did not start (${proc.child.exitCode !== null ? `exit ${proc.child.exitCode}` : 'no DevTools endpoint in 20 s'}): ${proc.stderr().slice(-500)}`,
        );
      }
      await sleep(50);
    }
    const browser = await chromium.connectOverCDP(endpoint, { timeout: 20_000 });
    return { browser, proc, removeProfile };
  } catch (err) {
    await proc.stop();
    removeProfile();
    throw err;
  }
}

interface BrowserParticipant {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

async function newParticipant(browser: Browser): Promise<BrowserParticipant> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

/** Evaluates `(source)(arg)` in the page (strings, so that the bundler cannot touch page code). */
function run<T>(page: Page, source: string, arg: unknown = null, timeoutMs = 30_000): Promise<T> {
  return withTimeout(page.evaluate(`(${source})(${JSON.stringify(arg)})`) as Promise<T>, timeoutMs, 'page script');
}

/** Polls `probe` until it returns a truthy value; bounded. */
async function until<T>(what: string, probe: () => Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

// ---- page scripts ----

/** In the host page: appends a stamped <li> every `everyMs` for `durationMs`; keeps the list at 40. */
const STAMP_SCRIPT = `({ runId, durationMs, everyMs }) => new Promise((resolve) => {
  const feed = document.getElementById('feed');
  const total = Math.max(1, Math.round(durationMs / everyMs));
  let i = 0;
  const timer = setInterval(() => {
    const li = document.createElement('li');
    li.textContent = '@@sync=' + runId + ':' + i + ':' + (performance.timeOrigin + performance.now()).toFixed(3);
    feed.appendChild(li);
    while (feed.childElementCount > 40) feed.firstElementChild.remove();
    if (++i >= total) {
      clearInterval(timer);
      resolve(i);
    }
  }, everyMs);
})`;

/** In the follower's view page: a MutationObserver on the mirror frame's document. */
const FOLLOWER_OBSERVER = `() => {
  const doc = document.getElementById('cobrowse-mirror').contentDocument;
  const re = /^@@sync=(\\d+):(\\d+):([\\d.]+)$/;
  const state = { run: -1, samples: [], seen: new Set(), dup: 0, snapshots: 0 };
  state.reset = (run) => { state.run = run; state.samples = []; state.seen = new Set(); state.dup = 0; state.snapshots = 0; };
  window.__syncLat = state;
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeName === 'HTML') state.snapshots++;
        if (n.nodeName !== 'LI') continue;
        const m = re.exec(n.textContent || '');
        if (!m || Number(m[1]) !== state.run) continue;
        const i = Number(m[2]);
        if (state.seen.has(i)) { state.dup++; continue; }
        state.seen.add(i);
        state.samples.push(now - Number(m[3]));
      }
    }
  }).observe(doc, { childList: true, subtree: true });
  return true;
}`;

/** Round trips of `echoBytes` messages to the echo server every `everyMs`, from a blank page. */
const ECHO_SCRIPT = `({ url, durationMs, everyMs, bytes }) => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  const total = Math.max(1, Math.round(durationMs / everyMs));
  const pad = 'x'.repeat(bytes);
  const rtts = [];
  let sent = 0;
  let timer = null;
  const done = () => { clearInterval(timer); clearTimeout(guard); ws.close(); resolve(rtts); };
  const guard = setTimeout(done, durationMs + 3000);
  ws.onerror = () => { clearInterval(timer); clearTimeout(guard); reject(new Error('echo socket failed')); };
  ws.onmessage = (ev) => {
    const text = String(ev.data);
    rtts.push(performance.now() - Number(text.slice(0, text.indexOf(':'))));
    if (rtts.length >= total) done();
  };
  ws.onopen = () => {
    timer = setInterval(() => {
      if (sent >= total) { clearInterval(timer); return; }
      sent++;
      ws.send(performance.now() + ':' + pad);
    }, everyMs);
  };
})`;

/**
 * Added to the host's context before the snapshot runs: the time of DOMContentLoaded (registered
 * before the injected script's own listener), of the hub socket's open event, of the snapshot
 * handed to WebSocket.send, and of JSON.stringify of the snapshot message.
 */
const HOST_PROBE = `(() => {
  if (window.top !== window) return;
  const probe = { dcl: null, open: null, sends: [], stringify: [] };
  window.__syncProbe = probe;
  const stringify = JSON.stringify;
  JSON.stringify = function (value, ...rest) {
    if (!value || value.type !== 'snapshot') return stringify.call(this, value, ...rest);
    const t = performance.now();
    const out = stringify.call(this, value, ...rest);
    probe.stringify.push(performance.now() - t);
    return out;
  };
  document.addEventListener('DOMContentLoaded', () => { probe.dcl = performance.now(); }, { once: true });
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    const t0 = performance.now();
    const result = send.call(this, data);
    if (typeof data === 'string' && data.startsWith('{"type":"snapshot"')) {
      probe.sends.push({ t0, t1: performance.now(), wall: performance.timeOrigin + t0, chars: data.length });
    }
    return result;
  };
  window.WebSocket = new Proxy(Native, {
    construct(target, args, newTarget) {
      const ws = Reflect.construct(target, args, newTarget);
      ws.addEventListener('open', () => { if (probe.open === null) probe.open = performance.now(); });
      return ws;
    },
  });
})();`;

/**
 * Added to the follower's context: when a snapshot message arrives (a listener that runs before
 * the bundle's own), how long JSON.parse of it takes, when the mirror frame holds all rows of the
 * big page after it (a MutationObserver on the frame's document), then the next frame (rAF, then
 * a task).
 */
const FOLLOWER_PROBE = `(() => {
  if (window.top !== window) return;
  const probe = { recv: [], rows: 0, parse: [] };
  window.__syncProbe = probe;
  const parse = JSON.parse;
  JSON.parse = function (text, ...rest) {
    if (typeof text !== 'string' || !text.startsWith('{"type":"snapshot"')) return parse.call(this, text, ...rest);
    const t = performance.now();
    const out = parse.call(this, text, ...rest);
    probe.parse.push(performance.now() - t);
    return out;
  };
  const Native = window.WebSocket;
  window.WebSocket = new Proxy(Native, {
    construct(target, args, newTarget) {
      const ws = Reflect.construct(target, args, newTarget);
      ws.addEventListener('message', (ev) => {
        if (typeof ev.data === 'string' && ev.data.startsWith('{"type":"snapshot"')) {
          probe.recv.push({ t: performance.now(), wall: performance.timeOrigin + performance.now(), chars: ev.data.length, applied: null, frame: null });
        }
      });
      return ws;
    },
  });
  const watch = () => {
    const frame = document.getElementById('cobrowse-mirror');
    const doc = frame && frame.contentDocument;
    if (!doc) return;
    new MutationObserver(() => {
      const t = performance.now();
      const last = probe.recv[probe.recv.length - 1];
      if (!last || last.applied !== null || probe.rows === 0) return;
      if (doc.querySelectorAll('li.row').length < probe.rows) return;
      last.applied = t;
      requestAnimationFrame(() => setTimeout(() => { last.frame = performance.now(); }, 0));
    }).observe(doc, { childList: true, subtree: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watch, { once: true });
  else watch();
})();`;

/** Milliseconds to parse `html` with DOMParser in this page (the browser's own cost of that DOM). */
const PARSE_SCRIPT = `(html) => {
  const t = performance.now();
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const ms = performance.now() - t;
  return { ms, elements: doc.querySelectorAll('*').length };
}`;

const COUNT_HOST = `() => ({ rows: document.querySelectorAll('li.row').length, inRows: document.querySelectorAll('li.row *').length, elements: document.querySelectorAll('*').length })`;
const COUNT_MIRROR = `() => { const d = document.getElementById('cobrowse-mirror').contentDocument; return { rows: d.querySelectorAll('li.row').length, inRows: d.querySelectorAll('li.row *').length, elements: d.querySelectorAll('*').length }; }`;

// ---- statistics ----

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const harnessClock = (): number => performance.timeOrigin + performance.now();

/** Offset of another clock (`performance.timeOrigin + performance.now()` elsewhere) from the harness's, from the tightest of 8 round trips. */
async function clockOffset(read: () => Promise<number>): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 8; i++) {
    const a = harnessClock();
    const v = await read();
    const b = harnessClock();
    if (b - a < best.rttMs) best = { offsetMs: v - (a + b) / 2, rttMs: b - a };
  }
  return best;
}

interface FollowersReport {
  clients: number;
  open: number;
  received: number;
  minPerClient: number;
  maxPerClient: number;
  duplicates: number;
  snapshotsDuringRun: number;
  parseErrors: number;
  firstParseError: string;
  seqGaps: number;
  closed: number;
  mutationMessages: number;
  mutationBytes: number;
}

interface BrowserLat {
  samples: number[];
  seen: number;
  dup: number;
  snapshots: number;
}

interface LatencyRun {
  run: number;
  n: number;
  sent: number;
  browser: { p50: number; p99: number; max: number; count: number };
  ws: { p50: number; p99: number; max: number; count: number; clients: number };
  /** Mean size of the mutations messages the ws followers got (null without ws followers). */
  mutationBytes: number | null;
  /** Snapshots the followers got during the run (the hub asks for one every 2000 batches). */
  snapshots: { browser: number; ws: number };
  all: { p50: number; p99: number; max: number; count: number; over30ms: number };
}

interface SnapshotRun {
  run: number;
  hostBytes: number;
  hostGzipBytes: number;
  followerBytes: number;
  /** DOMContentLoaded (or the socket's open, when later) -> snapshot handed to WebSocket.send. */
  serializeMs: number;
  /** Time inside WebSocket.send for the snapshot string. */
  sendCallMs: number;
  /** JSON.stringify of the snapshot message (part of serializeMs). */
  stringifyMs: number;
  navToSendMs: number;
  navToDclMs: number;
  trigger: 'DOMContentLoaded' | 'socket open';
  /** Host's send (its clock) -> follower's receive event (its clock). */
  relayMs: number;
  /** Host's send -> the ws follower's receipt of the snapshot. */
  relayWsMs: number;
  applyMs: number;
  /** JSON.parse of the snapshot message in the follower (part of applyMs). */
  parseMs: number;
  frameMs: number;
  hostParseMs: number;
  followerParseMs: number;
}

let runCounter = 5000;

export async function sync(bench: Bench): Promise<ScenarioTable[]> {
  if (!existsSync(CHROMIUM_PATH)) {
    const why = `skipped: Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
    bench.log(`  ${why}`);
    return [
      { id: 'sync', title: '7. Live sync latency and snapshots in real browsers', baseline: '—', columns: [], rows: [], notes: [], data: null, error: why },
    ];
  }
  const cfg = syncSettings(bench);
  const maxWs = Math.max(...cfg.followerCounts) - 1;
  const big = bigPage(cfg.rows);
  const pages = new Map([
    ['/live.html', LIVE_PAGE],
    ['/10k.html', big],
    // Straight from the origin (not proxied): a loopback page may open a socket to the loopback
    // echo server; about:blank may not (Chromium's local network access checks).
    ['/echo.html', '<!DOCTYPE html><html><head><meta charset="utf-8"><title>echo</title></head><body></body></html>'],
  ]);
  const cleanups: { what: string; fn: () => Promise<unknown> }[] = [];
  const notes: string[] = [];
  const latencyRuns: LatencyRun[] = [];
  const echoRuns: { run: number; p50: number; p99: number; max: number; count: number }[] = [];
  const snapshotRuns: SnapshotRun[] = [];
  const offsets: Record<string, { offsetMs: number; rttMs: number }> = {};
  let corrections = { browser: 0, ws: 0 };
  let counts: { host: unknown; mirror: unknown } | null = null;
  const pageErrors: string[] = [];
  const loadAtStart = loadavg()[0]!;

  try {
    const origin = await startOrigin(pages);
    cleanups.push({ what: 'sync origin', fn: () => new Promise((r) => origin.close(() => r(null))) });
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const gateway = await startWorker<{ port: number; url: string }>('gateway-sync', resolve(bench.childrenDir, 'gateway.js'), {
      execArgv: [...GATEWAY_NODE_FLAGS],
      args: { origin: originUrl, maxSessions: 100, maxParticipants: maxWs + 20 },
    });
    cleanups.push({ what: 'gateway-sync', fn: () => gateway.stop() });
    const followers = await startWorker('sync-followers', resolve(bench.childrenDir, 'sync-followers.js'));
    cleanups.push({ what: 'sync-followers', fn: () => followers.call('closeAll', undefined, 10_000).finally(() => followers.stop()) });
    const { port: echoPort } = await followers.call<{ port: number }>('echo');
    const chrome = await launchChromium(bench);
    cleanups.push({
      what: 'chromium',
      fn: async () => {
        await withTimeout(chrome.browser.close(), 5000, 'browser.close').catch(() => undefined);
        await chrome.proc.stop();
        chrome.removeProfile();
      },
    });
    const { browser } = chrome;
    bench.log(`  sync: gateway :${gateway.ready.port}, origin ${originUrl}, echo :${echoPort}, Chromium pid ${chrome.proc.pid}`);

    // The session: a real host page, a real follower (observer), and observers for the ws clients.
    const session = await createSession(gateway.ready, `${originUrl}/live.html`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl, { timeout: 20_000 });
    await until('the host page runs live', () =>
      host.page.evaluate(`Boolean(window.__cobrowse && window.__cobrowse.mode === 'live' && document.getElementById('feed'))`),
    );
    const hostOrigin = new URL(host.page.url()).origin;
    const follower = await newParticipant(browser);
    await follower.page.goto(session.observeUrl, { timeout: 20_000 });
    if (new URL(follower.page.url()).pathname !== '/__cobrowse/view') throw new Error(`the observe link led to ${follower.page.url()}, not the view page`);
    await until('the follower mirrors the host page', () =>
      follower.page.evaluate(
        `(() => { const d = document.getElementById('cobrowse-mirror').contentDocument; return Boolean(d && d.getElementById('feed')); })()`,
      ),
    );
    await run(follower.page, FOLLOWER_OBSERVER);
    const observers: Participant[] = await pool(maxWs, 8, () => redeemLink(gateway.ready, session.observeUrl));
    const echoPage = await host.context.newPage();
    await echoPage.goto(`${originUrl}/echo.html`);
    const wsUrl = `ws://127.0.0.1:${gateway.ready.port}/__cobrowse/ws`;

    const measureOffsets = async (label: string) => {
      offsets[`host page ${label}`] = await clockOffset(() => host.page.evaluate('performance.timeOrigin + performance.now()') as Promise<number>);
      offsets[`browser follower ${label}`] = await clockOffset(() => follower.page.evaluate('performance.timeOrigin + performance.now()') as Promise<number>);
      offsets[`ws followers ${label}`] = await clockOffset(() => followers.call<number>('clock'));
    };
    await measureOffsets('(start)');
    const hostOff = offsets['host page (start)']!;
    const bDelta = offsets['browser follower (start)']!.offsetMs - hostOff.offsetMs;
    const wDelta = offsets['ws followers (start)']!.offsetMs - hostOff.offsetMs;
    // The clocks are all "wall clock when the page or process started + a monotonic clock"; they
    // agree to well under a millisecond unless the wall clock was stepped or slewed in between.
    // Corrected only when the measured difference is clearly more than the measurement's own error.
    const slack = (o: { rttMs: number }) => hostOff.rttMs / 2 + o.rttMs / 2 + 1;
    corrections = {
      browser: Math.abs(bDelta) > slack(offsets['browser follower (start)']!) ? bDelta : 0,
      ws: Math.abs(wDelta) > slack(offsets['ws followers (start)']!) ? wDelta : 0,
    };

    let connected = 0;
    const connectWs = async (total: number) => {
      if (total <= connected) return;
      await followers.call('connect', { url: wsUrl, participants: observers.slice(connected, total).map((o) => ({ host: o.host, cookie: o.cookie })) }, 60_000);
      connected = total;
    };

    /** One measured (or checking) burst of changes to the current followers. */
    const burst = async (n: number, durationMs: number, runIndex: number): Promise<LatencyRun> => {
      const runId = ++runCounter;
      await followers.call('reset', { runId });
      await follower.page.evaluate(`window.__syncLat.reset(${runId})`);
      const sent = await run<number>(host.page, STAMP_SCRIPT, { runId, durationMs, everyMs: cfg.everyMs }, durationMs + 10_000);
      const wsCount = n - 1;
      let r: FollowersReport | null = null;
      // The loop ends as soon as every follower has every change: the limit only bounds a loss, and
      // is generous because npm test runs this scenario beside the suite's browsers (bench-smoke).
      const deadline = Date.now() + 15_000;
      for (;;) {
        const seen = (await follower.page.evaluate('window.__syncLat.seen.size')) as number;
        r = await followers.call<FollowersReport>('report');
        if ((seen >= sent && (wsCount === 0 || r.minPerClient >= sent)) || Date.now() > deadline) break;
        await sleep(50);
      }
      const b = (await follower.page.evaluate(
        '({ samples: window.__syncLat.samples, seen: window.__syncLat.seen.size, dup: window.__syncLat.dup, snapshots: window.__syncLat.snapshots })',
      )) as BrowserLat;
      const wsLat = wsCount > 0 ? (await followers.call<number[]>('latencies')).map((v) => v - corrections.ws) : [];
      const browserLat = b.samples.map((v) => v - corrections.browser);
      const label = `${n} follower(s)`;
      if (b.seen !== sent || b.dup > 0) throw new Error(`${label}: the browser follower applied ${b.seen} of the ${sent} changes (${b.dup} twice)`);
      if (r.parseErrors > 0) throw new Error(`${label}: ${r.parseErrors} hub message(s) failed protocol/messages.ts: ${r.firstParseError}`);
      if (r.seqGaps > 0) throw new Error(`${label}: ${r.seqGaps} mutations message(s) with a non-consecutive seq`);
      if (r.clients !== wsCount || r.open !== wsCount) throw new Error(`${label}: ${r.open}/${r.clients} ws followers open, expected ${wsCount}`);
      if (wsCount > 0 && (r.minPerClient !== sent || r.maxPerClient !== sent || r.duplicates > 0)) {
        throw new Error(`${label}: ws followers got between ${r.minPerClient} and ${r.maxPerClient} of the ${sent} changes (${r.duplicates} duplicates)`);
      }
      const all = [...browserLat, ...wsLat];
      return {
        run: runIndex,
        n,
        sent,
        browser: { p50: quantile(browserLat, 0.5), p99: quantile(browserLat, 0.99), max: quantile(browserLat, 1), count: browserLat.length },
        ws: { p50: quantile(wsLat, 0.5), p99: quantile(wsLat, 0.99), max: quantile(wsLat, 1), count: wsLat.length, clients: wsCount },
        all: { p50: quantile(all, 0.5), p99: quantile(all, 0.99), max: quantile(all, 1), count: all.length, over30ms: all.filter((v) => v > 30).length },
        snapshots: { browser: b.snapshots, ws: r.snapshotsDuringRun },
        mutationBytes: r.mutationMessages > 0 ? r.mutationBytes / r.mutationMessages : null,
      };
    };

    // Checked first: a short burst reaches the browser follower and a ws follower exactly once,
    // every hub message parses with protocol/messages.ts (snapshot, then consecutive seq).
    await connectWs(1);
    await burst(2, 200, -1);
    await followers.call('closeAll', undefined, 10_000);
    connected = 0;
    const echo = (ms: number) =>
      run<number[]>(echoPage, ECHO_SCRIPT, { url: `ws://127.0.0.1:${echoPort}/`, durationMs: ms, everyMs: cfg.everyMs, bytes: cfg.echoBytes }, ms + 10_000);
    const checkEcho = await echo(100);
    if (checkEcho.length !== 5) throw new Error(`the echo check got ${checkEcho.length} of 5 answers`);

    for (let r = 0; r < cfg.runs; r++) {
      const rtts = await echo(cfg.echoMs / 2);
      for (const n of cfg.followerCounts) {
        await connectWs(n - 1);
        const result = await burst(n, cfg.changeMs, r);
        latencyRuns.push(result);
        bench.log(
          `  run ${r + 1}/${cfg.runs} ${n} follower(s): ${result.sent} changes, p50 ${fmt(result.all.p50)} ms, p99 ${fmt(result.all.p99)} ms, max ${fmt(result.all.max)} ms, ${result.all.over30ms}/${result.all.count} over 30 ms (browser ${fmt(result.browser.p50)} / ${fmt(result.browser.p99)})`,
        );
      }
      rtts.push(...(await echo(cfg.echoMs / 2)));
      echoRuns.push({ run: r, p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), max: quantile(rtts, 1), count: rtts.length });
      bench.log(
        `  run ${r + 1}/${cfg.runs} echo baseline: p50 ${fmt(quantile(rtts, 0.5))} ms, p99 ${fmt(quantile(rtts, 0.99))} ms (${rtts.length} round trips)`,
      );
      await followers.call('closeAll', undefined, 10_000);
      connected = 0;
    }
    await measureOffsets('(end)');

    // ---- (8) the snapshot of a 10,000-element page ----
    await host.context.addInitScript({ content: HOST_PROBE });
    await follower.context.addInitScript({ content: FOLLOWER_PROBE });
    let hostFrames: string[] = [];
    let followerFrames: number[] = [];
    host.page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/__cobrowse/ws')) return;
      ws.on('framesent', (f) => {
        if (typeof f.payload === 'string' && f.payload.startsWith('{"type":"snapshot"')) hostFrames.push(f.payload);
      });
    });
    follower.page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => {
        if (typeof f.payload === 'string' && f.payload.startsWith('{"type":"snapshot"')) followerFrames.push(Buffer.byteLength(f.payload));
      });
    });
    // The follower reloads to get its probe; then the host goes to the big page (a warm-up load).
    await follower.page.reload({ timeout: 20_000 });
    await until('the follower probe', () => follower.page.evaluate(`Boolean(window.__syncProbe && window.__cobrowse)`));
    await follower.page.evaluate(`window.__syncProbe.rows = ${cfg.rows}`);
    // One ws follower too: the relay to a follower whose browser does not copy the frame to Playwright.
    await connectWs(1);
    await host.page.goto(`${hostOrigin}/10k.html`, { timeout: 20_000 });
    await until('the follower mirrors the big page', () =>
      follower.page.evaluate('(() => { const r = window.__syncProbe.recv; return r.length > 0 && r[r.length - 1].frame !== null; })()'),
    );
    const hostCount = await run<{ rows: number; inRows: number; elements: number }>(host.page, COUNT_HOST);
    const mirrorCount = await run<{ rows: number; inRows: number; elements: number }>(follower.page, COUNT_MIRROR);
    counts = { host: hostCount, mirror: mirrorCount };
    if (hostCount.rows !== cfg.rows || hostCount.inRows !== cfg.rows * 4)
      throw new Error(`the host page has ${hostCount.rows} rows / ${hostCount.inRows} elements in them`);
    if (mirrorCount.rows !== hostCount.rows || mirrorCount.inRows !== hostCount.inRows) {
      throw new Error(`the mirror has ${mirrorCount.rows} rows / ${mirrorCount.inRows} elements in them, the host ${hostCount.rows} / ${hostCount.inRows}`);
    }

    for (let r = 0; r < cfg.snapshotRuns; r++) {
      hostFrames = [];
      followerFrames = [];
      await followers.call('reset', { runId: ++runCounter });
      await follower.page.evaluate('window.__syncProbe.recv = []; window.__syncProbe.parse = []');
      await host.page.reload({ timeout: 20_000 });
      const recv = await until('the follower applies the new snapshot', () =>
        follower.page.evaluate(
          '(() => { const p = window.__syncProbe; return p.recv.length > 0 && p.recv[0].frame !== null ? { ...p.recv[0], parse: p.parse[p.parse.length - 1] } : null; })()',
        ),
      );
      const h = await until('the host probe', () =>
        host.page.evaluate(
          `(() => { const p = window.__syncProbe; const nav = performance.getEntriesByType('navigation')[0]; return p && p.sends.length > 0 && p.dcl !== null ? { ...p, dclEnd: nav ? nav.domContentLoadedEventEnd : null } : null; })()`,
        ),
      );
      const probe = recv as { t: number; wall: number; applied: number; frame: number; parse: number };
      const hp = h as { dcl: number; open: number; sends: { t0: number; t1: number; wall: number }[]; stringify: number[] };
      const send = hp.sends[0]!;
      const start = Math.max(hp.dcl, hp.open ?? 0);
      await until('the snapshot frame (Playwright)', async () => hostFrames.length > 0 && followerFrames.length > 0, 5000);
      const payload = hostFrames[0]!;
      const wsSnap = await until('the ws follower gets the snapshot', () => followers.call<{ wall: number; bytes: number } | null>('lastSnapshot'), 5000);
      const hostParse = await run<{ ms: number; elements: number }>(host.page, PARSE_SCRIPT, big);
      const followerParse = await run<{ ms: number; elements: number }>(follower.page, PARSE_SCRIPT, big);
      const result: SnapshotRun = {
        run: r,
        hostBytes: Buffer.byteLength(payload),
        hostGzipBytes: gzipSync(payload).length,
        followerBytes: followerFrames[0]!,
        serializeMs: send.t0 - start,
        sendCallMs: send.t1 - send.t0,
        stringifyMs: hp.stringify[hp.stringify.length - 1] ?? Number.NaN,
        navToSendMs: send.t0,
        navToDclMs: hp.dcl,
        trigger: hp.dcl >= (hp.open ?? 0) ? 'DOMContentLoaded' : 'socket open',
        relayMs: probe.wall - send.wall - corrections.browser,
        relayWsMs: wsSnap.wall - send.wall - corrections.ws,
        applyMs: probe.applied - probe.t,
        parseMs: probe.parse ?? Number.NaN,
        frameMs: probe.frame - probe.t,
        hostParseMs: hostParse.ms,
        followerParseMs: followerParse.ms,
      };
      snapshotRuns.push(result);
      bench.log(
        `  snapshot run ${r + 1}/${cfg.snapshotRuns}: ${fmtBytes(result.hostBytes)}, host ${fmt(result.serializeMs)} ms (after ${result.trigger}), relay ${fmt(result.relayMs)} ms, apply ${fmt(result.applyMs)} ms, next frame ${fmt(result.frameMs)} ms`,
      );
    }
    pageErrors.push(...host.errors, ...follower.errors);
  } finally {
    for (const c of cleanups.reverse()) {
      await withTimeout(c.fn(), 15_000, `stopping ${c.what}`).catch((err: Error) => bench.log(`  sync: ${err.message}`));
    }
  }

  // ---- tables ----
  const echoP50 = median(echoRuns.map((e) => e.p50));
  const echoP99 = median(echoRuns.map((e) => e.p99));
  const rows: string[][] = [];
  const summaries: unknown[] = [];
  let targetMet: boolean | null = null;
  for (const n of cfg.followerCounts) {
    const rs = latencyRuns.filter((r) => r.n === n);
    const m = (f: (r: LatencyRun) => number) => median(rs.map(f));
    const s = {
      followers: n,
      browserFollowers: 1,
      wsFollowers: n - 1,
      changesPerSecond: 1000 / cfg.everyMs,
      changesPerRun: m((r) => r.sent),
      p50: m((r) => r.all.p50),
      p99: m((r) => r.all.p99),
      max: m((r) => r.all.max),
      over30ms: m((r) => r.all.over30ms),
      browserP50: m((r) => r.browser.p50),
      browserP99: m((r) => r.browser.p99),
      wsP50: n > 1 ? m((r) => r.ws.p50) : null,
      wsP99: n > 1 ? m((r) => r.ws.p99) : null,
      p50VsEcho: m((r) => r.all.p50) / echoP50,
      p99VsEcho: m((r) => r.all.p99) / echoP99,
      runs: rs,
    };
    summaries.push(s);
    let target = '';
    if (n === TARGET.followers) {
      targetMet = s.p50 < TARGET.p50 && s.p99 < TARGET.p99;
      target = `p50 < ${TARGET.p50} and p99 < ${TARGET.p99} ms: ${targetMet ? 'met' : 'NOT met'}`;
    }
    rows.push([
      n === 1 ? '1 (browser)' : `${n} (1 browser + ${n - 1} ws)`,
      'gateway',
      `${fmt(s.changesPerRun)} x ${n}`,
      fmt(s.p50),
      fmt(s.p99),
      fmt(s.max),
      fmtRatio(s.p50VsEcho),
      fmtRatio(s.p99VsEcho),
      fmt(s.browserP50),
      fmt(s.browserP99),
      fmt(s.wsP50),
      fmt(s.wsP99),
      target,
    ]);
  }
  rows.push([
    '—',
    'WebSocket echo (baseline)',
    `${fmt(median(echoRuns.map((e) => e.count)))} round trips`,
    fmt(echoP50),
    fmt(echoP99),
    fmt(median(echoRuns.map((e) => e.max))),
    '1.00x',
    '1.00x',
    '',
    '',
    '',
    '',
    '',
  ]);

  const offsetText = Object.entries(offsets)
    .map(([k, o]) => `${k} ${o.offsetMs >= 0 ? '+' : ''}${o.offsetMs.toFixed(2)} ms (±${(o.rttMs / 2).toFixed(2)})`)
    .join(', ');
  notes.push(
    `Host: real Chromium on a page of the harness's origin (${pages.get('/live.html')!.length} bytes, 50 static rows) through the gateway; every ${cfg.everyMs} ms for ${cfg.changeMs / 1000} s it appends an <li> whose text is \`@@sync=<run>:<i>:<performance.timeOrigin + performance.now()>\` and drops the oldest beyond 40 (the recorder sends one mutations batch per change; the hub's mutations messages averaged ${fmt(median(latencyRuns.flatMap((r) => (r.mutationBytes === null ? [] : [r.mutationBytes]))))} bytes). ${cfg.runs} run(s) per follower count (${bench.settings.mode} mode), median reported.`,
    'Browser follower: real Chromium on the view page (observe link); a MutationObserver on the mirror frame\'s document reads the stamp of each added <li> and takes its own `performance.timeOrigin + performance.now()`: the change is counted when it is in the mirror\'s DOM (before style, layout and paint). ws followers: `ws` clients in one child process (bench/children/sync-followers.ts), each a participant that redeemed the observe link and said hello as a mirror; they parse every message with protocol/messages.ts and take their clock when the message arrives. "p50/p99" pool the samples of every follower of the case.',
    `Baseline: round trips of ${cfg.echoBytes}-byte messages every ${cfg.everyMs} ms between a blank page of the same Chromium (loaded from the origin directly) and a bare uWS echo server (in the ws followers' process), ${cfg.echoMs / 2000} s before and ${cfg.echoMs / 2000} s after the follower cases of each run. One echo round trip crosses the loopback twice through one server, like host -> hub -> follower; the ratio is what recording, the hub and applying add to that.`,
    `Checked first: a short burst reached the browser follower and a ws follower exactly once, and every hub message parsed with protocol/messages.ts (snapshot, then mutations with consecutive seq); every measured case then required every change at every follower exactly once, no parse error and no seq gap.`,
    `Snapshots during the measured cases (the hub asks the host for a fresh one past 2000 batches in its checkpoint; followers then rebuild the mirror): ${latencyRuns.reduce((s, r) => s + r.snapshots.browser, 0)} at the browser follower, ${latencyRuns.reduce((s, r) => s + r.snapshots.ws, 0)} at the ws followers.`,
    `Clocks: both browsers and the ws process read performance.timeOrigin + performance.now() (wall clock at start + monotonic clock). Their offsets from the harness's, from the tightest of 8 round trips: ${offsetText}. ${corrections.browser || corrections.ws ? `Latencies corrected by ${corrections.browser.toFixed(2)} ms (browser follower) and ${corrections.ws.toFixed(2)} ms (ws followers).` : 'They agree within the measurement error: no correction applied.'}`,
  );
  notes.push(
    `Load average (1 min) ${loadAtStart.toFixed(2)} at the start of the scenario and ${loadavg()[0]!.toFixed(2)} at its end, on ${cpus().length} CPUs shared by the two browsers, the gateway, the ws followers and anything else running: a change delayed by a stall is counted as is, and stalls of 100 ms and more show up in p99 and max (and in the echo baseline) when the machine is busy.`,
  );
  if (targetMet !== null) {
    notes.push(
      `The issue's target (p50 under ${TARGET.p50} ms and p99 under ${TARGET.p99} ms with ${TARGET.followers} followers): ${targetMet ? 'met' : 'not met'} in this run.`,
    );
  }
  if (pageErrors.length > 0) notes.push(`Page errors in the browsers: ${[...new Set(pageErrors)].slice(0, 5).join(' | ')}`);

  const latency: ScenarioTable = {
    id: 'sync',
    title: '7. Live sync: DOM change in the host page -> applied in the followers (real Chromium)',
    baseline: 'a plain WebSocket echo round trip (Chromium page <-> bare uWS echo) on the same machine, same run',
    columns: [
      'followers',
      'target',
      'changes',
      'p50 ms',
      'p99 ms',
      'max ms',
      'p50 vs echo',
      'p99 vs echo',
      'browser p50',
      'browser p99',
      'ws p50',
      'ws p99',
      'issue target',
    ],
    rows,
    notes,
    data: { settings: cfg, echo: { p50: echoP50, p99: echoP99, runs: echoRuns }, cases: summaries, offsets, corrections, targetMet },
  };

  const sm = (f: (r: SnapshotRun) => number) => median(snapshotRuns.map(f));
  const htmlBytes = Buffer.byteLength(big);
  const htmlGzip = gzipSync(big).length;
  const snap = {
    hostBytes: sm((r) => r.hostBytes),
    hostGzipBytes: sm((r) => r.hostGzipBytes),
    followerBytes: sm((r) => r.followerBytes),
    serializeMs: sm((r) => r.serializeMs),
    sendCallMs: sm((r) => r.sendCallMs),
    stringifyMs: sm((r) => r.stringifyMs),
    parseMs: sm((r) => r.parseMs),
    navToSendMs: sm((r) => r.navToSendMs),
    navToDclMs: sm((r) => r.navToDclMs),
    relayMs: sm((r) => r.relayMs),
    relayWsMs: sm((r) => r.relayWsMs),
    applyMs: sm((r) => r.applyMs),
    frameMs: sm((r) => r.frameMs),
    hostParseMs: sm((r) => r.hostParseMs),
    followerParseMs: sm((r) => r.followerParseMs),
  };
  const triggers = [...new Set(snapshotRuns.map((r) => r.trigger))].join(' / ');
  const snapshot: ScenarioTable = {
    id: 'sync-snapshot',
    title: `8. Snapshot of a ${(cfg.rows * 5).toLocaleString('en-US')}-element page (real Chromium host and follower)`,
    baseline: 'the page itself in the same run: its HTML bytes, and the same browser parsing that HTML with DOMParser',
    columns: ['measure', 'value', 'baseline', 'baseline value', 'ratio'],
    rows: [
      ['snapshot message, host -> hub', fmtBytes(snap.hostBytes), 'the HTML page', fmtBytes(htmlBytes), fmtRatio(snap.hostBytes / htmlBytes)],
      ['the same, gzip (node:zlib, level 6)', fmtBytes(snap.hostGzipBytes), 'the HTML page, gzip', fmtBytes(htmlGzip), fmtRatio(snap.hostGzipBytes / htmlGzip)],
      ['snapshot message, hub -> follower', fmtBytes(snap.followerBytes), 'the HTML page', fmtBytes(htmlBytes), fmtRatio(snap.followerBytes / htmlBytes)],
      [
        `host: ${triggers} -> snapshot handed to WebSocket.send`,
        `${fmt(snap.serializeMs)} ms`,
        'DOMParser of the HTML, host page',
        `${fmt(snap.hostParseMs)} ms`,
        fmtRatio(snap.serializeMs / snap.hostParseMs),
      ],
      ['  of which JSON.stringify of the message', `${fmt(snap.stringifyMs)} ms`, '', '', ''],
      [
        'host: navigation start -> snapshot sent',
        `${fmt(snap.navToSendMs)} ms`,
        'navigation start -> DOMContentLoaded',
        `${fmt(snap.navToDclMs)} ms`,
        fmtRatio(snap.navToSendMs / snap.navToDclMs),
      ],
      ['relay: host send -> browser follower receives', `${fmt(snap.relayMs)} ms`, '', '', ''],
      ['relay: host send -> a ws follower receives', `${fmt(snap.relayWsMs)} ms`, '', '', ''],
      [
        `follower: received -> mirror holds the ${(cfg.rows * 5).toLocaleString('en-US')} elements`,
        `${fmt(snap.applyMs)} ms`,
        'DOMParser of the HTML, follower page',
        `${fmt(snap.followerParseMs)} ms`,
        fmtRatio(snap.applyMs / snap.followerParseMs),
      ],
      ['  of which JSON.parse of the message', `${fmt(snap.parseMs)} ms`, '', '', ''],
      [
        'follower: received -> next frame',
        `${fmt(snap.frameMs)} ms`,
        'DOMParser of the HTML, follower page',
        `${fmt(snap.followerParseMs)} ms`,
        fmtRatio(snap.frameMs / snap.followerParseMs),
      ],
    ],
    notes: [
      `The page: ${cfg.rows} <li class="row"> each holding span > a, span > b (${cfg.rows * 5} elements and ${cfg.rows * 4} text nodes in the list), ${fmtBytes(htmlBytes)} of HTML, served uncompressed by the harness's origin through the gateway. Host and mirror counts checked after a warm-up load: ${JSON.stringify(counts)}.`,
      `Each run reloads the host page (the hub's request-snapshot cannot be triggered from outside) and the follower (observer) gets the new snapshot through the hub; ${cfg.snapshotRuns} runs after the warm-up, median reported.`,
      "Host: an init script (added only for these runs) notes DOMContentLoaded (its listener runs before the bundle's), the hub socket's open event and WebSocket.send of the snapshot: the recorder serializes at DOMContentLoaded, or at the socket's open when that comes later, so the time from the later of the two to send() is serializeNode(document) + JSON encoding (+ the bundle's form-restore pass). Sizes from Playwright's framesent/framereceived.",
      "Follower: an init script's message listener (before the bundle's) notes the snapshot's arrival; a MutationObserver on the mirror frame's document notes when all rows are in (JSON.parse, protocol validation and building the DOM); \"next frame\" is a requestAnimationFrame then a task after that (style, layout and paint of the mirror). The relay rows cross the pages' and the ws process's clocks (see the clock note of table 7); Playwright's CDP connection gets a copy of every WebSocket frame of both browsers (its Network domain), which the browser-follower relay includes and the ws-follower relay includes on the host's side only.",
      `Baseline times: DOMParser.parseFromString of the same HTML in the same page, right after each run (the browser's own cost of building that DOM from HTML, without rendering it).`,
    ],
    data: { settings: { rows: cfg.rows, runs: cfg.snapshotRuns }, htmlBytes, htmlGzip, counts, medians: snap, runs: snapshotRuns },
  };
  return [latency, snapshot];
}
