// Builds dist/ once before any test file runs: the gateway serves dist/inject.js, and the CLI
// tests run dist/gateway.js.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
