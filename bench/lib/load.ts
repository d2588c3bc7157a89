// One closed-loop HTTP load run with autocannon, plus the CPU the server side used meanwhile.
// Latencies are recorded from autocannon's per-response event into our own histogram, because
// autocannon's own histogram has a 1 ms resolution and local answers take well under that.

import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { procTreeCpuMs, withTimeout } from './procs.js';
import { Histogram } from './stats.js';

/**
 * autocannon keeps every response body as a string (`req.body += chunk`) for its optional body
 * checks, which we do not use (bodies are checked before the load, byte for byte). On this
 * machine that capped a 100 KB image at ~300 req/s (30 MB/s) whatever the server; without it the
 * same origin serves ~11,000 req/s. So the body accumulation is turned off.
 */
export const autocannonBodyPatched: boolean = (() => {
  try {
    const queue = createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js') as { prototype: { addBody?: unknown } };
    if (typeof queue.prototype.addBody !== 'function') return false;
    queue.prototype.addBody = () => {};
    return true;
  } catch {
    return false;
  }
})();

/** Where one load run goes: 127.0.0.1:port, with the Host header (and cookie) it needs. */
export interface LoadTarget {
  name: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Pids whose CPU counts as "server" (the proxy and, when it is a separate process, nothing else). */
  cpuPids: number[];
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerRequest: number;
  /** Server CPU time per request, µs; null when /proc was not readable. */
  cpuUsPerRequest: number | null;
}

export async function runLoad(target: LoadTarget, durationSec: number, connections: number): Promise<LoadResult> {
  const hist = new Histogram();
  const cpuBefore = target.cpuPids.map(procTreeCpuMs);
  const started = performance.now();
  const result = await withTimeout(
    new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `http://127.0.0.1:${target.port}${target.path}`,
          headers: target.headers,
          connections,
          pipelining: 1,
          duration: durationSec,
          timeout: 10,
          // autocannon stops on a sample tick; the default 1 s tick would round every run up to whole seconds.
          sampleInt: 100,
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        if (statusCode >= 200 && statusCode < 300) hist.record(responseTime);
      });
    }),
    durationSec * 1000 + 20_000,
    `load on ${target.name}`,
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = target.cpuPids.map(procTreeCpuMs);
  let cpuMs: number | null = 0;
  for (let i = 0; i < cpuBefore.length; i++) {
    const b = cpuBefore[i];
    const a = cpuAfter[i];
    if (b === null || a === null || b === undefined || a === undefined || cpuMs === null) cpuMs = null;
    else cpuMs += a - b;
  }
  const requests = result['2xx'] + result.non2xx;
  const seconds = result.duration > 0 ? result.duration : elapsed;
  return {
    rps: result['2xx'] / seconds,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    bytesPerRequest: requests > 0 ? result.throughput.total / requests : 0,
    cpuUsPerRequest: cpuMs === null || result['2xx'] === 0 ? null : (cpuMs * 1000) / result['2xx'],
  };
}
