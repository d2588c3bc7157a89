// Time to first byte and total time of large scripts through a real gateway (gateway/script-body.ts):
// a classic script without the word `import`, a classic script whose only import() is near its
// end, and an ES module that starts with its imports; each 4 MiB, sent by the origin in 64 KiB
// chunks, as fast as it can and at ~32 MB/s (a chunk every 2 ms), plain and gzip. The answer is
// checked (length, what was mapped) before it counts. Run: npx vite-node bench/script-streaming.ts

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { createSession, startTestGateway } from '../test/helpers/gateway.js';

const SIZE = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;
const LINE = 'function f(a, b) { return a + b * 2; } var x = [1, 2, 3].map(f);\n';
/** n bytes of script that gzip shrinks ~3x, as it does real bundles (a repeated line would shrink 300x). */
function filler(n: number): string {
  const lines: string[] = [LINE, LINE, LINE];
  let size = 3 * LINE.length;
  let seed = 1;
  while (size < n) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const line = `var v${seed.toString(36)} = f(${seed % 9973}, ${(seed >> 8) % 7919}) || "${seed.toString(16)}";\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('').slice(0, n);
}

const scripts: Record<string, (origin: string) => string> = {
  classic: () => filler(SIZE),
  'classic-late-import': (o) => `${filler(SIZE - 200)}\nwindow.go = () => import("${o}/late.js");\n`,
  module: (o) => `import { a } from "${o}/a.js";\nexport * from "${o}/b.js";\n${filler(SIZE)}`,
};

const LOADS = {
  classic: { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'same-origin' },
  module: { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' },
};

let originUrl = '';
const bodies = new Map<string, Buffer>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const name = url.pathname.slice(1).replace(/\.js$/, '');
  const make = scripts[name];
  if (!make) {
    res.writeHead(404).end();
    return;
  }
  const gzip = url.searchParams.has('gzip');
  const key = `${name}${gzip ? '.gz' : ''}`;
  let body = bodies.get(key);
  if (!body) {
    body = gzip ? gzipSync(make(originUrl)) : Buffer.from(make(originUrl));
    bodies.set(key, body);
  }
  const delay = Number(url.searchParams.get('delay') ?? 0);
  res.writeHead(200, { 'content-type': 'text/javascript', etag: '"v1"', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  let at = 0;
  const next = () => {
    if (at >= body.length) {
      res.end();
      return;
    }
    const chunk = body.subarray(at, at + CHUNK);
    at += CHUNK;
    const ok = res.write(chunk);
    const go = () => (delay > 0 ? setTimeout(next, delay) : setImmediate(next));
    if (ok) go();
    else res.once('drain', go);
  };
  next();
}

const origin = createServer(serve);
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: originUrl }], log: { level: 'warn' } });
const session = await createSession(t, `${originUrl}/`);
const host = await t.join(session.hostUrl);

/** Time to the first body byte and to the end, in ms, and the body. */
async function fetchTimed(
  url: string,
  headers: Record<string, string>,
): Promise<{ ttfb: number; total: number; body: Buffer; headers: Record<string, unknown> }> {
  const started = performance.now();
  const res = await request(url, { headers });
  let ttfb = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) {
    if (chunks.length === 0) ttfb = performance.now() - started;
    chunks.push(chunk as Buffer);
  }
  return { ttfb, total: performance.now() - started, body: Buffer.concat(chunks), headers: res.headers };
}

function check(name: string, body: Buffer): void {
  const text = body.toString();
  const expected = name === 'classic' ? SIZE : undefined;
  if (expected !== undefined && body.length !== expected) throw new Error(`${name}: ${body.length} bytes, expected ${expected}`);
  if (name !== 'classic' && (text.includes(`"${originUrl}/`) || !text.includes(`"${host.proxiedOrigin}/`)))
    throw new Error(`${name}: imports not mapped: ${text.slice(0, 120)} ... ${text.slice(-120)}`);
  if (!text.includes(LINE.repeat(3))) throw new Error(`${name}: body garbled`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = Number(process.env.RUNS ?? 7);
console.log(`load ${loadavg()[0]!.toFixed(2)}; ${SIZE / 1024 / 1024} MiB scripts in ${CHUNK / 1024} KiB chunks; median of ${RUNS} runs (ms)`);
console.log('script                 pacing    encoding   direct ttfb/total   gateway ttfb/total');
for (const name of Object.keys(scripts)) {
  for (const delay of [0, 2]) {
    for (const gzip of [false, true]) {
      const query = `?${delay ? `delay=${delay}` : ''}${gzip ? '&gzip' : ''}`;
      const load = name.startsWith('classic') ? LOADS.classic : LOADS.module;
      const direct = { ttfb: [] as number[], total: [] as number[] };
      const through = { ttfb: [] as number[], total: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        const d = await fetchTimed(`${originUrl}/${name}.js${query}`, load);
        direct.ttfb.push(d.ttfb);
        direct.total.push(d.total);
        const g = await fetchTimed(`http://127.0.0.1:${t.gateway.port}/${name}.js${query}`, {
          ...load,
          host: new URL(host.proxiedOrigin).host,
          cookie: host.cookie,
          'accept-encoding': 'gzip',
        });
        const decoded = g.headers['content-encoding'] === 'gzip' ? (await import('node:zlib')).gunzipSync(g.body) : g.body;
        check(name, decoded);
        through.ttfb.push(g.ttfb);
        through.total.push(g.total);
      }
      const cell = (x: { ttfb: number[]; total: number[] }) => `${median(x.ttfb).toFixed(1).padStart(7)} / ${median(x.total).toFixed(1).padEnd(7)}`;
      console.log(
        `${name.padEnd(22)} ${(delay ? `${delay} ms` : 'fast').padEnd(9)} ${(gzip ? 'gzip' : 'identity').padEnd(10)} ${cell(direct)}   ${cell(through)}`,
      );
    }
  }
}
await t.close();
origin.close();
