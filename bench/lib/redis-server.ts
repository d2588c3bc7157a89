// redis-server for the scale scenario: a child of the harness on a free loopback port, tracked by
// procs.ts like every other child, with persistence off (the bench measures the fan-out path,
// not the disk), its working directory under bench/tmp/.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from './nginx.js';
import { sleep, spawnTracked } from './procs.js';

/** Where the bench looks for redis-server (`REDIS_SERVER_PATH` overrides it, as in the tests). */
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

/** One running redis-server. */
export interface BenchRedis {
  name: string;
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `redis-server --version`'s version, or null when there is no redis-server. */
export function redisVersion(): string | null {
  if (!existsSync(REDIS_SERVER_BIN)) return null;
  try {
    const out = execFileSync(REDIS_SERVER_BIN, ['--version'], { encoding: 'utf8', timeout: 5000 });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return null;
  }
}

/** Sends PING over a raw socket; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect(port, '127.0.0.1');
    let answer = '';
    const finish = (ok: boolean) => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(500, () => finish(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'));
    });
    sock.once('error', () => finish(false));
  });
}

/** Starts redis-server `name` and waits until it answers PING. */
export async function startRedisServer(name: string, tmpDir: string): Promise<BenchRedis> {
  if (!existsSync(REDIS_SERVER_BIN)) throw new Error(`${REDIS_SERVER_BIN} not found (apt-get install -y redis-server, or set REDIS_SERVER_PATH)`);
  const dir = resolve(tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawnTracked(name, REDIS_SERVER_BIN, args);
  const until = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.child.exitCode !== null) throw new Error(`${name} exited at start: ${child.stderr().slice(0, 300)}`);
    if (Date.now() > until) {
      await child.stop();
      throw new Error(`${name} did not answer PING within 10 s`);
    }
    await sleep(30);
  }
  return { name, port, url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => child.stop() };
}
