// The setup most browser test files share: one gateway (with the demo site) and one Chromium
// for the whole file, closed after it.

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** What a test file uses; filled in before its first test runs. */
export interface Suite {
  t: TestGateway;
  browser: Browser;
}

/** Starts a gateway and a browser before the file's tests and closes them after. */
export function useGatewayAndBrowser(config: Record<string, unknown> = {}): Suite {
  const suite = {} as Suite;
  beforeAll(async () => {
    suite.t = await startTestGateway(config);
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.t?.close();
  });
  return suite;
}
