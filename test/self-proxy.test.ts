// The gateway never proxies to itself. Site entries such as `http://*.cobrowse.localhost:<port>`
// cover the gateway's own host (`cobrowse.localhost:<port>`) or its proxied hosts
// (`o1--<id>.cobrowse.localhost`) when no publicUrl is set (the config cannot tell: the port may be
// known only once the gateway listens), and `*.localhost` names on its port reach it through loopback;
// proxying there would be a loop and a way around the gateway's own checks (its API reached with
// the session's jar, a proxied host reached without the participant cookie). The first request, a
// redirect hop, a subresource in the page and a table entry that got there anyway are each refused
// like an origin off the list. Real gateway and origin on 127.0.0.1.

import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_HEADER, RUNTIME_HEADER_VALUE } from '../protocol/runtime-requests.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;
let origin: Server;
let originUrl = '';
/** The gateway's own origin (`http://cobrowse.localhost:<port>`). */
let gatewayUrl = '';
/** Where the origin's redirect sends the browser; set once the session exists. */
let redirectTo = '';

/** A port free a moment ago: the gateway listens on it, so that the site entry can name it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Site entries that cover the gateway itself (`<port>`: the gateway's). */
const SELF_ENTRIES = ['http://cobrowse.localhost:<port>', 'http://*.cobrowse.localhost:<port>', 'http://*.shop.localhost:<port>', 'http://localhost:<port>'];

/** Access-log lines (one per exchange the gateway answered). */
const exchanges = () => t.logs.filter((l) => l.msg === 'request' || l.msg === 'proxied').length;

beforeAll(async () => {
  const port = await freePort();
  gatewayUrl = `http://cobrowse.localhost:${port}`;
  origin = createHttpServer((req, res) => {
    if (req.url === '/hop') {
      res.writeHead(302, { location: redirectTo });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html><head><link rel="stylesheet" href="${gatewayUrl}/healthz"></head><body><img src="http://a.shop.localhost:${port}/x.png">site</body></html>`,
    );
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  t = await startTestGateway({
    demo: { enabled: false },
    server: { host: '127.0.0.1', port },
    sites: [originUrl, ...SELF_ENTRIES.map((entry) => entry.replace('<port>', String(port)))],
  });
  expect(t.gateway.url).toBe(gatewayUrl);
});

afterAll(async () => {
  await t?.close();
  origin?.close();
});

describe('the gateway is never its own upstream', () => {
  it('says at startup which site entries cover its own hosts', () => {
    const warned = t.logs.filter((l) => l.msg === "a site entry covers the gateway's own host: requests there are refused");
    expect(warned.map((l) => [l.level, l.site])).toEqual(SELF_ENTRIES.map((entry) => ['warn', entry.replace('<port>', String(t.gateway.port))]));
  });

  it.each([
    ['the gateway host', () => `${gatewayUrl}/api/sessions`],
    ['a proxied host', () => `http://o1--${'a'.repeat(26)}.cobrowse.localhost:${t.gateway.port}/`],
    ['a *.localhost name on its port (loopback: the gateway answers there)', () => `http://a.shop.localhost:${t.gateway.port}/`],
    ['localhost on its port', () => `http://localhost:${t.gateway.port}/api/sessions`],
  ])('refuses a session that starts on %s (403 SITE_NOT_ALLOWED)', async (_what, url) => {
    const res = await t.call('POST', `${gatewayUrl}/api/sessions`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: url() }) });
    expect(res.status).toBe(403);
    expect(res.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: 'SITE_NOT_ALLOWED',
      message: `${new URL(url()).origin} is this cobrowsing gateway itself: it never proxies to itself.`,
    });
  });

  it('maps a redirect hop and the subresources of a page there to the "not allowed" page', async () => {
    const s = await createSession(t, `${originUrl}/`);
    const host = await t.join(s.hostUrl);
    const page = await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="${gatewayUrl}/blocked?url=${encodeURIComponent(`${gatewayUrl}/healthz`)}"`);
    expect(page.text).toContain(`src="${gatewayUrl}/blocked?url=${encodeURIComponent(`http://a.shop.localhost:${t.gateway.port}/x.png`)}"`);

    for (const target of [`${gatewayUrl}/api/sessions`, `${host.proxiedOrigin}/hop`]) {
      redirectTo = target;
      const hop = await t.call('GET', `${host.proxiedOrigin}/hop`, { headers: { cookie: host.cookie } });
      expect(hop.status).toBe(302);
      expect(hop.headers.location).toBe(`${gatewayUrl}/blocked?url=${encodeURIComponent(target)}`);
    }

    const mapped = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/map?origin=${encodeURIComponent(gatewayUrl)}`, {
      headers: { cookie: host.cookie, [RUNTIME_HEADER]: RUNTIME_HEADER_VALUE },
    });
    expect(mapped.text).toBe('');
  });

  it('refuses a request to a table entry that names the gateway, once, without a loop (403 page, no stack trace)', async () => {
    const s = await createSession(t, `${originUrl}/`);
    const host = await t.join(s.hostUrl);
    // As a stored table written before the config changed would have it: the gateway's own
    // origin and the session's own proxied host behind labels of the session.
    const session = t.gateway.context.registry.get(s.id);
    if (!session) throw new Error('session not found');
    for (const target of [gatewayUrl, host.proxiedOrigin]) {
      const label = session.origins.labelFor(target);
      const before = exchanges();
      const res = await t.call('GET', `${t.gateway.context.mapper.proxiedOrigin({ label: label ?? '', sessionId: s.id })}/api/sessions`, {
        headers: { cookie: host.cookie, accept: 'text/html,*/*;q=0.8', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' },
      });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<code>SITE_NOT_ALLOWED</code>');
      expect(res.text).toContain(`${new URL(target).origin} is this cobrowsing gateway itself`);
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
      // Give a loop, if there were one, the time to show up in the access log.
      await new Promise((r) => setTimeout(r, 100));
      expect(exchanges() - before).toBe(1);
    }
  });
});
