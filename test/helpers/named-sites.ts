// Sites told apart by their Host name on one node:http server (a free loopback port), the first
// of them on the allowlist of one gateway (no demo site), and one Chromium, for the whole test
// file; closed after it. Chromium resolves *.localhost to 127.0.0.1 itself.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestGateway } from './gateway.js';
import type { Suite } from './suite.js';

/** What a test file uses: the gateway and browser (filled in before its first test), and the origin of a site by name. */
export interface NamedSites extends Suite {
  /** `http://<name>.localhost:<port>`. */
  origin(name: string): string;
}

/** One server answering `serve` for every name; the gateway allows the sites named in `allowed`. */
export function useNamedSites(allowed: readonly string[], serve: (req: IncomingMessage, res: ServerResponse) => void): NamedSites {
  let server: Server | undefined;
  let port = 0;
  const sites = { origin: (name: string) => `http://${name}.localhost:${port}` } as NamedSites;
  beforeAll(async () => {
    const listening = createServer(serve);
    server = listening;
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', r));
    port = (listening.address() as AddressInfo).port;
    sites.t = await startTestGateway({ demo: { enabled: false }, sites: allowed.map((name) => ({ url: sites.origin(name) })) });
    sites.browser = await launchBrowser();
  });
  afterAll(async () => {
    await sites.browser?.close();
    await sites.t?.close();
    await new Promise((r) => server?.close(r));
  });
  return sites;
}
