// The child side of procs.ts: answers RPC calls from the harness and exits when the harness goes.

export type Handler = (args: unknown) => unknown;

/** Arguments the harness passed as JSON in argv[2]. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** Serves `handlers` over IPC and announces `ready`; exits when the parent disconnects. */
export function serveRpc(ready: Record<string, unknown>, handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('this file runs as a child of bench/main.ts (it needs an IPC channel)');
  const send = process.send.bind(process);
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: string; args: unknown }) => {
    const handler = handlers[msg.cmd];
    if (!handler) {
      send({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.args))
      .then(
        (result) => send({ id: msg.id, ok: true, result }),
        (err: unknown) => send({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  send({ type: 'ready', ...ready });
}

/** Process CPU and memory, for the harness's usage calls. */
export function usage(): { cpuMs: number; wallMs: number; rss: number; heapUsed: number; external: number; arrayBuffers: number } {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.timeOrigin + performance.now(),
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
  };
}

/** Runs the GC a few times (needs --expose-gc) and returns memory usage afterwards. */
export async function settledUsage(): Promise<ReturnType<typeof usage>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Let closes and timers that free memory run first, then collect until the heap stops shrinking.
  await new Promise((resolve) => setTimeout(resolve, 100));
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const heap = process.memoryUsage().heapUsed;
    if (i >= 3 && heap >= last - 1024) break;
    last = heap;
  }
  return usage();
}
