// Builds dist/gateway.js (Node, dependencies external), dist/inject.js (browser, one IIFE file) and
// dist/inject-worker.js (the prelude of the site's worker scripts).
import { build } from 'esbuild';

const started = Date.now();
const inject = await build({
  entryPoints: ['inject/main.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  outfile: 'dist/inject.js',
  metafile: true,
  logLevel: 'warning',
});
await build({
  entryPoints: ['inject/worker-main.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  outfile: 'dist/inject-worker.js',
  logLevel: 'warning',
});
await build({
  entryPoints: ['gateway/main.ts'],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  outfile: 'dist/gateway.js',
  logLevel: 'warning',
});
const bytes = inject.metafile.outputs['dist/inject.js']?.bytes ?? 0;
console.log(`built dist/gateway.js and dist/inject.js (${(bytes / 1024).toFixed(1)} KiB) in ${Date.now() - started} ms`);
