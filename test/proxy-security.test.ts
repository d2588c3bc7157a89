// What the proxy gives away, and to whom (from a security review, 2026-12-01): CORS answers
// between two allowed sites of one session mean what the site said (no credentialed read it never
// granted), a request without a participant carries and reveals none of the session's cookies,
// Clear-Site-Data never reaches the browser with "cookies", and a follower gets the page's assets,
// not the host's signed-in data. Real gateway and origins on 127.0.0.1; requests as Chromium
// sends them (Origin, Sec-Fetch-Mode, the participant cookie where the browser would send it).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_HEADER, RUNTIME_HEADER_VALUE } from '../protocol/runtime-requests.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

/** The header the page runtime sends with its requests to /__cobrowse/cookies and /__cobrowse/map. */
const RUNTIME = { [RUNTIME_HEADER]: RUNTIME_HEADER_VALUE };

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
  if (req.method === 'OPTIONS') {
    // A permissive site: every preflight granted, credentials and any header included.
    res.writeHead(204, {
      'access-control-allow-origin': String(req.headers.origin ?? '*'),
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
    });
    res.end();
    return;
  }
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
    case '/plant':
      res.writeHead(200, { 'set-cookie': 'planted=FROM_OPAQUE; Path=/', 'access-control-allow-origin': '*' });
      res.end('planted');
      return;
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
  const aProxied = (
    await t.call('GET', `${host.proxiedOrigin}/__cobrowse/map?origin=${encodeURIComponent(aOrigin)}`, { headers: { cookie: host.cookie, ...RUNTIME } })
  ).text;
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

describe('requests of a document with an opaque origin (Origin: null: a sandboxed frame, a data: frame)', () => {
  // Chromium sends them no SameSite=Lax cookie, so the participant's stays behind as well.
  const opaque = (mode: string, dest: string) => ({ origin: 'null', 'sec-fetch-mode': mode, 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': dest });

  it('go upstream without the session jar, and what they answer is not stored in it', async () => {
    const { host } = await signedInSession();
    bSeen.length = 0;
    const image = await t.call('GET', `${host.proxiedOrigin}/logo.png`, { headers: opaque('no-cors', 'image') });
    expect(image.status).toBe(200);
    const read = await t.call('GET', `${host.proxiedOrigin}/api/public`, { headers: opaque('cors', 'empty') });
    expect(read.text).toContain('anon');
    const post = await t.call('POST', `${host.proxiedOrigin}/api/echo`, { headers: { ...opaque('cors', 'empty'), 'content-type': 'text/plain' }, body: 'x' });
    expect([post.status, post.text]).toEqual([200, JSON.stringify({ account: 'anon' })]);
    // The site's cookie in an answer to such a request does not reach the jar.
    expect((await t.call('GET', `${host.proxiedOrigin}/plant`, { headers: opaque('cors', 'empty') })).status).toBe(200);
    expect(bSeen.map((s) => s.cookie)).toEqual(['', '', '', '']);
    bSeen.length = 0;
    expect((await t.call('GET', `${host.proxiedOrigin}/api/echo`, { headers: { cookie: host.cookie } })).text).toContain('PRIVATE-ACCOUNT-DATA');
    expect(bSeen.map((s) => s.cookie)).toEqual(['auth=B_SECRET; visible=SCRIPT_VISIBLE']);
  });

  it('and a page’s own fetch that omits credentials go upstream without the jar; not for the gateway’s endpoints nor from elsewhere', async () => {
    const { host } = await signedInSession();
    bSeen.length = 0;
    const own = { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'empty' };
    expect((await t.call('GET', `${host.proxiedOrigin}/api/echo`, { headers: own })).text).toContain('anon');
    expect(
      (await t.call('POST', `${host.proxiedOrigin}/api/echo`, { headers: { ...own, 'sec-fetch-mode': 'same-origin', origin: host.proxiedOrigin }, body: 'x' }))
        .text,
    ).toContain('anon');
    expect(bSeen.map((s) => s.cookie)).toEqual(['', '']);
    bSeen.length = 0;
    expect((await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies`, { headers: { ...own, ...RUNTIME } })).status).toBe(403);
    expect((await t.call('POST', `${host.proxiedOrigin}/api/echo`, { headers: { ...own, origin: 'http://evil.example' }, body: 'x' })).status).toBe(401);
    expect((await t.call('GET', `${host.proxiedOrigin}/api/echo`, { headers: { ...own, 'sec-fetch-site': 'cross-site' } })).status).toBe(401);
    // A module service worker's script is fetched so (credentials omitted): refused, as with the cookie.
    const serviceWorkerFetches: Record<string, string>[] = [
      { ...own, 'sec-fetch-mode': 'same-origin', 'sec-fetch-dest': 'serviceworker', 'service-worker': 'script' },
      { ...own, 'sec-fetch-mode': 'same-origin', 'sec-fetch-dest': 'serviceworker' },
      { cookie: host.cookie, 'service-worker': 'script' },
    ];
    for (const headers of serviceWorkerFetches) expect((await t.call('GET', `${host.proxiedOrigin}/sw.js`, { headers })).status).toBe(403);
    expect(bSeen).toEqual([]);
  });

  it('do not keep the session alive (a participant’s do)', async () => {
    const { s, host } = await signedInSession();
    const expiry = async () =>
      (await t.call('GET', `${t.gateway.url}/api/sessions/${s.id}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).json<{ expiresAt: string }>()
        .expiresAt;
    const before = await expiry();
    await new Promise((r) => setTimeout(r, 30));
    expect((await t.call('GET', `${host.proxiedOrigin}/api/public`, { headers: opaque('cors', 'empty') })).status).toBe(200);
    expect(await expiry()).toBe(before);
    expect((await t.call('GET', `${host.proxiedOrigin}/api/public`, { headers: { cookie: host.cookie } })).status).toBe(200);
    expect(Date.parse(await expiry())).toBeGreaterThan(Date.parse(before));
  });

  it('are neither navigations nor requests for the gateway’s endpoints', async () => {
    const { host } = await signedInSession();
    bSeen.length = 0;
    // A navigation without the cookie goes for a ticket (GET) or is refused, as any other.
    const nav = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: opaque('navigate', 'iframe') });
    expect(nav.status).toBe(302);
    expect(nav.headers.location).toMatch(/\/t\//);
    expect((await t.call('POST', `${host.proxiedOrigin}/page`, { headers: opaque('navigate', 'iframe'), body: 'x' })).status).toBe(401);
    // Without Fetch Metadata, a request for HTML counts as a navigation.
    const untagged = await t.call('GET', `${host.proxiedOrigin}/page`, { headers: { origin: 'null', accept: 'text/html' } });
    expect(untagged.status).toBe(302);
    expect((await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies`, { headers: { ...opaque('no-cors', 'script'), ...RUNTIME } })).status).toBe(401);
    expect(bSeen).toEqual([]);
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
    const cookies = await t.call('GET', `${observer.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: observer.cookie, ...RUNTIME } });
    expect(cookies.status).toBe(403);
    expect(cookies.text).not.toContain('SCRIPT_VISIBLE');
    const hostCookies = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: host.cookie, ...RUNTIME } });
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
    const cookies = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies?path=/`, { headers: { cookie: shadowed, ...RUNTIME } });
    expect(cookies.status).toBe(200);
  });
});

describe("the runtime's endpoints on a proxied host answer only that host's own page", () => {
  /** Headers of a request from A's page (another origin of the session) that carries the participant cookie. */
  const fromA = (host: { cookie: string }, aProxied: string, extra: Record<string, string> = {}) => ({
    cookie: host.cookie,
    origin: aProxied,
    'sec-fetch-site': 'same-site',
    ...extra,
  });
  const cookiesOf = async (host: { cookie: string; proxiedOrigin: string }) =>
    (
      await t.call('GET', `${host.proxiedOrigin}/__cobrowse/cookies?path=/`, {
        headers: { cookie: host.cookie, 'sec-fetch-site': 'same-origin', ...RUNTIME },
      })
    ).json<{ cookies: string }>().cookies;

  it('/__cobrowse/cookies: no write nor read from another page, 403 with a JSON error; the own page reads and writes', async () => {
    const { host, aProxied } = await signedInSession();
    const url = `${host.proxiedOrigin}/__cobrowse/cookies?path=/`;
    const attempts: [string, Record<string, string>][] = [
      // fetch(..., { mode: 'no-cors', method: 'POST' }) and a form POST from A's page.
      ['POST', fromA(host, aProxied, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty', 'content-type': 'text/plain' })],
      ['POST', fromA(host, aProxied, { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe', 'content-type': 'text/plain' })],
      // With the header (a preflight that was granted somewhere) but from A's page.
      ['POST', fromA(host, aProxied, { 'sec-fetch-mode': 'cors', ...RUNTIME })],
      // No Fetch Metadata (plain http on a non-localhost name): the header is missing, or the Origin is A's.
      ['POST', { cookie: host.cookie, origin: aProxied }],
      ['POST', { cookie: host.cookie, origin: aProxied, ...RUNTIME }],
      ['POST', { cookie: host.cookie }],
    ];
    for (const [method, headers] of attempts) {
      const r = await t.call(method, url, { headers, body: 'injected=evil; path=/' });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('BAD_ORIGIN');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
    expect(await cookiesOf(host)).not.toContain('injected');
    // Reads: <script src>, <img>, no-cors fetch from A's page; without the header from anywhere.
    for (const headers of <Record<string, string>[]>[
      fromA(host, aProxied, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }),
      fromA(host, aProxied, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }),
      fromA(host, aProxied, { 'sec-fetch-mode': 'cors', ...RUNTIME }),
      { cookie: host.cookie, 'sec-fetch-site': 'same-origin', 'sec-fetch-dest': 'script' },
      { cookie: host.cookie },
    ]) {
      const r = await t.call('GET', url, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.text).not.toContain('SCRIPT_VISIBLE');
    }

    // The page's own runtime: Fetch Metadata same-origin (an Origin of its own, or "null" under no-referrer), or none at all.
    for (const headers of <Record<string, string>[]>[
      { 'sec-fetch-site': 'same-origin', origin: host.proxiedOrigin },
      { 'sec-fetch-site': 'same-origin', origin: 'null' },
      { origin: host.proxiedOrigin },
      {},
    ]) {
      const r = await t.call('POST', url, { headers: { cookie: host.cookie, ...RUNTIME, ...headers }, body: 'own=1; path=/' });
      expect(r.status, JSON.stringify(headers)).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.json<{ cookies: string }>().cookies).toContain('own=1');
    }
    expect(await cookiesOf(host)).toContain('visible=SCRIPT_VISIBLE');
  });

  it('a preflight for /__cobrowse/ paths is refused by the gateway, never sent to the site (which would grant it)', async () => {
    const { host, aProxied } = await signedInSession();
    for (const path of ['/__cobrowse/cookies?path=/', '/__cobrowse/map?origin=x', '/__cobrowse/cross-enter?label=o2']) {
      bSeen.length = 0;
      const r = await t.call('OPTIONS', `${host.proxiedOrigin}${path}`, {
        headers: {
          origin: aProxied,
          'sec-fetch-mode': 'cors',
          'sec-fetch-site': 'same-site',
          'access-control-request-method': 'POST',
          'access-control-request-headers': RUNTIME_HEADER,
        },
      });
      expect(r.status, path).toBe(403);
      expect(r.headers['access-control-allow-origin'], path).toBeUndefined();
      expect(r.headers['access-control-allow-headers'], path).toBeUndefined();
      expect(bSeen, path).toEqual([]);
    }
  });

  it("/__cobrowse/map and /__cobrowse/cross-enter: the session's origin table and tickets for the own page only", async () => {
    const { host, aProxied } = await signedInSession();
    const map = `${host.proxiedOrigin}/__cobrowse/map?proxied=${encodeURIComponent(aProxied)}`;
    for (const headers of <Record<string, string>[]>[
      fromA(host, aProxied, { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }),
      fromA(host, aProxied, { 'sec-fetch-mode': 'cors', ...RUNTIME }),
      { cookie: host.cookie, 'sec-fetch-site': 'same-origin' },
    ]) {
      const r = await t.call('GET', map, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.text).not.toContain(aOrigin);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    const own = await t.call('GET', map, { headers: { cookie: host.cookie, 'sec-fetch-site': 'same-origin', ...RUNTIME } });
    expect(own.status).toBe(200);
    expect(own.text).toBe(aOrigin);
    expect(own.headers['x-content-type-options']).toBe('nosniff');
    expect(own.headers['cross-origin-resource-policy']).toBe('same-origin');

    const label = new URL(aProxied).hostname.split('--')[0];
    const enter = `${host.proxiedOrigin}/__cobrowse/cross-enter?label=${label}`;
    const foreign = await t.call('GET', enter, { headers: fromA(host, aProxied, { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }) });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.location).toBeUndefined();
    const ownFrame = await t.call('GET', enter, {
      headers: { cookie: host.cookie, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' },
    });
    expect(ownFrame.status).toBe(302);
    expect(ownFrame.headers.location).toContain('/__cobrowse/enter?ticket=');
  });
});
