// Two node:http sites on 127.0.0.1 (port 0), both on the allowlist of one gateway (no demo site),
// and one Chromium, for the whole test file; closed after it.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestGateway, type TestGateway } from './gateway.js';

type Serve = (req: IncomingMessage, res: ServerResponse) => void;

/** What a test file uses; filled in before its first test runs. */
export interface TwoSites {
  aOrigin: string;
  bOrigin: string;
  t: TestGateway;
  browser: Browser;
}

export function useTwoSites(serveA: Serve, serveB: Serve): TwoSites {
  const sites = {} as TwoSites;
  const a = createServer(serveA);
  const b = createServer(serveB);
  const listen = (server: typeof a): Promise<string> =>
    new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  beforeAll(async () => {
    sites.aOrigin = await listen(a);
    sites.bOrigin = await listen(b);
    sites.t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: sites.aOrigin }, { url: sites.bOrigin }] });
    sites.browser = await launchBrowser();
  });
  afterAll(async () => {
    await sites.browser?.close();
    await sites.t?.close();
    a.close();
    b.close();
  });
  return sites;
}
