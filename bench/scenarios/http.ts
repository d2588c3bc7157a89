// HTTP scenarios: (1) static assets, (2) HTML pages, (3) cookie-jar overhead. Each checks every
// target's answer (status, length, hash, injected script) before it measures, then measures the
// targets interleaved (run 1 of every target, then run 2, ...) so drift hits all of them alike.

import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Asset } from '../children/origin.js';
import { INJECT_MARKER, sha256, withoutInjection } from '../lib/content.js';
import type { Bench } from '../lib/context.js';
import { redeemLink, sessionWithHost } from '../lib/gateway-session.js';
import { httpRequest } from '../lib/http.js';
import { autocannonBodyPatched, type LoadResult, type LoadTarget, runLoad } from '../lib/load.js';
import type { ScenarioTable } from '../lib/report.js';
import { fmt, fmtRatio, median } from '../lib/stats.js';

interface Case {
  label: string;
  path: string;
  /** HTML through the gateway gets the script; compare the rest with the origin's bytes. */
  html: boolean;
  /** The origin sends it gzipped: clients accept gzip and br, and every target must answer compressed. */
  compressed?: boolean;
}

interface Target extends LoadTarget {
  /** The gateway injects its script into HTML. */
  injects: boolean;
}

const NAV_HEADERS = { accept: 'text/html,application/xhtml+xml,application/xhtml+xml;q=0.9,*/*;q=0.8', 'sec-fetch-dest': 'document' };
const ASSET_HEADERS = { accept: '*/*' };
/** What a browser sends (Chromium adds zstd, which the gateway does not offer upstream). */
const ACCEPT_COMPRESSED = { 'accept-encoding': 'gzip, deflate, br' };

function assetFor(bench: Bench, path: string): Asset {
  const asset = bench.origin.ready.manifest.find((a) => a.path === path);
  if (!asset) throw new Error(`the origin serves no ${path}`);
  return asset;
}

function withCaseHeaders(target: Target, c: Case): Target {
  return { ...target, path: c.path, headers: { ...target.headers, ...(c.html ? NAV_HEADERS : ASSET_HEADERS), ...(c.compressed ? ACCEPT_COMPRESSED : {}) } };
}

/** A body decoded as its Content-Encoding says. */
function decodedBody(body: Buffer, coding: string, where: string): Buffer {
  switch (coding) {
    case '':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'deflate':
      return inflateSync(body);
    default:
      throw new Error(`${where}: unexpected content-encoding ${coding}`);
  }
}

/** Fetches `c` through `target` once and checks it is exactly what the origin serves. */
async function verify(bench: Bench, target: Target, c: Case): Promise<void> {
  const asset = assetFor(bench, c.path);
  const t = withCaseHeaders(target, c);
  const res = await httpRequest(t.port, 'GET', c.path, t.headers);
  const where = `${c.path} through ${target.name}`;
  if (res.status !== 200) throw new Error(`${where}: status ${res.status}, expected 200 (${res.body.toString().slice(0, 200)})`);
  const coding = String(res.headers['content-encoding'] ?? '');
  if (c.compressed && coding === '') throw new Error(`${where}: the answer is not compressed (the origin gzipped it)`);
  let body = decodedBody(res.body, coding, where);
  if (target.injects && c.html) {
    const text = body.toString('latin1');
    const at = text.indexOf(INJECT_MARKER);
    const head = text.indexOf('<head>');
    if (at < 0) throw new Error(`${where}: the injected <script src="/__cobrowse/inject.js"> is missing`);
    if (head < 0 || at !== head + '<head>'.length) throw new Error(`${where}: the injected script is not the first element of <head>`);
    body = withoutInjection(body);
  }
  if (body.length !== asset.length) throw new Error(`${where}: body is ${body.length} bytes, expected ${asset.length}`);
  if (sha256(body) !== asset.sha256) throw new Error(`${where}: body differs from the origin's (sha256)`);
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith(asset.type.split(';')[0]!)) throw new Error(`${where}: content-type ${type}, expected ${asset.type}`);
}

interface Cell {
  caseLabel: string;
  target: string;
  runs: LoadResult[];
  /** Set when the check after the load failed. */
  afterLoad?: string;
}

/** Verifies, warms up, then measures every (case, target) `runs` times, interleaved. */
async function measureMatrix(bench: Bench, cases: Case[], targets: Target[]): Promise<Cell[]> {
  const { settings } = bench;
  for (const c of cases) for (const t of targets) await verify(bench, t, c);
  for (const c of cases) for (const t of targets) await runLoad(withCaseHeaders(t, c), settings.warmupSeconds, settings.connections);
  const cells: Cell[] = [];
  for (const c of cases) for (const t of targets) cells.push({ caseLabel: c.label, target: t.name, runs: [] });
  for (let run = 0; run < settings.runs; run++) {
    for (const [ci, c] of cases.entries()) {
      // Rotate the order each run so no target always runs first (or right after a heavy one).
      for (let k = 0; k < targets.length; k++) {
        const ti = (k + run) % targets.length;
        const t = targets[ti]!;
        const result = await runLoad(withCaseHeaders(t, c), settings.httpSeconds, settings.connections);
        cells[ci * targets.length + ti]!.runs.push(result);
      }
      bench.log(
        `  run ${run + 1}/${settings.runs} ${c.label}: ${targets.map((t, ti) => `${t.name} ${fmt(cells[ci * targets.length + ti]!.runs[run]!.rps)}/s`).join(', ')}`,
      );
    }
  }
  // The same checks after the load: a proxy that hangs or corrupts answers after aborted
  // connections (every run ends with requests in flight) shows up here, not as a slow figure.
  for (const c of cases) {
    for (const t of targets) {
      try {
        await verify(bench, t, c);
      } catch (err) {
        cells.find((cell) => cell.caseLabel === c.label && cell.target === t.name)!.afterLoad = (err as Error).message;
      }
    }
  }
  return cells;
}

interface Summary {
  caseLabel: string;
  target: string;
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
  rpsRatio: number;
  p99Ratio: number;
  cpuRatio: number;
  perRun: LoadResult[];
}

function summarize(cells: Cell[], baseline: string): { summaries: Summary[]; notes: string[] } {
  const notes: string[] = [];
  const med = (cell: Cell, pick: (r: LoadResult) => number | null) => median(cell.runs.map((r) => pick(r) ?? Number.NaN));
  const summaries: Summary[] = [];
  for (const cell of cells) {
    const base = cells.find((c) => c.caseLabel === cell.caseLabel && c.target === baseline);
    const rps = med(cell, (r) => r.rps);
    const p99 = med(cell, (r) => r.p99);
    const cpu = med(cell, (r) => r.cpuUsPerRequest);
    if (cell.afterLoad) notes.push(`AFTER THE LOAD ${cell.target} failed its check: ${cell.afterLoad}`);
    const bad = cell.runs.filter((r) => r.non2xx > 0 || r.errors > 0);
    if (bad.length > 0) {
      notes.push(
        `${cell.caseLabel} via ${cell.target}: ${bad.length} run(s) had non-2xx answers or errors (${bad.map((r) => `${r.non2xx} non-2xx, ${r.errors} errors`).join('; ')})`,
      );
    }
    summaries.push({
      caseLabel: cell.caseLabel,
      target: cell.target,
      rps,
      p50: med(cell, (r) => r.p50),
      p99,
      cpuUsPerRequest: cpu,
      rpsRatio: base ? rps / med(base, (r) => r.rps) : Number.NaN,
      p99Ratio: base ? p99 / med(base, (r) => r.p99) : Number.NaN,
      cpuRatio: base ? cpu / med(base, (r) => r.cpuUsPerRequest) : Number.NaN,
      perRun: cell.runs,
    });
  }
  return { summaries, notes };
}

const COLUMNS = (base: string) => ['case', 'target', 'req/s', `req/s vs ${base}`, 'p50 ms', 'p99 ms', `p99 vs ${base}`, 'proxy CPU µs/req', `CPU vs ${base}`];

function rowsOf(summaries: Summary[]): string[][] {
  return summaries.map((s) => [
    s.caseLabel,
    s.target,
    fmt(s.rps),
    fmtRatio(s.rpsRatio),
    fmt(s.p50),
    fmt(s.p99),
    fmtRatio(s.p99Ratio),
    fmt(s.cpuUsPerRequest),
    fmtRatio(s.cpuRatio),
  ]);
}

/** A target that passes the page through unchanged, on 127.0.0.1:`port`. */
function plainTarget(name: string, port: number, pid: number): Target {
  return { name, port, path: '/', headers: { host: `127.0.0.1:${port}` }, cpuPids: [pid], injects: false };
}

/** Origin direct, the gateway, http-proxy, the uWS+undici floor and nginx (when available), as load targets; `extra` after the gateway. */
function proxyTargets(bench: Bench, extra: Target[] = []): { targets: Target[]; baseline: string } {
  const targets: Target[] = [
    plainTarget('origin direct', bench.origin.ready.port, bench.origin.pid),
    {
      name: 'gateway',
      port: bench.gateway.ready.port,
      path: '/',
      headers: { host: bench.gatewayHost.host, cookie: bench.gatewayHost.cookie },
      cpuPids: [bench.gateway.pid],
      injects: true,
    },
    ...extra,
    plainTarget('http-proxy', bench.httpProxy.ready.port, bench.httpProxy.pid),
    plainTarget('uWS+undici floor', bench.floor.ready.port, bench.floor.pid),
  ];
  if (bench.nginx) targets.push(plainTarget('nginx', bench.nginx.port, bench.nginx.pid));
  return { targets, baseline: bench.nginx ? 'nginx' : 'http-proxy' };
}

async function proxyScenario(bench: Bench, id: string, title: string, cases: Case[], extraNotes: string[], extra: Target[] = []): Promise<ScenarioTable> {
  const { targets, baseline } = proxyTargets(bench, extra);
  const cells = await measureMatrix(bench, cases, targets);
  const { summaries, notes } = summarize(cells, baseline);
  if (bench.nginxNote) notes.push(bench.nginxNote);
  return {
    id,
    title,
    baseline: `${baseline} (${baseline === 'nginx' ? '1 worker, keep-alive upstream, default buffering' : 'node:http + http-proxy, keep-alive agent'}) in the same run`,
    columns: COLUMNS(baseline),
    rows: rowsOf(summaries),
    notes: [...extraNotes, ...notes],
    data: summaries,
  };
}

/** (1) A 100 KB image and a 1 KB JSON answer: passthrough cost. */
export function staticAssets(bench: Bench): Promise<ScenarioTable> {
  return proxyScenario(
    bench,
    'static',
    '1. Static assets through each proxy',
    [
      { label: 'image 100 KB', path: '/img/100k.png', html: false },
      { label: 'JSON 1 KB', path: '/api/1k.json', html: false },
    ],
    [
      "Every target was checked first: status 200, content-type, body length and sha256 equal to the origin's.",
      'proxy CPU: CPU time of the proxy process (nginx: master + worker) per request, from /proc; for "origin direct" it is the origin\'s own CPU.',
      autocannonBodyPatched
        ? 'autocannon runs with its response-body accumulation turned off (bench/lib/load.ts): with it, autocannon itself capped the 100 KB image at ~300 req/s.'
        : "WARNING: autocannon's response-body accumulation could not be turned off; large responses are limited by the load generator.",
    ],
  );
}

/** (2) 50 KB and 500 KB HTML pages: the gateway decodes and injects its script, the others pass them through. */
export function htmlPages(bench: Bench): Promise<ScenarioTable> {
  const off = bench.rewriterOff;
  const rewriterOff: Target[] = off
    ? [
        {
          name: 'gateway, rewriter off',
          port: off.gateway.ready.port,
          path: '/',
          headers: { host: off.host.host, cookie: off.host.cookie },
          cpuPids: [off.gateway.pid],
          injects: false,
        },
      ]
    : [];
  return proxyScenario(
    bench,
    'html',
    '2. HTML pages (the gateway decodes, rewrites and injects its script; the baselines pass the page through)',
    [
      { label: 'HTML 50 KB', path: '/page/50k.html', html: true },
      { label: 'HTML 50 KB gzip', path: '/page/50k-gzip.html', html: true, compressed: true },
      { label: 'HTML 500 KB', path: '/page/500k.html', html: true },
    ],
    [
      'Checked first: through the gateway the page holds <script src="/__cobrowse/inject.js"> as the first element of <head> and, with that tag taken out, is byte-identical to the origin\'s page; the baselines pass it unchanged.',
      'The origin sends the pages uncompressed, except "HTML 50 KB gzip": the same 50 KB page gzipped (level 6, 7 KB, as a site with static compression sends it) to clients that accept gzip, deflate and br; the baselines pass the gzip bytes on, the gateway decodes, rewrites and compresses again (br quality 0, response-encoding.ts), and every answer is checked to be compressed and to decode to the page. Whatever the gateway does to HTML in the working tree at the time of the run (script injection, and URL rewriting when gateway/rewrite is in the pipeline) is what is measured; the pages hold only relative URLs, so the rewriter has nothing to change but must scan every byte.',
      '"gateway, rewriter off": a second gateway process whose HTML rewriter hands every chunk on as it came (no scan, no script tag; children/gateway.ts, rewriterOff), a measuring instrument: the ceiling of the gateway\'s HTML path with a rewriter that costs nothing. Its page is checked to be the origin\'s, byte for byte.',
    ],
    rewriterOff,
  );
}

/** (3) Cookie-jar overhead: the same 1 KB answer for a session with 30 cookies in its jar and one with none. */
export async function cookieJar(bench: Bench): Promise<ScenarioTable> {
  const port = bench.gateway.ready.port;
  const count = bench.origin.ready.cookieCount;
  const empty = await sessionWithHost(bench.gateway.ready, `${bench.originUrl}/`);
  const full = await sessionWithHost(bench.gateway.ready, `${bench.originUrl}/`);
  const setRes = await httpRequest(port, 'GET', '/cookies/set', { host: full.host.host, cookie: full.host.cookie });
  if (setRes.status !== 204) throw new Error(`/cookies/set through the gateway answered ${setRes.status}`);
  if (setRes.headers['set-cookie']) throw new Error('the gateway forwarded Set-Cookie to the browser');
  const countThrough = async (p: { host: string; cookie: string }) => {
    const res = await httpRequest(port, 'GET', '/cookies/count', { host: p.host, cookie: p.cookie });
    return JSON.parse(res.body.toString()) as { count: number; bytes: number };
  };
  const withNone = await countThrough(empty.host);
  const withJar = await countThrough(full.host);
  if (withNone.count !== 0) throw new Error(`the session without cookies sent ${withNone.count} cookies upstream`);
  if (withJar.count !== count) throw new Error(`the session with the jar sent ${withJar.count} cookies upstream, expected ${count}`);
  // A second participant of the same session sees the same jar: a follower, whose view loads only
  // what a page renders (images, styles, fonts, media), so it asks through an image.
  const other = await redeemLink(bench.gateway.ready, full.session.joinUrl);
  const otherRes = await httpRequest(port, 'GET', '/cookies/count.png', { host: other.host, cookie: other.cookie });
  const otherCount = Number(otherRes.headers['x-cookie-count']);
  if (otherRes.status !== 200 || otherCount !== count) {
    throw new Error(`a second participant sent ${otherCount} cookies (status ${otherRes.status}), expected the shared jar's ${count}`);
  }

  const targets: Target[] = [
    { name: 'gateway, empty jar', port, path: '/', headers: { host: empty.host.host, cookie: empty.host.cookie }, cpuPids: [bench.gateway.pid], injects: true },
    {
      name: `gateway, ${count} cookies`,
      port,
      path: '/',
      headers: { host: full.host.host, cookie: full.host.cookie },
      cpuPids: [bench.gateway.pid],
      injects: true,
    },
  ];
  const cells = await measureMatrix(bench, [{ label: 'JSON 1 KB', path: '/api/1k.json', html: false }], targets);
  const { summaries, notes } = summarize(cells, 'gateway, empty jar');
  return {
    id: 'cookies',
    title: `3. Cookie-jar overhead (${count} cookies in the session's jar vs none)`,
    baseline: 'the same gateway and request, for a session whose jar is empty',
    columns: COLUMNS('empty jar'),
    rows: rowsOf(summaries),
    notes: [
      `Checked first: the origin set ${count} cookies through the gateway (no Set-Cookie reached the client); the jar session sends all ${count} upstream (${withJar.bytes} bytes of Cookie header), the empty one none, and a second participant of the jar session sends the same ${count}.`,
      ...notes,
    ],
    data: { summaries, cookieHeaderBytes: withJar.bytes },
  };
}
