// Entry point of `npm run bench`: builds dist/inject.js (the gateway serves it), bundles the bench's
// TypeScript with esbuild into bench/tmp/dist (the gateway code included, dependencies external),
// then runs bench/main.ts from there. esbuild rather than vite-node: the harness forks several
// Node children, and each would otherwise pay vite-node's start-up and module runner.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

// --no-build: the bundle that is there is used (the test suite's smoke run, whose set-up built it
// and whose other files read it meanwhile).
if (!process.argv.includes('--no-build')) {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('bench: node scripts/build.mjs failed');
    process.exit(built.status ?? 1);
  }
}

const outdir = resolve(root, 'bench/tmp/dist');
/** How every bundle of the bench is built: the gateway's sources included, npm packages left external. */
const BUNDLE = { outdir, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' };
await build({
  ...BUNDLE,
  entryPoints: {
    main: 'bench/main.ts',
    'children/origin': 'bench/children/origin.ts',
    'children/gateway': 'bench/children/gateway.ts',
    'children/http-proxy': 'bench/children/http-proxy.ts',
    'children/uws-undici': 'bench/children/uws-undici.ts',
    'children/uws-raw': 'bench/children/uws-raw.ts',
    'children/followers': 'bench/children/followers.ts',
    'children/sync-followers': 'bench/children/sync-followers.ts',
    'rewriter-throughput': 'bench/rewriter-throughput.ts',
    'zlib-calls': 'bench/zlib-calls.ts',
    'side-by-side': 'bench/side-by-side.ts',
  },
  sourcemap: 'linked',
});

// --side-by-side: the gateway of the working tree against the one of --base (a git revision,
// default HEAD), both bundled here: the base's sources come out of git into bench/tmp/base-src.
const sideBySide = process.argv.includes('--side-by-side');
if (sideBySide) {
  const base = process.argv.find((a) => a.startsWith('--base='))?.slice('--base='.length) ?? 'HEAD';
  const rev = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${base}^{commit}`], { encoding: 'utf8' });
  if (rev.status !== 0) {
    console.error(`bench: --base=${base} is not a commit of this repository`);
    process.exit(1);
  }
  const src = resolve(root, 'bench/tmp/base-src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git archive ${rev.stdout.trim()} | tar -x -C "${src}"`], { stdio: 'inherit' });
  if (archive.status !== 0) {
    console.error(`bench: could not take the sources of ${base} out of git`);
    process.exit(1);
  }
  await build({ ...BUNDLE, entryPoints: { 'children/gateway-base': resolve(src, 'bench/children/gateway.ts') } });
}

process.setSourceMapsEnabled(true);
// --rewriter-throughput: the HTML rewriter alone (bench/rewriter-throughput.ts), bundled as the gateway runs it.
// --zlib-calls: zlib's streams against one call each (bench/zlib-calls.ts), in plain Node as the gateway runs
// (under vite-node the stream figures come out lower: its process keeps libuv's pool busier).
const entry = process.argv.includes('--rewriter-throughput')
  ? 'rewriter-throughput.js'
  : process.argv.includes('--zlib-calls')
    ? 'zlib-calls.js'
    : sideBySide
      ? 'side-by-side.js'
      : 'main.js';
await import(pathToFileURL(resolve(outdir, entry)).href);
