// The gateway never proxies to itself. Site entries such as `http://*.cobrowse.localhost:<port>`
// cover the gateway's own host (`cobrowse.localhost:<port>`) or its proxied hosts
// (`o1--<id>.cobrowse.localhost`) when no publicUrl is set (the config cannot tell: the port may be
// known only once the gateway listens), and `*.localhost` names on its port reach it through loopback;
// proxying there would be a loop and a way around the gateway's own checks (its API reached with
// the session's jar, a proxied host reached without the participant cookie). The first request, a
// redirect hop, a subresource in the page and a table entry that got there anyway are each refused
// like an origin off the list. Real gateway and origin on 127.0.0.1 (on 0.0.0.0 for the machine's
// own addresses, below).

import { lookup } from 'node:dns/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, validateConfig } from '../config/schema.js';
import { listenerAddresses } from '../gateway/allowlist.js';
import { addressKey, isLoopbackAddress } from '../gateway/ip-address.js';
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

// The machine's own addresses. A gateway on 0.0.0.0 is reached at every address of every interface
// (`os.networkInterfaces()`: 10.x or 172.x of eth0, say), not only through loopback: such an
// address on its port is the gateway too, as a URL and as the DNS answer for a name, whatever
// the sites say; on another port it is a site like any other. Entries naming one are a config
// error when the file tells the port; the gateway below gets its port from `--port`, after the
// file, so that its entries reach the running gateway (and its run-time refusal).

/** The first non-loopback IPv4 address of this machine, if it has one. */
const ownIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address;
/** The IPv4 address as one decimal number (`http://3221225986/` is `http://192.0.2.2/`). */
const asDecimal = (address: string) => String(address.split('.').reduce((n, part) => n * 256 + Number(part), 0));

/** This machine's name, and its address, when it resolves to one of the machine's own (as `/etc/hosts` usually has it). */
async function ownName(): Promise<string | null> {
  const name = hostname().toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost') || !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) return null;
  const own = listenerAddresses('0.0.0.0', networkInterfaces());
  const answers = await lookup(name, { all: true }).catch(() => []);
  const mine = answers.length > 0 && answers.every((a) => isLoopbackAddress(a.address) || own.has(addressKey(a.address) ?? ''));
  return mine ? name : null;
}

// Without such an address the run-time part has nothing to reach; listenerAddresses, isListenerHost
// and the DNS guard are unit-tested on a made-up machine (test/unit/allowlist.test.ts,
// test/unit/upstream-dns.test.ts), and the config part below partly runs anyway.
it.runIf(!ownIPv4)('this machine has no non-loopback IPv4 address: the gateway on 0.0.0.0 is tested through loopback only (above)', () => {
  const own = [...listenerAddresses('0.0.0.0', networkInterfaces())];
  expect(own.filter((key) => key.includes('.'))).toEqual([]);
});

describe.runIf(ownIPv4)(`the machine's own addresses, with the gateway on 0.0.0.0 (this machine's ${ownIPv4 ?? 'none'})`, () => {
  const own = ownIPv4 ?? '';
  let g: TestGateway;
  let site: Server;
  /** The site: on 0.0.0.0 as well, so that the machine's own addresses reach it on its port. */
  let sitePort = 0;
  let gwPort = 0;
  let machineName: string | null = null;
  let redirectHere = '';
  const gatewayCount = () => g.logs.filter((l) => l.msg === 'request' || l.msg === 'proxied').length;

  beforeAll(async () => {
    gwPort = await freePort();
    machineName = await ownName();
    site = createHttpServer((req, res) => {
      if (req.url === '/hop') {
        res.writeHead(302, { location: redirectHere });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body><img src="http://${own}:${gwPort}/x.png"><img src="http://${own}:${sitePort}/y.png">own site</body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(0, '0.0.0.0', resolve));
    sitePort = (site.address() as AddressInfo).port;
    const sites: unknown[] = [`http://${own}:${sitePort}`, `http://${own}:${gwPort}`];
    // A name of this machine, on a private network: allowed, but its answer is the gateway on its port.
    if (machineName)
      sites.push({ url: `http://${machineName}:${gwPort}`, privateNetwork: true }, { url: `http://${machineName}:${sitePort}`, privateNetwork: true });
    g = await startTestGateway({ demo: { enabled: false }, server: { host: '0.0.0.0', port: 0 }, sites }, {}, { port: gwPort });
    expect(g.gateway.port).toBe(gwPort);
  });

  afterAll(async () => {
    await g?.close();
    site?.close();
  });

  it('says at startup that the entry naming its own address on its port is refused', () => {
    const warned = g.logs.filter((l) => l.msg === "a site entry covers the gateway's own host: requests there are refused");
    expect(warned.map((l) => l.site)).toEqual([`http://${own}:${gwPort}`]);
  });

  it.each([
    ['its address', () => `http://${own}:${gwPort}/api/sessions`],
    ['its address in decimal', () => `http://${asDecimal(own)}:${gwPort}/`],
    ['its address IPv4-mapped', () => `http://[::ffff:${own}]:${gwPort}/`],
  ])('refuses a session that starts at %s on the gateway port (403 SITE_NOT_ALLOWED)', async (_what, url) => {
    const res = await g.call('POST', `${g.gateway.url}/api/sessions`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: url() }),
    });
    expect(res.status).toBe(403);
    expect(res.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: 'SITE_NOT_ALLOWED',
      message: `${new URL(url()).origin} is this cobrowsing gateway itself: it never proxies to itself.`,
    });
  });

  it('proxies the site at its own address on another port, and maps a redirect hop and a subresource to the gateway port to the "not allowed" page', async () => {
    const s = await createSession(g, `http://${own}:${sitePort}/`);
    const host = await g.join(s.hostUrl);
    const page = await g.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('own site');
    const blocked = `http://${own}:${gwPort}/x.png`;
    expect(page.text).toContain(`src="${g.gateway.url}/blocked?url=${encodeURIComponent(blocked)}"`);
    // The site's own subresource is proxied like the page.
    expect(page.text).not.toContain(`/blocked?url=${encodeURIComponent(`http://${own}:${sitePort}/y.png`)}`);

    redirectHere = `http://${own}:${gwPort}/api/sessions`;
    const hop = await g.call('GET', `${host.proxiedOrigin}/hop`, { headers: { cookie: host.cookie } });
    expect(hop.status).toBe(302);
    expect(hop.headers.location).toBe(`${g.gateway.url}/blocked?url=${encodeURIComponent(redirectHere)}`);
  });

  it('refuses a request to a table entry at its own address on its port, once (403 page, no stack trace)', async () => {
    const s = await createSession(g, `http://${own}:${sitePort}/`);
    const host = await g.join(s.hostUrl);
    const session = g.gateway.context.registry.get(s.id);
    if (!session) throw new Error('session not found');
    const label = session.origins.labelFor(`http://${own}:${gwPort}`) ?? '';
    const before = gatewayCount();
    const res = await g.call('GET', `${g.gateway.context.mapper.proxiedOrigin({ label, sessionId: s.id })}/api/sessions`, {
      headers: { cookie: host.cookie, accept: 'text/html,*/*;q=0.8', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' },
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('<code>SITE_NOT_ALLOWED</code>');
    expect(res.text).toContain(`http://${own}:${gwPort} is this cobrowsing gateway itself`);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    await new Promise((r) => setTimeout(r, 100));
    expect(gatewayCount() - before).toBe(1);
  });

  // Needs a name that resolves to this machine (its host name in /etc/hosts, as most machines have);
  // the DNS guard's own logic is unit-tested in test/unit/upstream-dns.test.ts whatever the machine.
  it('refuses a name whose DNS answer is this machine on the gateway port (403 SSRF_BLOCKED, page and site WebSocket), and proxies it on another port', async (ctx) => {
    if (!machineName) ctx.skip(`${hostname()} does not resolve to one of this machine's addresses here`);
    const name = machineName ?? '';
    const s = await createSession(g, `http://${name}:${sitePort}/`);
    const host = await g.join(s.hostUrl);
    const page = await g.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('own site');

    const session = g.gateway.context.registry.get(s.id);
    if (!session) throw new Error('session not found');
    const selfHost = g.gateway.context.mapper.proxiedOrigin({ label: session.origins.labelFor(`http://${name}:${gwPort}`) ?? '', sessionId: s.id });
    const before = gatewayCount();
    const res = await g.call('GET', `${selfHost}/api/sessions`, {
      headers: { cookie: host.cookie, accept: 'text/html,*/*;q=0.8', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' },
    });
    expect(res.status).toBe(403);
    expect(res.text).toContain('<code>SSRF_BLOCKED</code>');
    expect(res.text).toContain(`${name} resolves to`);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    await new Promise((r) => setTimeout(r, 100));
    expect(gatewayCount() - before).toBe(1);

    const ws = new WebSocket(`ws://127.0.0.1:${gwPort}/socket`, { headers: { host: new URL(selfHost).host, origin: host.proxiedOrigin, cookie: host.cookie } });
    const status = await new Promise<number | string>((resolve) => {
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('open', () => resolve('open'));
      ws.on('error', (err) => resolve(err.message));
    });
    ws.terminate();
    expect(status).toBe(403);
  });
});

describe("the config: a site entry at the machine's own address on server.port", () => {
  const problemsOf = (doc: Record<string, unknown>) => {
    try {
      validateConfig(doc, 'test config');
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems;
    }
  };
  const ownEntry = (host: string, entry: string, port = 8080) => problemsOf({ server: { host, port }, sites: ['https://shop.example.com', entry] });
  const refusal = (entry: string, host: string, port = 8080) => [
    {
      path: 'sites[1].url',
      message: `"${entry}" is this machine's own address on the port the gateway listens on (server.host ${host}, server.port ${port}): the gateway would proxy to itself; remove the entry, or listen on another port or address`,
    },
  ];

  it('is an error when the gateway listens on that address (whatever the interfaces say)', () => {
    expect(ownEntry('203.0.113.9', 'http://203.0.113.9:8080')).toEqual(refusal('http://203.0.113.9:8080', '203.0.113.9'));
    expect(ownEntry('2001:db8::9', 'http://[2001:db8::9]:8080')).toEqual(refusal('http://[2001:db8::9]:8080', '2001:db8::9'));
    expect(ownEntry('203.0.113.9', 'http://203.0.113.9', 80)).toEqual(refusal('http://203.0.113.9', '203.0.113.9', 80));
  });

  it('is no error on another port, for another address, or with server.port 0 (known only when the gateway listens)', () => {
    expect(ownEntry('203.0.113.9', 'http://203.0.113.9:8081')).toEqual([]);
    expect(ownEntry('203.0.113.9', 'http://203.0.113.10:8080')).toEqual([]);
    expect(ownEntry('203.0.113.9', 'http://203.0.113.9:8080', 0)).toEqual([]);
  });

  it.runIf(ownIPv4)(`is an error for an interface's address when the gateway listens on all of them (this machine's ${ownIPv4 ?? 'none'})`, () => {
    const entry = `http://${ownIPv4}:8080`;
    expect(ownEntry('0.0.0.0', entry)).toEqual(refusal(entry, '0.0.0.0'));
    expect(ownEntry('::', entry)).toEqual(refusal(entry, '::'));
    expect(ownEntry(ownIPv4 ?? '', entry)).toEqual(refusal(entry, ownIPv4 ?? ''));
    // On loopback only, the interface's address does not reach the gateway.
    expect(ownEntry('127.0.0.1', entry)).toEqual([]);
  });
});
