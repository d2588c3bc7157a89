// Cookie scopes through the gateway, seen from a real browser: a Path cookie, a cookie on a
// parent domain shared by two subdomains of an allowed site, and a cookie that expires.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let site: Server;
let port = 0;
let t: TestGateway;
let browser: Browser;

beforeAll(async () => {
  // One server answers for a.shop.localhost and b.shop.localhost (the gateway resolves *.localhost to loopback).
  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname === '/set') {
      res.writeHead(200, {
        'content-type': 'text/html',
        'set-cookie': ['shared=1; Domain=shop.localhost; Path=/', 'scoped=2; Path=/area', 'short=3; Max-Age=2; Path=/', `hostonly=${url.hostname}; Path=/`],
      });
      res.end('<!DOCTYPE html><html><head><title>set</title></head><body><p id="set">cookies set</p></body></html>');
      return;
    }
    if (url.pathname.endsWith('/echo')) {
      // A credentialed read from the other subdomain needs the site's leave, as on the real web.
      res.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': req.headers.origin ?? '*',
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
      res.end(JSON.stringify({ host: url.hostname, cookie: req.headers.cookie ?? '' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', () => resolve()));
  port = (site.address() as AddressInfo).port;
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: `http://*.shop.localhost:${port}`, name: 'Shop' }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  site?.close();
});

function cookieNames(header: string): string[] {
  return header
    .split(';')
    .map((c) => c.trim().split('=')[0] ?? '')
    .filter(Boolean)
    .sort();
}

describe('cookie scopes in the session jar', () => {
  it('honours Path, a parent Domain shared by two subdomains, host-only cookies and expiry', async () => {
    const session = await createSession(t, `http://a.shop.localhost:${port}/set`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForSelector('#set');

    // credentials: 'include': cookies go to another origin (the other subdomain) only when asked, as on the real web.
    const echo = (url: string) =>
      host.page.evaluate(async (u) => (await (await fetch(u, { credentials: 'include' })).json()) as { host: string; cookie: string }, url);
    expect(cookieNames((await echo('/echo')).cookie)).toEqual(['hostonly', 'shared', 'short']);
    expect(cookieNames((await echo('/area/echo')).cookie)).toEqual(['hostonly', 'scoped', 'shared', 'short']);

    // The other subdomain, through its own proxied host: only the parent-domain cookie goes there.
    const other = await echo(`http://b.shop.localhost:${port}/echo`);
    expect(other.host).toBe('b.shop.localhost');
    expect(cookieNames(other.cookie)).toEqual(['shared']);
    // Without credentials (fetch's default for another origin) no cookie goes, as on the real web:
    // the gateway proxies it without the session's jar, and the site's CORS answer lets the page read it.
    const anonymous = await host.page.evaluate(
      async (u) => (await (await fetch(u)).json()) as { host: string; cookie: string },
      `http://b.shop.localhost:${port}/echo`,
    );
    expect(anonymous).toEqual({ host: 'b.shop.localhost', cookie: '' });

    // Max-Age=2: gone after it expires, for every request of the session.
    await new Promise((r) => setTimeout(r, 2500));
    expect(cookieNames((await echo('/echo')).cookie)).toEqual(['hostonly', 'shared']);
    expect(await host.page.evaluate(() => document.cookie)).not.toContain('short=');
    await host.context.close();
  });
});
