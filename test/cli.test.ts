// The start command as a user runs it: bad configs and options give clear errors and exit
// non-zero without a stack trace; a good config starts and serves.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cobrowse-cli-'));

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function runCli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['dist/gateway.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('start command', () => {
  it.each([
    ['a site that is not an origin', 'sites:\n  - url: https://example.com/path\n', 'sites[0].url'],
    ['a misspelt key', 'sitez:\n  - url: https://example.com\n', 'sitez: unknown setting'],
    ['a bad port', 'server:\n  port: 99999\nsites: [https://example.com]\n', 'server.port'],
    ['a bad duration', 'sessions:\n  idleTimeout: soon\nsites: [https://example.com]\n', 'sessions.idleTimeout'],
    ['broken YAML', 'sites:\n  - url: [unclosed\n', 'line '],
    ['nothing to proxy', 'demo:\n  enabled: false\n', 'sites:'],
  ])('rejects %s with the setting path and no stack trace', (_name, text, expected) => {
    const file = configFile(`bad-${Math.random().toString(36).slice(2)}.yaml`, text);
    const r = runCli(['--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Invalid configuration in ${file}`);
    expect(r.stderr).toContain(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a missing config file', () => {
    const r = runCli(['--config', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('file not found');
  });

  it('rejects bad options and a bad PORT', () => {
    expect(runCli(['--port', 'abc']).code).toBe(2);
    expect(runCli(['--bogus']).stderr).toContain('unknown option');
    const bad = runCli(['--config', 'gateway.config.yaml'], { PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PORT');
  });

  it('--check-config validates without starting, and --help prints usage', () => {
    const ok = runCli(['--check-config', 'gateway.config.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('configuration is valid');
    expect(runCli(['--help']).stdout).toContain('--config FILE');
  });

  it('starts on --port with the default config from any working directory, serves the landing page and its bundle, and stops on SIGTERM', async () => {
    // Another working directory (a service manager's): the bundles are found next to dist/gateway.js.
    const child = spawn(process.execPath, [resolve('dist/gateway.js'), '--config', resolve('gateway.config.yaml'), '--port', '0'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      cwd: tmpdir(),
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += String(d);
          const m = /open (http:\/\/cobrowse\.localhost:\d+)\//.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
        setTimeout(() => reject(new Error(`no start line in ${out}`)), 10_000);
      });
      const port = new URL(url).port;
      const res = await request(`http://127.0.0.1:${port}/`, { headers: { host: `cobrowse.localhost:${port}` } });
      const html = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(html).toContain('Demo shop (bundled)');
      expect(html).toContain('Example Domain');
      // localhost typed by hand goes to the canonical gateway host.
      const alias = await request(`http://127.0.0.1:${port}/?x=1`, { headers: { host: `localhost:${port}` } });
      await alias.body.dump();
      expect(alias.statusCode).toBe(302);
      expect(alias.headers.location).toBe(`http://cobrowse.localhost:${port}/?x=1`);
      // API clients and health checks on localhost are answered directly.
      const health = await request(`http://127.0.0.1:${port}/healthz`, { headers: { host: `127.0.0.1:${port}` } });
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      const bundle = await request(`http://127.0.0.1:${port}/__cobrowse/inject.js`, { headers: { host: `o1--${'a'.repeat(26)}.cobrowse.localhost:${port}` } });
      expect(bundle.statusCode).toBe(200);
      expect(Buffer.from(await bundle.body.arrayBuffer()).equals(readFileSync('dist/inject.js'))).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
