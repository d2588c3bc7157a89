// What decoding and compressing a page costs through Node's zlib streams (as the gateway did for
// every compressed HTML, CSS and script body until session 21) against one synchronous call each
// (as it does now for a body that is all here and at most 1 MB: rewritten-body.ts decodedWhole,
// response-encoding.ts BodyEncoder), on the bench origin's 50 KB and 500 KB pages, in the same run.
// CPU is the process's (every thread: the stream work runs on libuv's pool), per operation.
// Run: npm run bench -- --zlib-calls (bundled, in plain Node, as the gateway runs; under vite-node
// the streams come out cheaper, its process keeping libuv's pool awake). A second table gives the
// levels the gateway could compress with, one call each: CPU and size (response-encoding.ts uses
// br quality 0 since session 23).

import { loadavg } from 'node:os';
import { brotliCompressSync, constants, createBrotliCompress, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { htmlPage } from './lib/content.js';

/** What response-encoding.ts compresses with. */
const BROTLI = { [constants.BROTLI_PARAM_QUALITY]: 0 };
const RUNS = 5;
const MIN_RUN_MS = 300;

function streamed(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    stream.on('end', () => resolve(size));
    stream.on('error', reject);
    stream.end(input);
  });
}

/** CPU µs per operation: the median of RUNS runs of at least MIN_RUN_MS each. */
async function cpuPerOp(op: () => Promise<number> | number): Promise<number> {
  for (let i = 0; i < 20; i++) await op();
  const perRun: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    let n = 0;
    while (performance.now() - start < MIN_RUN_MS) {
      await op();
      n++;
    }
    const used = process.cpuUsage(cpu);
    perRun.push((used.user + used.system) / n);
  }
  perRun.sort((a, b) => a - b);
  return perRun[Math.floor(RUNS / 2)]!;
}

console.log(
  `zlib: stream against one call (CPU µs per operation, median of ${RUNS}); load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('page    operation                      stream      call   stream/call');
for (const size of [50 * 1024, 500 * 1024]) {
  const page = htmlPage(size, `Bench page ${size / 1024} KB`);
  const gz = gzipSync(page, { level: 6 });
  const rows: [string, () => Promise<number>, () => number][] = [
    ['gunzip (level 6 page)', () => streamed(createGunzip(), gz), () => gunzipSync(gz).length],
    ['br quality 0', () => streamed(createBrotliCompress({ params: BROTLI }), page), () => brotliCompressSync(page, { params: BROTLI }).length],
  ];
  for (const [name, stream, call] of rows) {
    const s = await cpuPerOp(stream);
    const c = await cpuPerOp(call);
    console.log(
      `${`${size / 1024} KB`.padEnd(8)}${name.padEnd(28)}${s.toFixed(0).padStart(8)}${c.toFixed(0).padStart(10)}${`${(s / c).toFixed(2)}x`.padStart(14)}`,
    );
  }
}

console.log('\nlevels, one call each (CPU µs per operation, median of 5; bytes out)');
console.log('page    coding            call     bytes');
for (const size of [50 * 1024, 500 * 1024]) {
  const page = htmlPage(size, `Bench page ${size / 1024} KB`);
  const levels: [string, () => number][] = [
    ['br quality 0', () => brotliCompressSync(page, { params: { [constants.BROTLI_PARAM_QUALITY]: 0 } }).length],
    ['br quality 1', () => brotliCompressSync(page, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }).length],
    ['gzip level 1', () => gzipSync(page, { level: 1 }).length],
  ];
  for (const [name, call] of levels) {
    const c = await cpuPerOp(call);
    console.log(`${`${size / 1024} KB`.padEnd(8)}${name.padEnd(16)}${c.toFixed(0).padStart(6)}${String(call()).padStart(10)}`);
  }
}
