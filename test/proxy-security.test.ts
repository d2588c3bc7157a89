// What the proxy gives away, and to whom (from a security review, 2026-12-01): CORS answers
// between two allowed sites of one session mean what the site said (no credentialed read it never
// granted), a request without a participant carries and reveals none of the session's cookies,
// Clear-Site-Data never reaches the browser with "cookies", and a follower gets the page's assets,
// not the host's signed-in data. Real gateway and origins on 127.0.0.1; requests as Chromium
// sends them (Origin, Sec-Fetch-Mode, the participant cookie where the browser would send it).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;
let a: Server;
let b: Server;
let aOrigin = '';
let bOrigin = '';
/** What B received: method, path and Cookie header. */
const bSeen: { method: string; path: string; cookie: string }[] = [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function site(req: IncomingMessage, res: ServerResponse): ServerResponse | undefined {
  const cookie = req.headers.cookie ?? '';
  bSeen.push({ method: req.method ?? '', path: req.url ?? '', cookie });
  const signedIn = cookie.includes('auth=B_SECRET');
  const json = (headers: Record<string, string>) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    return res.end(JSON.stringify({ account: signedIn ? 'PRIVATE-ACCOUNT-DATA' : 'anon' }));
  };
  switch (req.url) {
    case '/login':
      res.writeHead(200, { 'set-cookie': ['auth=B_SECRET; Path=/; HttpOnly', 'visible=SCRIPT_VISIBLE; Path=/'] });
      res.end('signed in');
      return;
    case '/api/partner-only':
      return json({ 'access-control-allow-origin': 'https://partner.example' });
    case '/api/public':
      return json({ 'access-control-allow-origin': '*' });
    case '/api/echo':
      return json({ 'access-control-allow-origin': String(req.headers.origin ?? '*'), vary: 'Origin' });
    case '/api/credentialed':
      return json({ 'access-control-allow-origin': String(req.headers.origin ?? ''), 'access-control-allow-credentials': 'true', vary: 'Origin' });
    case '/clear-two':
      res.writeHead(200, { 'clear-site-data': ['"cache"', '"cookies"'] });
      res.end('cleared');
      return;
    case '/clear-all':
      res.writeHead(200, { 'clear-site-data': '"*"', 'access-control-allow-origin': '*' });
      res.end('cleared');
      return;
    case '/logo.png':
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      return;
    default:
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>B</title></head><body>${signedIn ? 'Signed in as alice' : 'Welcome'}</body></html>`);
  }
}

/** A session whose host entered B and signed in there, with A mapped too: B's and A's proxied origins. */
async function signedInSession() {
  const s = await createSession(t, `${bOrigin}/login`);
  const host = await t.join(s.hostUrl);
  expect((await t.call('GET', `${host.proxiedOrigin}/login`, { headers: { cookie: host.cookie } })).status).toBe(200);
  const aProxied = (await t.call('GET', `${host.proxiedOrigin}/__cobrowse/map?origin=${encodeURIComponent(aOrigin)}`, { headers: { cookie: host.cookie } }))
    .text;
  expect(aProxied).toMatch(/^http:\/\/o2--/);
  return { s, host, aProxied };
}

beforeAll(async () => {
  a = createServer((_req, res) => res.end('<html><head></head><body>A</body></html>'));
  b = createServer(site);
  aOrigin = await listen(a);
  bOrigin = await listen(b);
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: bOrigin }, { url: aOrigin }] });
});
afterAll(async () => {
  await t?.close();
  a.close();
  b.close();
});

describe('CORS between two allowed sites of one session', () => {
  it('answers a credentialed request (the participant cookie went) as the site did: no read it never granted', async () => {
    const { host, aProxied } = await signedInSession();
    // fetch(B, { credentials: 'include' }) from A's page: the browser sends B's host the participant cookie.
    const ask = (path: string) =>
      t.call('GET', `${host.proxiedOrigin}${path}`, {
        headers: { cookie: host.cookie, origin: aProxied, 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-site' },
      });
    const readable = (r: { headers: Record<string, string | string[] | undefined> }) =>
      r.headers['access-control-allow-origin'] === aProxied && r.headers['access-control-allow-credentials'] === 'true';

    const partner = await ask('/api/partner-only');
    expect(partner.text).toContain('PRIVATE-ACCOUNT-DATA');
    expect(readable(partner)).toBe(false);
    // partner.example is not an allowed site: its origin maps to the gateway's refusal page, never A's host.
    expect(partner.headers['access-control-allow-origin']).not.toBe(aProxied);

    const wildcard = await ask('/api/public');
    expect(wildcard.headers['access-control-allow-origin']).toBe('*');
    expect(wildcard.headers['access-control-allow-credentials']).toBeUndefined();

    // Echoing the Origin without Allow-Credentials: the browser refuses a credentialed read.
    const echo = await ask('/api/echo');
    expect(echo.headers['access-control-allow-origin']).toBe(aProxied);
    expect(echo.headers['access-control-allow-credentials']).toBeUndefined();

    // What the site grants, the page gets: its real origin mapped to A's proxied one.
    const granted = await ask('/api/credentialed');
    expect(readable(granted)).toBe(true);
    expect(granted.text).toContain('PRIVATE-ACCOUNT-DATA');
  });

  it('proxies a request without credentials (no participant cookie) without the session jar, any method', async () => {
    const { host, aProxied } = await signedInSession();
    for (const method of ['GET', 'POST', 'DELETE']) {
      bSeen.length = 0;
      const r = await t.call(method, `${host.proxiedOrigin}/api/echo`, {
        headers: { origin: aProxied, 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-site', 'content-type': 'text/plain' },
        ...(method === 'GET' ? {} : { body: 'x' }),
      });
      expect(r.status, method).toBe(200);
      expect(r.text, method).toContain('anon');
      expect(
        bSeen.map((s) => s.cookie),
        method,
      ).toEqual(['']);
    }
  });

  it('refuses a cookie-less request that is not CORS from a page of the session, or whose Origin is not the session', async () => {
    const { host, aProxied } = await signedInSession();
    const plain = await t.call('POST', `${host.proxiedOrigin}/api/echo`, { headers: { origin: aProxied, 'content-type': 'text/plain' }, body: 'x' });
    expect(plain.status).toBe(401);
    const foreign = await t.call('GET', `${host.proxiedOrigin}/api/echo`, { headers: { origin: 'http://evil.example', 'sec-fetch-mode': 'cors' } });
    expect(foreign.status).toBe(401);
    // A "preflight" without an Origin of the session is not proxied either.
    const preflight = await t.call('OPTIONS', `${host.proxiedOrigin}/page`, { headers: { 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(401);
  });
});

describe('what an answer without a participant reveals', () => {
  it("carries none of the session's cookies nor its origins in the injected tag", async () => {
    const { host, aProxied } = await signedInSession();
    const page = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { origin: aProxied, 'sec-fetch-mode': 'cors', accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Welcome');
    expect(page.text).not.toContain('SCRIPT_VISIBLE');
    expect(page.text).not.toContain(aProxied.replace('http://', ''));
    // The host's own page has them (the check above is not vacuous).
    const own = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { cookie: host.cookie, accept: 'text/html' } });
    expect(own.text).toContain('SCRIPT_VISIBLE');
    expect(own.text).toContain('Signed in as alice');
  });
});

describe('Clear-Site-Data', () => {
  it('never reaches the browser with "cookies" (every header line counts), and clears the jar of that site', async () => {
    const { host, aProxied } = await signedInSession();
    const two = await t.call('GET', `${host.proxiedOrigin}/clear-two`, { headers: { cookie: host.cookie } });
    expect(two.headers['clear-site-data']).toBe('"cache"');
    const after = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { cookie: host.cookie, accept: 'text/html' } });
    expect(after.text).toContain('Welcome');

    await t.call('GET', `${host.proxiedOrigin}/login`, { headers: { cookie: host.cookie } });
    const anonymous = await t.call('GET', `${host.proxiedOrigin}/clear-all`, { headers: { origin: aProxied, 'sec-fetch-mode': 'cors' } });
    expect(anonymous.headers['clear-site-data']).toBe('"cache", "storage"');
    // Without a participant the jar is left alone.
    const still = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { cookie: host.cookie, accept: 'text/html' } });
    expect(still.text).toContain('Signed in as alice');
  });
});

describe("a follower's requests", () => {
  it("get the page's assets, not the host's cookies or signed-in data", async () => {
    const { s, host } = await signedInSession();
    const observer = await t.join(s.observeUrl);
    const cookies = await t.call('GET', `${observer.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: observer.cookie } });
    expect(cookies.status).toBe(403);
    expect(cookies.text).not.toContain('SCRIPT_VISIBLE');
    const hostCookies = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: host.cookie } });
    expect(hostCookies.text).toContain('SCRIPT_VISIBLE');

    // fetch('/api/credentialed') typed in the view page's console, and the same from curl with any headers.
    const variants: Record<string, string>[] = [
      { 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' },
      { 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' },
      {},
    ];
    for (const headers of variants) {
      for (const path of ['/api/credentialed', '/account']) {
        const r = await t.call('GET', `${observer.proxiedOrigin}${path}`, { headers: { cookie: observer.cookie, ...headers } });
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        expect(r.text).not.toContain('PRIVATE-ACCOUNT-DATA');
        expect(r.text).not.toContain('Signed in as alice');
      }
    }
    const logo = await t.call('GET', `${observer.proxiedOrigin}/logo.png`, { headers: { cookie: observer.cookie, 'sec-fetch-dest': 'image' } });
    expect(logo.status).toBe(200);
    expect(logo.headers['content-type']).toBe('image/png');
  });
});

describe('the participant cookie', () => {
  it('still identifies the participant when a site set a cookie of the same name for the parent domain, sent first', async () => {
    const { host } = await signedInSession();
    // What a site's script gets by document.cookie's native setter: __cobrowse=x; domain=<base host>.
    const shadowed = `__cobrowse=planted-by-a-site; ${host.cookie}`;
    const r = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { cookie: shadowed, accept: 'text/html' } });
    expect(r.status).toBe(200);
    expect(r.text).toContain('Signed in as alice');
    const cookies = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: shadowed } });
    expect(cookies.status).toBe(200);
  });
});
