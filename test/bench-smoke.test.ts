// The benchmark harness still runs: every scenario, one short run each, with its own checks
// (bodies equal to the origin's, the injected tag, the shared jar, hub delivery in order, the
// live page's changes on a real browser follower, scale-out seq numbers). Speed is not asserted
// here (bench/README.md has the figures); what breaks a scenario is: a stricter hub or proxy the
// harness does not speak to as a browser would, or a change that loses what the scenario checks.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const results = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(results, { recursive: true, force: true }));

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/run.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('every bench scenario runs and passes its checks (one short run each, no nginx)', { timeout: 420_000 }, async () => {
  const { code, output } = await runBench(['--runs=1', '--no-nginx', '--no-build', `--results=${results}`], 400_000);
  const report = readdirSync(results).find((f) => f.endsWith('.md'));
  const md = report ? readFileSync(join(results, report), 'utf8') : '';
  expect({ code, failed: md.match(/\*\*Failed[^\n]*/g) ?? [] }, output.slice(-3000)).toEqual({ code: 0, failed: [] });
  // Each scenario produced its table.
  for (const title of ['1. Static assets', '2. HTML pages', '3. Cookie-jar overhead', '6. Memory per idle session']) expect(md).toContain(title);
  expect(md).toContain('gateway, rewriter off');
});

it('the side-by-side instrument builds a revision and the working tree and compares them (one short round)', { timeout: 180_000 }, async () => {
  const { code, output } = await runBench(['--side-by-side', '--no-build', '--base=HEAD', '--rounds=1', '--seconds=1', '--rate=300'], 160_000);
  expect({ code, tail: output.slice(-2000) }).toMatchObject({ code: 0 });
  expect(output).toMatch(/round 1: A \d+\.\d µs main .* B \d+\.\d .* B\/A \d\.\d{3}/);
  expect(output).toMatch(/B\/A paired by round, median: \d\.\d{3}/);
});
