// One node:http site on 127.0.0.1 (port 0) on the allowlist of one gateway (no demo site), with
// the site settings given (masks, host-only parts), and one Chromium, for the whole test file;
// closed after it. The site is a request handler, or one HTML page it answers every request with.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** What a test file uses; filled in before its first test runs. */
export interface OneSite {
  origin: string;
  t: TestGateway;
  browser: Browser;
}

export function useOneSite(serve: ((req: IncomingMessage, res: ServerResponse) => void) | string, site: Record<string, unknown> = {}): OneSite {
  const env = {} as OneSite;
  // A string: the one HTML page the site answers every request with.
  const handler =
    typeof serve === 'string'
      ? (_req: IncomingMessage, res: ServerResponse) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(serve);
        }
      : serve;
  const server = createServer(handler);
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env.t = await startTestGateway({ demo: { enabled: false }, sites: [{ ...site, url: env.origin }] });
    env.browser = await launchBrowser();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.t?.close();
    server.close();
  });
  return env;
}
