// Cost of mapping the imports of scripts (gateway/script-body.ts) on real bundles from
// node_modules: the word check, decoding a gzip and a brotli body, and the lexer with the
// rewrite, per file and in MB/s; and how often the words `import` and `export` occur in the
// CommonJS and ES module files of node_modules (why a classic script is looked at only for
// `import`). Run: npx vite-node bench/script-rewrite.ts

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync, brotliDecompress, gunzip, gzipSync } from 'node:zlib';
import { bytesMayHaveImports } from '../gateway/rewrite/js-imports.js';
import { bytesMayReferenceTop } from '../gateway/rewrite/js-top.js';
import { rewriteScriptBytes, type ScriptRewrite } from '../gateway/script-body.js';
import { topReferenceEdits } from '../protocol/top-references.js';

const FILES = [
  'node_modules/rollup/dist/es/shared/node-entry.js',
  'node_modules/vite/dist/node/chunks/config.js',
  'node_modules/playwright-core/lib/coreBundle.js',
  'node_modules/typescript/lib/typescript.js',
];

const rewrite: ScriptRewrite = {
  module: true,
  charset: undefined,
  mapSpecifier: (url) => `http://o2--sess.localhost:8080/${url.replace(/^[a-z]+:\/\/[^/]+\//i, '')}`,
  url: 'https://cdn.test/bundle.js',
  // A window's script: references to the top window are looked for too.
  top: true,
};

function best(fn: () => unknown, runs = 7): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

async function bestAsync(fn: () => Promise<unknown>, runs = 7): Promise<number> {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);

console.log(`load ${loadavg()[0]?.toFixed(2)}`);
console.log('file | bytes | word check ms | gunzip ms | brotli ms | lex+rewrite ms (MB/s) | rss after MB');
for (const file of FILES) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes);
  const br = brotliCompressSync(bytes);
  const check = best(() => bytesMayHaveImports(bytes, true));
  const gunzipMs = await bestAsync(() => promisify(gunzip)(gz));
  const brMs = await bestAsync(() => promisify(brotliDecompress)(br));
  let changed = false;
  const lex = best(() => {
    changed = rewriteScriptBytes(bytes, rewrite) !== null;
  });
  const rss = process.memoryUsage().rss / 1e6;
  console.log(
    `${file.replace('node_modules/', '')} | ${bytes.length} | ${check.toFixed(2)} | ${gunzipMs.toFixed(1)} | ${brMs.toFixed(1)} | ${lex.toFixed(1)} (${mbps(bytes.length, lex)})${changed ? '' : ' unchanged'} | ${rss.toFixed(0)}`,
  );
}

// References to the top window (protocol/top-references.ts): the search every window script gets,
// and the lexer a script with a candidate gets (a reference planted at its end, so that it lexes
// the whole file).
console.log('file | bytes | top candidate search ms (MB/s) | top lexer ms (MB/s) | edits');
for (const file of FILES) {
  const bytes = readFileSync(file);
  const search = best(() => bytesMayReferenceTop(bytes));
  const planted = `${bytes.toString('latin1')}\n;top.location.href = "u";\n`;
  let edits: unknown = null;
  const lexMs = best(() => {
    edits = topReferenceEdits(planted);
  });
  console.log(
    `${file.replace('node_modules/', '')} | ${bytes.length} | ${search.toFixed(2)} (${mbps(bytes.length, search)}) | ${lexMs.toFixed(1)} (${mbps(bytes.length, lexMs)}) | ${Array.isArray(edits) ? edits.length : String(edits)}`,
  );
}

// Word statistics over the .js files of node_modules larger than 4 KB.
const stats = { cjs: { files: 0, importWord: 0, exportWord: 0 }, esm: { files: 0, importWord: 0, exportWord: 0 } };
function walk(dir: string, depth: number): void {
  if (depth > 8) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(path, depth + 1);
    else if (/\.(c|m)?js$/.test(name) && st.size > 4096) {
      const text = readFileSync(path, 'latin1');
      const esm = /^\s*(import|export)\s/m.test(text) && !/\brequire\(/.test(text.slice(0, 2000));
      const s = esm ? stats.esm : stats.cjs;
      s.files++;
      if (text.includes('import')) s.importWord++;
      if (text.includes('export')) s.exportWord++;
    }
  }
}
walk('node_modules', 0);
console.log('node_modules .js > 4 KB | files | with "import" | with "export"');
for (const [kind, s] of Object.entries(stats)) console.log(`${kind} | ${s.files} | ${s.importWord} | ${s.exportWord}`);
