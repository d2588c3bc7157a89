// nginx as the reverse proxy users would deploy: one worker, keep-alive upstream, default
// buffering, config written under bench/tmp/nginx/, run in the foreground as a child.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { type Spawned, sleep, spawnTracked } from './procs.js';

export interface NginxProxy {
  port: number;
  pid: number;
  confPath: string;
  stop(): Promise<void>;
}

/** The nginx binary; installs nginx-light with apt-get when missing and running as root. */
export function findNginx(log: (msg: string) => void): { bin: string | null; note: string | null } {
  const candidates = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
  const found = () => candidates.find((c) => existsSync(c)) ?? null;
  let bin = found();
  if (bin) return { bin, note: null };
  if (process.getuid?.() !== 0) {
    return { bin: null, note: 'nginx is not installed and the bench is not running as root: the nginx baseline is skipped (apt-get install -y nginx-light)' };
  }
  log('nginx is missing: apt-get install -y nginx-light');
  try {
    execFileSync('apt-get', ['install', '-y', '-q', 'nginx-light'], {
      stdio: 'ignore',
      timeout: 180_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    try {
      execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore', timeout: 180_000 });
      execFileSync('apt-get', ['install', '-y', '-q', 'nginx-light'], {
        stdio: 'ignore',
        timeout: 180_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (err) {
      return { bin: null, note: `nginx could not be installed (${(err as Error).message.split('\n')[0]}): the nginx baseline is skipped` };
    }
  }
  bin = found();
  return bin ? { bin, note: 'nginx-light was installed with apt-get for this run' } : { bin: null, note: 'nginx not found after apt-get: skipped' };
}

/** A port that was free a moment ago (nginx cannot listen on port 0 and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConn) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolveConn(true);
    });
    sock.once('error', () => resolveConn(false));
  });
}

export async function startNginx(bin: string, upstreamPort: number, tmpDir: string): Promise<NginxProxy> {
  const dir = resolve(tmpDir, 'nginx');
  for (const sub of ['', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(resolve(dir, sub), { recursive: true });
  const port = await freePort();
  const confPath = resolve(dir, 'nginx.conf');
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    confPath,
    `# Written by bench/lib/nginx.ts for one benchmark run.
${asRoot ? 'user root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 120s;
  keepalive_requests 100000;
  upstream origin {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`,
  );
  const proc: Spawned = spawnTracked('nginx', bin, ['-e', `${dir}/error.log`, '-p', dir, '-c', confPath, '-g', 'daemon off;']);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`nginx exited at start: ${proc.stderr().trim()}`);
    if (await canConnect(port)) return { port, pid: proc.pid, confPath, stop: () => proc.stop() };
    await sleep(50);
  }
  await proc.stop();
  throw new Error(`nginx did not listen on ${port} within 10 s: ${proc.stderr().trim()}`);
}
