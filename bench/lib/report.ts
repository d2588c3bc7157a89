// What a scenario hands back, and how the run's table is rendered (terminal and Markdown).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem } from 'node:os';

/** One scenario's table: formatted cells for reading, raw numbers for the JSON file. */
export interface ScenarioTable {
  id: string;
  title: string;
  /** What the ratios are against. */
  baseline: string;
  columns: string[];
  rows: string[][];
  notes: string[];
  /** Per-run figures and medians, for the JSON file. */
  data: unknown;
  /** Set when the scenario could not run or failed its checks. */
  error?: string;
  /** Checks that failed while the figures were taken (the figures are kept; the run exits 1). */
  failedChecks?: string[];
}

export interface MachineInfo {
  date: string;
  command: string;
  mode: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverageAtStart: number[];
  node: string;
  uWebSockets: string;
  undici: string;
  autocannon: string;
  httpProxy: string;
  ws: string;
  nginx: string | null;
}

function pkgVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { name: string; version: string };
    return pkg.name === name ? pkg.version : `${pkg.version} (${pkg.name})`;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(mode: string, command: string, nginxBin: string | null): MachineInfo {
  const list = cpus();
  let nginx: string | null = null;
  if (nginxBin) {
    // nginx -v prints to stderr.
    const out = spawnSync(nginxBin, ['-v'], { encoding: 'utf8', timeout: 5000 });
    nginx = `${out.stderr ?? ''}${out.stdout ?? ''}`.trim() || null;
  }
  if (nginx) nginx = nginx.replace(/^nginx version: /, '');
  return {
    date: new Date().toISOString(),
    command,
    mode,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${process.platform} ${release()} ${arch()}`,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    uWebSockets: pkgVersion('uWebSockets.js'),
    undici: pkgVersion('undici'),
    autocannon: pkgVersion('autocannon'),
    httpProxy: pkgVersion('http-proxy'),
    ws: pkgVersion('ws'),
    nginx,
  };
}

function mdTable(columns: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${columns.map(esc).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

export function renderMarkdown(machine: MachineInfo, tables: ScenarioTable[], settings: Record<string, unknown>): string {
  const out: string[] = [];
  out.push(`# Gateway benchmark, ${machine.mode} mode, ${machine.date}`);
  out.push('');
  out.push(`Command: \`${machine.command}\``);
  out.push('');
  out.push(
    `Machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, load average at start ${machine.loadAverageAtStart.join(' / ')}. ` +
      `Node ${machine.node}, uWebSockets.js ${machine.uWebSockets}, undici ${machine.undici}, autocannon ${machine.autocannon}, ` +
      `http-proxy ${machine.httpProxy}, ws ${machine.ws}, nginx ${machine.nginx ?? 'not available'}.`,
  );
  out.push('');
  out.push(
    `Settings: ${Object.entries(settings)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(', ')}.`,
  );
  out.push('');
  out.push('Figures are medians over the runs; every ratio is against a baseline measured in the same run, interleaved with it.');
  for (const t of tables) {
    out.push('');
    out.push(`## ${t.title}`);
    out.push('');
    out.push(`Baseline: ${t.baseline}.`);
    out.push('');
    if (t.error) out.push(`**Failed or skipped:** ${t.error}`, '');
    if (t.failedChecks?.length) out.push(`**Failed checks:** ${t.failedChecks.join('; ')}`, '');
    if (t.rows.length > 0) out.push(mdTable(t.columns, t.rows));
    if (t.notes.length > 0) out.push('', ...t.notes.map((n) => `- ${n}`));
  }
  out.push('');
  return out.join('\n');
}

/** A plain-text rendering of the same tables for the terminal. */
export function renderText(tables: ScenarioTable[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push('', `== ${t.title}  (baseline: ${t.baseline})`);
    if (t.error) out.push(`   FAILED/SKIPPED: ${t.error}`);
    if (t.failedChecks?.length) out.push(`   FAILED CHECKS: ${t.failedChecks.join('; ')}`);
    if (t.rows.length === 0) continue;
    const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    out.push(line(t.columns));
    out.push(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of t.rows) out.push(line(r));
    for (const n of t.notes) out.push(`   * ${n}`);
  }
  return out.join('\n');
}
