// The setup of the URL runtime's browser tests: three sites on one port of 127.0.0.1 (site-a and
// site-b allowed, elsewhere not), whose pages each test sets; a gateway that allows site-a and
// site-b; a trap proxy; one Chromium. Every host page runs in a profile whose requests outside the
// gateway go to the trap, so that a request that escaped is seen even when the page never learns
// of it.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTrapProxy } from './differential.js';
import { createSession, startTestGateway, type TestGateway } from './gateway.js';

/** A 2x2 red PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

/** site-a and site-b (allowed) and elsewhere (not allowed), by Host on one port; pages are set per test. */
export interface RuntimeSites {
  a: string;
  b: string;
  elsewhere: string;
  /** `<site> <method> <path>` of every request that reached the sites (through the gateway, or escaped). */
  received: string[];
  /** HTML answers by `<site><path>`, e.g. `a/top` (scripts for paths ending in .js). */
  pages: Map<string, string>;
  close(): Promise<void>;
}

async function startSites(): Promise<RuntimeSites> {
  const received: string[] = [];
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0] ?? '';
    const site = host === 'site-a.localhost' ? 'a' : host === 'site-b.localhost' ? 'b' : 'x';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    received.push(`${site} ${req.method} ${req.url}`);
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'cache-control': 'no-store' };
    const page = pages.get(`${site}${path}`);
    if (page !== undefined) res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8', ...cors }).end(page);
    else if (path.endsWith('.png')) res.writeHead(200, { 'content-type': 'image/png', ...cors }).end(PNG);
    else if (path.endsWith('.css')) res.writeHead(200, { 'content-type': 'text/css', ...cors }).end(`.imported { color: rgb(1, 2, 3); }`);
    else res.writeHead(200, { 'content-type': 'application/json', ...cors }).end(JSON.stringify({ site, path }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    a: `http://site-a.localhost:${port}`,
    b: `http://site-b.localhost:${port}`,
    elsewhere: `http://elsewhere.localhost:${port}`,
    received,
    pages,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A host page of a session, and every URL its profile asked for outside the gateway. */
export interface HostPage {
  context: BrowserContext;
  page: Page;
  session: Awaited<ReturnType<typeof createSession>>;
  /** What left the gateway: requests the browser reported and what the trap proxy received. */
  escaped(): string[];
}

/** What a test file uses; filled in before its first test. */
export interface RuntimeSuite {
  t: TestGateway;
  browser: Browser;
  sites: RuntimeSites;
  /** A host page of a new session on `path` of site-a. */
  openHost(path: string): Promise<HostPage>;
  /** The proxied origin of a site in a session (labels are given in the order the gateway met the origins). */
  proxied(session: { id: string }, label: string): string;
}

/** A page of the fixture sites. */
export function html(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

/** Starts everything before the file's tests and closes it after. */
export function useRuntimeSuite(): RuntimeSuite {
  let trap: Awaited<ReturnType<typeof startTrapProxy>>;
  const suite = {} as RuntimeSuite;
  beforeAll(async () => {
    suite.sites = await startSites();
    trap = await startTrapProxy();
    suite.t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: suite.sites.a }, { url: suite.sites.b }] });
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.t?.close();
    await trap?.close();
    await suite.sites?.close();
  });
  beforeEach(() => {
    if (trap) trap.hits.length = 0;
  });
  suite.openHost = async (path) => {
    const { t, browser, sites } = suite;
    const gatewayHost = new URL(t.gateway.url).hostname;
    const context = await browser.newContext({ proxy: { server: trap.server, bypass: `<-loopback>;*.${gatewayHost};${gatewayHost}` } });
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const session = await createSession(t, `${sites.a}${path}`);
    await page.goto(session.hostUrl);
    const onGateway = (url: string) => {
      if (!/^(http|ws)s?:/.test(url)) return true;
      const host = new URL(url).hostname;
      return host === gatewayHost || host.endsWith(`.${gatewayHost}`);
    };
    return { context, page, session, escaped: () => [...requests.filter((u) => !onGateway(u)), ...trap.hits] };
  };
  suite.proxied = (session, label) => `http://${label}--${session.id}.cobrowse.localhost:${suite.t.gateway.port}`;
  return suite;
}
