// Throughput of HtmlRewriteStream against a plain PassThrough on realistic pages pushed in 16 KB
// chunks, all measured in the same run: a URL-heavy page (every fifth link, every image and the
// CSS point to other origins) and the bench origin's page (relative URLs only), each with every
// URL handed to mapUrl and with relativeUrlsStay (as proxy.ts runs it).
// Run: npx vite-node bench/rewriter-throughput.ts, or bundled as the gateway runs:
// node bench/run.mjs --rewriter-throughput

import { loadavg } from 'node:os';
import { PassThrough, type Transform } from 'node:stream';
import { HtmlRewriteStream } from '../gateway/rewrite/html-rewriter.js';
import { htmlPage } from './lib/content.js';

const CHUNK = 16 * 1024;
const RUNS = 5;
const MIN_RUN_MS = 250;

function mapUrl(url: string): string | null {
  if (url.startsWith('https://cdn.other.test/')) return `http://o2--sess.localhost:8080/${url.slice(23)}`;
  if (url.startsWith('https://ads.blocked.test/')) return `http://localhost:8080/blocked?url=${encodeURIComponent(url)}`;
  return null;
}

function page(targetBytes: number): Buffer {
  const parts: string[] = [
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Shop — products</title>\n',
    '<link rel="stylesheet" href="https://cdn.other.test/css/main.css" integrity="sha384-abc" crossorigin="anonymous">\n',
    '<link rel="preload" as="font" href="/fonts/inter.woff2" crossorigin>\n<link rel="icon" href="/favicon.ico">\n',
    '<style>\n',
  ];
  for (let i = 0; i < 40; i++) {
    parts.push(`.card-${i} { background: #fff url(https://cdn.other.test/img/bg-${i}.png) no-repeat; padding: ${i}px; } /* card ${i} */\n`);
  }
  parts.push('.hero { background-image: image-set("https://cdn.other.test/hero.avif" 1x, "https://cdn.other.test/hero@2x.avif" 2x); }\n</style>\n');
  parts.push(
    '<script>window.dataLayer = window.dataLayer || []; function tpl(x) { return "<div class=\\"t\\"><a href=\\"https://cdn.other.test/x\\">" + x + "</a></div>"; }</script>\n',
  );
  parts.push('</head>\n<body class="page">\n<header><nav><ul>');
  for (let i = 0; i < 12; i++) parts.push(`<li><a href="/category/${i}" class="nav-link">Category ${i}</a></li>`);
  parts.push('</ul></nav></header>\n<main>\n');
  let i = 0;
  while (parts.reduce((n, p) => n + p.length, 0) < targetBytes - 2000) {
    const external = i % 5 === 0 ? `https://cdn.other.test/p/${i}` : `/product/${i}?ref=list&amp;pos=${i}`;
    parts.push(
      `<article class="card card-${i % 40}" data-id="${i}" style="border-color: #${(i * 2654435761).toString(16).slice(-6).padStart(6, '0')}">\n`,
      `  <a href="${external}" class="card-link" title="Product ${i} &amp; more">\n`,
      `    <img src="https://cdn.other.test/img/p${i}.jpg" srcset="https://cdn.other.test/img/p${i}-320.jpg 320w, https://cdn.other.test/img/p${i}-640.jpg 640w, /img/p${i}-1280.jpg 1280w" sizes="(max-width: 600px) 100vw, 33vw" alt="Product ${i}" loading="lazy" width="320" height="240">\n`,
      `  </a>\n  <h2 class="card-title">Product ${i} — Fancy item</h2>\n  <p class="card-text">Lorem ipsum dolor sit amet, consectetur adipiscing elit. Price: <b>${(i * 3.7).toFixed(2)} €</b> <span class="badge">new</span></p>\n`,
      `  <div class="card-actions"><button type="button" class="btn" data-action="add" data-sku="SKU-${i}">Add to cart</button> <a href="/product/${i}#reviews">Reviews</a></div>\n`,
    );
    if (i % 7 === 0)
      parts.push(
        `  <div class="ad" style="background: url('https://ads.blocked.test/banner-${i}.gif')"><a href="https://ads.blocked.test/click?id=${i}" ping="https://ads.blocked.test/ping">Ad</a></div>\n`,
      );
    if (i % 11 === 0) parts.push(`  <script>if (a < b && b > c) { render("<a href='https://cdn.other.test/s/${i}'>x</a>"); } // </div></script>\n`);
    parts.push('</article>\n');
    i++;
  }
  parts.push(
    '</main>\n<footer><p>&copy; Shop</p><script src="https://cdn.other.test/js/app.js" integrity="sha384-keep" defer></script></footer>\n</body>\n</html>\n',
  );
  return Buffer.from(parts.join(''), 'utf8');
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

function pushThrough(stream: Transform, pieces: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
    for (const piece of pieces) stream.write(piece);
    stream.end();
  });
}

/** One run: repeats the page until MIN_RUN_MS of CPU time have passed; MB/s by wall clock and by CPU time. */
async function measure(make: () => Transform, pieces: Buffer[], bytes: number): Promise<{ wall: number; cpu: number }> {
  let iterations = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let cpuMs = 0;
  while (cpuMs < MIN_RUN_MS) {
    await pushThrough(make(), pieces);
    iterations++;
    const used = process.cpuUsage(cpuStart);
    cpuMs = (used.user + used.system) / 1000;
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const mb = (bytes * iterations) / 1e6;
  return { wall: mb / (wallMs / 1000), cpu: mb / (cpuMs / 1000) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const snippet = Buffer.from('<script src="/__cobrowse/inject.js" data-cobrowse></script>');
const rows: string[][] = [];
for (const [label, doc] of [
  ['URL-heavy 50 KB', page(50 * 1024)],
  ['URL-heavy 500 KB', page(500 * 1024)],
  ['bench origin 50 KB', htmlPage(50 * 1024, 'Bench page 50 KB')],
  ['bench origin 500 KB', htmlPage(500 * 1024, 'Bench page 500 KB')],
] as const) {
  const pieces = chunks(doc);
  const makeRewriter = (): Transform => new HtmlRewriteStream({ mapUrl, snippet });
  const makeRelativeStay = (): Transform => new HtmlRewriteStream({ mapUrl, snippet, relativeUrlsStay: true });
  const makePassThrough = (): Transform => new PassThrough();
  for (const make of [makeRewriter, makeRelativeStay, makePassThrough]) await measure(make, pieces, doc.length);
  const pass: { wall: number; cpu: number }[] = [];
  const rewrite: { wall: number; cpu: number }[] = [];
  const relative: { wall: number; cpu: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    pass.push(await measure(makePassThrough, pieces, doc.length));
    rewrite.push(await measure(makeRewriter, pieces, doc.length));
    relative.push(await measure(makeRelativeStay, pieces, doc.length));
  }
  const p = median(pass.map((m) => m.cpu));
  const r = median(rewrite.map((m) => m.cpu));
  const rs = median(relative.map((m) => m.cpu));
  const rw = median(rewrite.map((m) => m.wall));
  rows.push([`${label} (${doc.length} B)`, p.toFixed(0), r.toFixed(0), (r / p).toFixed(4), rw.toFixed(0), rs.toFixed(0)]);
}

const header = [
  'page',
  'PassThrough MB/cpu-s',
  'HtmlRewriteStream MB/cpu-s',
  'ratio',
  'HtmlRewriteStream MB/s wall',
  'with relativeUrlsStay (as proxy.ts) MB/cpu-s',
];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
const line = (cells: string[]): string => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
console.log(
  `Node ${process.version}, ${CHUNK / 1024} KB chunks, median of ${RUNS} runs of >= ${MIN_RUN_MS} ms of CPU, load average ${loadavg()[0]!.toFixed(2)}`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
