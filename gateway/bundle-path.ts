// Where the built browser bundles are: dist/ of the install, found from this module's own place
// (dist/gateway.js, or gateway/*.ts under the test runner) so that the gateway starts from any
// working directory (a service manager's, a container's); then dist/ of the working directory
// (a bundle of this module built elsewhere, as bench/ builds its children).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of `dist/<name>`: next to the running gateway if it is there, else under the working directory. */
export function bundlePath(name: string): string {
  const installed = fileURLToPath(new URL(`../dist/${name}`, import.meta.url));
  return existsSync(installed) ? installed : resolve('dist', name);
}
