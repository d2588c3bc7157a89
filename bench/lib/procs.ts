// Child processes of the benchmark: every one is tracked and killed when the run ends, on
// success, failure, Ctrl-C or an uncaught error. Node children talk over IPC with a tiny RPC.

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface Tracked {
  child: ChildProcess;
  name: string;
  /** Spawned in a process group of its own (killed as a group, e.g. nginx master + worker). */
  group: boolean;
}

const tracked = new Set<Tracked>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function hardKill(t: Tracked): void {
  if (!alive(t.child) || t.child.pid === undefined) return;
  try {
    if (t.group) process.kill(-t.child.pid, 'SIGKILL');
    else t.child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every child still running (synchronous: safe in an 'exit' handler). */
export function killAllChildren(): void {
  for (const t of tracked) hardKill(t);
  tracked.clear();
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
      killAllChildren();
      process.exit(130);
    });
  }
}

/** Waits for `promise` at most `ms`; rejects with `what` in the message otherwise. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A Node child process started with `fork`, answering RPC calls (see child-rpc.ts). */
export interface Worker<Ready = Record<string, unknown>> {
  name: string;
  pid: number;
  ready: Ready;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

interface RpcReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Forks `script` (a built .js file) and waits for its `ready` message. */
export async function startWorker<Ready = Record<string, unknown>>(
  name: string,
  script: string,
  options: { args?: unknown; execArgv?: string[]; timeoutMs?: number } = {},
): Promise<Worker<Ready>> {
  installHandlers();
  const child = fork(script, [JSON.stringify(options.args ?? {})], {
    execArgv: ['--enable-source-maps', ...(options.execArgv ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const t: Tracked = { child, name, group: false };
  tracked.add(t);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited: string | null = null;

  const ready = new Promise<Ready>((resolve, reject) => {
    child.on('message', (msg: { type?: string } & Partial<RpcReply>) => {
      if (msg.type === 'ready') {
        resolve(msg as Ready);
        return;
      }
      if (typeof msg.id === 'number') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(`${name}: ${msg.error ?? 'failed'}`));
      }
    });
    child.on('exit', (code, signal) => {
      exited = `${name} exited (code ${code}, signal ${signal})`;
      tracked.delete(t);
      reject(new Error(exited));
      for (const p of pending.values()) p.reject(new Error(exited));
      pending.clear();
    });
    child.on('error', reject);
  });

  let readyMsg: Ready;
  try {
    readyMsg = await withTimeout(ready, options.timeoutMs ?? 20_000, `${name} start`);
  } catch (err) {
    hardKill(t);
    tracked.delete(t);
    throw err;
  }

  return {
    name,
    pid: child.pid ?? -1,
    ready: readyMsg,
    call<T>(cmd: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
      if (exited) return Promise.reject(new Error(exited));
      const id = nextId++;
      const answer = new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      });
      child.send({ id, cmd, args });
      return withTimeout(answer, timeoutMs, `${name}.${cmd}`).finally(() => pending.delete(id));
    },
    async stop(): Promise<void> {
      if (!alive(child)) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(2000)]);
      hardKill(t);
      tracked.delete(t);
    },
  };
}

/** A non-Node child (nginx) in a process group of its own; killed as a group. */
export interface Spawned {
  name: string;
  pid: number;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export function spawnTracked(name: string, command: string, args: string[]): Spawned {
  installHandlers();
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const t: Tracked = { child, name, group: true };
  tracked.add(t);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (err.length < 10_000) err += chunk.toString();
  });
  child.on('exit', () => tracked.delete(t));
  child.on('error', (e) => {
    err += String(e);
  });
  return {
    name,
    pid: child.pid ?? -1,
    child,
    stderr: () => err,
    async stop(): Promise<void> {
      if (!alive(child) || child.pid === undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone
      }
      await Promise.race([gone, sleep(2000)]);
      hardKill(t);
      tracked.delete(t);
    },
  };
}

/** CPU time (user + system, in ms) of a process and its direct children, from /proc; null when unreadable. */
export function procTreeCpuMs(pid: number): number | null {
  const ticks = (p: number): number => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return Number(fields[11]) + Number(fields[12]);
  };
  try {
    let total = ticks(pid);
    let kids: string[] = [];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      kids = [];
    }
    for (const k of kids) {
      try {
        total += ticks(Number(k));
      } catch {
        // exited meanwhile
      }
    }
    return total * 10; // CLK_TCK is 100 on Linux
  } catch {
    return null;
  }
}

/**
 * CPU time (ms, ns resolution) of one process, all its threads, from /proc/<pid>/task/<tid>/schedstat
 * (time on CPU); falls back to the 10 ms ticks of /proc/<pid>/stat. Null when the process is gone.
 */
export function procCpuMs(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread exited meanwhile
      }
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1e6;
  } catch {
    // no schedstat (kernel without CONFIG_SCHED_INFO) or the process is gone
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
