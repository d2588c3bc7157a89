// The setup of the differential test files: the fixture sites, a trap proxy, a gateway that allows
// site-a and site-b, one Chromium; and `same`, which runs a scenario both ways and compares.

import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type FixtureSites, startFixtureSites } from '../fixtures/differential-sites.js';
import { launchBrowser } from './browser.js';
import { type ProxiedRun, runDirect, runProxied, type Scenario, startTrapProxy } from './differential.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** What a differential test file uses; filled in before its first test. */
export interface DifferentialSuite {
  sites: FixtureSites;
  trap: Awaited<ReturnType<typeof startTrapProxy>>;
  t: TestGateway;
  browser: Browser;
  /** Runs `scenario` directly and through the gateway and expects the same; returns the proxied run. */
  same(scenario: Scenario): Promise<ProxiedRun>;
}

/** Starts everything before the file's tests and closes it after. */
export function useDifferentialSuite(): DifferentialSuite {
  const suite = {} as DifferentialSuite;
  beforeAll(async () => {
    suite.sites = await startFixtureSites();
    suite.trap = await startTrapProxy();
    suite.t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: suite.sites.a }, { url: suite.sites.b }] });
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.t?.close();
    await suite.trap?.close();
    await suite.sites?.close();
  });
  beforeEach(() => {
    if (suite.trap) suite.trap.hits.length = 0;
  });
  suite.same = async (scenario) => {
    const direct = await runDirect(suite.browser, suite.sites.a, scenario);
    const proxied = await runProxied(suite.browser, suite.t, suite.trap.server, suite.sites.a, scenario);
    expect(proxied.seen).toEqual(direct);
    expect(proxied.escaped).toEqual([]);
    expect(suite.trap.hits).toEqual([]);
    return proxied;
  };
  return suite;
}

/** Waits for a result the page shows; a page that never shows it is caught by the comparison. */
export async function settle(locator: Locator, text: RegExp): Promise<void> {
  await locator
    .filter({ hasText: text })
    .first()
    .waitFor({ timeout: 8000 })
    .catch(() => {});
}
