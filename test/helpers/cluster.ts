// Several real gateway processes (dist/gateway.js) sharing one Redis, behind a TCP load balancer
// that knows nothing about sessions: each new connection goes to the next node that accepts it
// (round robin), or to a pinned node while a test pins one. A node that is down is skipped.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP balancer on 127.0.0.1. */
export interface Balancer {
  port: number;
  /** The node ports new connections go to, in turn. */
  backends: number[];
  /** New connections go only to this node (by index) until `pin(null)`. */
  pin(index: number | null): void;
  /** How many connections each backend got, by port. */
  connections: Map<number, number>;
  close(): Promise<void>;
}

/** Starts a balancer in front of `backends` (ports may be added later). */
export function startBalancer(backends: number[] = []): Promise<Balancer> {
  let next = 0;
  let pinned: number | null = null;
  const open = new Set<Socket>();
  const connections = new Map<number, number>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const order = pinned !== null ? [pinned] : backends.map((_, i) => (next + i) % backends.length);
    if (pinned === null) next = (next + 1) % Math.max(1, backends.length);
    const attempt = (k: number) => {
      const index = order[k];
      const port = index === undefined ? undefined : backends[index];
      if (port === undefined) {
        client.destroy();
        return;
      }
      const upstream = tcpConnect(port, '127.0.0.1');
      open.add(upstream);
      upstream.on('close', () => open.delete(upstream));
      upstream.once('error', () => {
        if (!upstream.readableEnded && upstream.bytesRead === 0 && upstream.bytesWritten === 0) attempt(k + 1);
        else client.destroy();
      });
      upstream.once('connect', () => {
        connections.set(port, (connections.get(port) ?? 0) + 1);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        port,
        backends,
        connections,
        pin: (index) => {
          pinned = index;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** One gateway process of the cluster. */
export interface GatewayNode {
  port: number;
  child: ChildProcess;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A folder for config files, removed by `remove`. */
export function configDir(): { write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-cluster-'));
  return {
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts `node dist/gateway.js --config <file> --port 0` and waits until it listens. */
export async function startNode(configPath: string, env: Record<string, string> = {}): Promise<GatewayNode> {
  const child = spawn(process.execPath, ['dist/gateway.js', '--config', configPath, '--port', '0'], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 15 s: ${err}`)), 15_000);
    child.stderr?.on('data', (d) => {
      err += String(d);
      const started = logs().find((l) => l.msg === 'gateway listening');
      if (started) {
        clearTimeout(timer);
        resolve(Number(started.port));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}: ${err}`));
    });
  });
  return {
    port,
    child,
    logs,
    exited,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
