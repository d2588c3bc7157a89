// `npm test`: installs what the tests need from the system when missing (as root, with apt-get),
// then type-checks, lints and runs every test. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SYSTEM_PACKAGES = [
  { binary: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', pkg: 'chromium' },
  // The Redis back end's tests start their own redis-server on a free loopback port.
  { binary: process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server', pkg: 'redis-server' },
];

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function ensureSystemPackages() {
  const missing = SYSTEM_PACKAGES.filter((p) => !existsSync(p.binary));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.pkg).join(' ');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(`The tests need ${names}. Install it, then run npm test again:\n  sudo apt-get update && sudo apt-get install -y ${names}`);
    process.exit(1);
  }
  console.log(`Installing ${names} with apt-get (needed by the browser tests)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update', '-qq'], { env }) !== 0 || run('apt-get', ['install', '-y', '-qq', ...missing.map((p) => p.pkg)], { env }) !== 0) {
    console.error(`apt-get could not install ${names}; run by hand:\n  apt-get update && apt-get install -y ${names}`);
    process.exit(1);
  }
}

ensureSystemPackages();
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const steps = [
  ['typecheck (gateway)', npx, ['tsc', '-p', 'tsconfig.gateway.json']],
  ['typecheck (inject)', npx, ['tsc', '-p', 'tsconfig.inject.json']],
  ['typecheck (tests)', npx, ['tsc', '-p', 'tsconfig.test.json']],
  ['lint', npx, ['biome', 'check', '.']],
  // The committed WebAssembly module of the fast path must be what its source builds to.
  ['wasm module', process.execPath, ['scripts/build-wasm.mjs', '--check']],
  ['tests', npx, ['vitest', 'run', ...process.argv.slice(2)]],
];
for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name}`);
  const code = run(cmd, args);
  if (code !== 0) {
    console.error(`\n${name} failed (exit ${code}).`);
    process.exit(code);
  }
}
