// Two real sites of two registrable domains, site-a.localhost and site-b.localhost, on one
// node:http server on 127.0.0.1 (Chromium and the gateway resolve *.localhost to loopback; both
// names are potentially trustworthy, so Chromium sends them Fetch Metadata). For the tests that
// compare what B receives from the same clicks made on the real sites and through a session.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** A 1x1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** An uncached HTML page around `body`. */
export function html(res: ServerResponse, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`);
}

/** An uncached 1x1 image. */
export function pixel(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
  res.end(PIXEL);
}

/** The host name (without port), the URL and the `tag` query parameter of a request. */
export function requestTag(req: IncomingMessage): { host: string | undefined; url: URL; tag: string | null } {
  const host = (req.headers.host ?? '').split(':')[0];
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  return { host, url, tag: url.searchParams.get('tag') };
}

/**
 * The routes both sites answer: `/redirect?to=` (a hop through this site) and `/style.css?img=`
 * (a style sheet whose background is the image `img`). True when it answered.
 */
export function sharedRoute(url: URL, res: ServerResponse): boolean {
  if (url.pathname === '/redirect') {
    res.writeHead(302, { location: url.searchParams.get('to') ?? '/', 'cache-control': 'no-store' });
    res.end();
    return true;
  }
  if (url.pathname === '/style.css') {
    res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'no-store' });
    res.end(`body { background-image: url("${url.searchParams.get('img') ?? ''}"); }`);
    return true;
  }
  return false;
}

export interface TwoDomains {
  server: Server;
  /** `http://site-a.localhost:<port>` */
  a(): string;
  /** `http://site-b.localhost:<port>` */
  b(): string;
  close(): Promise<void>;
}

/** Both sites on one server answered by `serve`, listening on a free loopback port. */
export async function startTwoDomains(serve: (req: IncomingMessage, res: ServerResponse) => void): Promise<TwoDomains> {
  const server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    a: () => `http://site-a.localhost:${port}`,
    b: () => `http://site-b.localhost:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The cookie names of a Cookie header, sorted. */
export function cookieNames(header: string | undefined): string[] {
  return (header ?? '')
    .split(';')
    .map((c) => c.trim().split('=')[0] ?? '')
    .filter(Boolean)
    .sort();
}

/** What a test file uses; filled in before its first test runs. */
export interface TwoDomainsEnv {
  sites: TwoDomains;
  t: TestGateway;
  browser: Browser;
}

/**
 * Both sites (answered by `serve`; `withServer` may add to their server, e.g. an upgrade
 * handler), a gateway that allows both, and one Chromium, for the whole test file.
 */
export function useTwoDomains(serve: (req: IncomingMessage, res: ServerResponse) => void, withServer: (server: Server) => void = () => {}): TwoDomainsEnv {
  const env = {} as TwoDomainsEnv;
  beforeAll(async () => {
    env.sites = await startTwoDomains(serve);
    withServer(env.sites.server);
    env.t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: env.sites.a() }, { url: env.sites.b() }] });
    env.browser = await launchBrowser();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.t?.close();
    await env.sites?.close();
  });
  return env;
}
