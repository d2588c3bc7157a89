// The site's own WebSockets: the host's page opens one to the real origin, the URL runtime sends it
// to the proxied host, and the gateway relays it to the real site (and refuses everyone else).

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let browser: Browser;
let site: Server;
let siteOrigin: string;
let forbidden: Server;
let forbiddenOrigin: string;
const upgrades: IncomingMessage[] = [];
const received: { bytes: number; isBinary: boolean; sha: string }[] = [];
const closes: { code: number; reason: string }[] = [];
let forbiddenUpgrades = 0;

const MB = 1024 * 1024;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The site's page: opens a WebSocket to its own real origin and writes what happens into #log. */
function page(wsOrigin: string): string {
  return `<!DOCTYPE html><html><head><title>site websocket</title></head><body><ul id="log"></ul><script>
const log = (line) => { const li = document.createElement('li'); li.textContent = line; document.getElementById('log').appendChild(li); };
const ws = new WebSocket('${wsOrigin}/echo?x=1', ['chat']);
ws.binaryType = 'arraybuffer';
ws.onopen = () => { log('open ' + ws.protocol); ws.send('hello'); ws.send(new Uint8Array([1, 2, 3, 255])); };
ws.onmessage = (ev) => log(typeof ev.data === 'string'
  ? (ev.data.length > 100 ? 'text-bytes ' + ev.data.length : 'text ' + ev.data)
  : 'binary ' + (ev.data.byteLength > 100 ? 'bytes ' + ev.data.byteLength : Array.from(new Uint8Array(ev.data)).join(',')));
ws.onclose = (ev) => log('close ' + ev.code + ' ' + ev.reason);
window.siteSocket = ws;
</script></body></html>`;
}

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
  wss.on('headers', (headers) => headers.push('Set-Cookie: ws_cookie=from-handshake; Path=/'));
  site = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'jar_cookie=from-http; Path=/' });
      res.end(page(siteOrigin.replace('http:', 'ws:')));
      return;
    }
    res.writeHead(404).end();
  });
  site.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (req.url?.startsWith('/slow')) {
      // Accepts the socket, then never reads from it.
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.pause();
      return;
    }
    upgrades.push(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data: Buffer, isBinary) => {
        received.push({ bytes: data.length, isBinary, sha: sha(data) });
        if (!isBinary && data.toString() === 'close-me') ws.close(4001, 'bye from upstream');
        else ws.send(data, { binary: isBinary });
      });
      ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    });
  });
  forbidden = createServer((_req, res) => res.end('never'));
  forbidden.on('upgrade', (_req, socket) => {
    forbiddenUpgrades++;
    socket.destroy();
  });
  siteOrigin = await listen(site);
  forbiddenOrigin = await listen(forbidden);
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: siteOrigin, name: 'WebSocket site' }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  site?.closeAllConnections();
  site?.close();
  forbidden?.close();
});

function logLines(p: Page): Promise<string[]> {
  return p.$$eval('#log li', (items) => items.map((li) => li.textContent ?? ''));
}

/** The status a WebSocket handshake to a proxied host gets (101 when it opens); `seen` gets the response headers. */
function handshakeStatus(proxiedUrl: string, headers: Record<string, string>, seen: IncomingMessage['headers'][] = []): Promise<number> {
  const url = new URL(proxiedUrl);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.gateway.port}${url.pathname}${url.search}`, { headers: { host: url.host, ...headers } });
    ws.on('upgrade', (res) => seen.push(res.headers));
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (err) => reject(err));
  });
}

async function openHostPage(): Promise<{ page: Page; session: Awaited<ReturnType<typeof createSession>>; close(): Promise<void> }> {
  const session = await createSession(t, `${siteOrigin}/`);
  const host = await newParticipant(browser);
  await host.page.goto(session.hostUrl);
  await expect.poll(() => logLines(host.page)).toContain('open chat');
  return { page: host.page, session, close: () => host.context.close() };
}

describe("the site's own WebSockets", () => {
  it('relays text and binary both ways with the real origin, subprotocol and jar cookies, and passes upstream closes on', async () => {
    const before = upgrades.length;
    const host = await openHostPage();
    await expect.poll(() => logLines(host.page)).toEqual(['open chat', 'text hello', 'binary 1,2,3,255']);

    const upgrade = upgrades[before];
    expect(upgrades).toHaveLength(before + 1);
    expect(upgrade?.url).toBe('/echo?x=1');
    expect(upgrade?.headers['sec-websocket-protocol']).toBe('chat');
    expect(upgrade?.headers.origin).toBe(siteOrigin);
    expect(upgrade?.headers.cookie).toBe('jar_cookie=from-http');
    expect(upgrade?.headers['user-agent']).toBe(await host.page.evaluate(() => navigator.userAgent));
    expect(upgrade?.headers.host).toBe(new URL(siteOrigin).host);
    // Set-Cookie on the upstream handshake went into the session's jar.
    const jar = t.gateway.context.registry.get(host.session.id)?.jar;
    expect(await jar?.cookieHeader(new URL(`${siteOrigin}/`), 'strict')).toBe('jar_cookie=from-http; ws_cookie=from-handshake');
    // The hub's socket on /__cobrowse/ws still reaches the hub, not the site.
    await expect.poll(() => t.gateway.hub.connectionCount).toBeGreaterThan(0);
    expect(upgrades.some((r) => r.url?.startsWith('/__cobrowse'))).toBe(false);

    await host.page.evaluate(() => (window as unknown as { siteSocket: WebSocket }).siteSocket.send('close-me'));
    await expect.poll(() => logLines(host.page)).toContain('close 4001 bye from upstream');
    await host.close();
  });

  it('passes 1 MB messages both ways, and a close from the page reaches upstream', async () => {
    const host = await openHostPage();
    const sizes = await host.page.evaluate((size) => {
      const ws = (window as unknown as { siteSocket: WebSocket }).siteSocket;
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 251;
      ws.send(bytes);
      ws.send('x'.repeat(size));
      return size;
    }, MB);
    expect(sizes).toBe(MB);
    await expect.poll(() => logLines(host.page)).toEqual(['open chat', 'text hello', 'binary 1,2,3,255', `binary bytes ${MB}`, `text-bytes ${MB}`]);
    const expected = new Uint8Array(MB);
    for (let i = 0; i < MB; i++) expected[i] = (i * 7) % 251;
    expect(received).toContainEqual({ bytes: MB, isBinary: true, sha: sha(expected) });
    expect(received).toContainEqual({ bytes: MB, isBinary: false, sha: sha(Buffer.from('x'.repeat(MB))) });
    const echoed = await host.page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const ws = (window as unknown as { siteSocket: WebSocket }).siteSocket;
          ws.addEventListener('message', (ev) => {
            if (ev.data instanceof ArrayBuffer && ev.data.byteLength > 100) resolve(new Uint8Array(ev.data).reduce((a, b) => (a + b) % 65521, 0));
          });
          const bytes = new Uint8Array(1024 * 1024).fill(9);
          ws.send(bytes);
        }),
    );
    expect(echoed).toBe((9 * MB) % 65521);

    const closesBefore = closes.length;
    await host.page.evaluate(() => (window as unknown as { siteSocket: WebSocket }).siteSocket.close(4002, 'bye from page'));
    await expect.poll(() => closes.slice(closesBefore)).toEqual([{ code: 4002, reason: 'bye from page' }]);
    await host.close();
  });

  it('refuses followers, strangers and pages outside the session; the site never sees them', async () => {
    const host = await openHostPage();
    const proxied = new URL(host.page.url()).origin;
    const before = upgrades.length;
    const observer = await t.join(host.session.observeUrl);
    expect(new URL(observer.proxiedOrigin).origin).toBe(proxied);
    expect(await handshakeStatus(`${proxied}/echo`, { cookie: observer.cookie })).toBe(403);
    expect(t.logs.some((l) => String(l.msg).includes("refused a follower's site WebSocket") && l.role === 'observer')).toBe(true);
    expect(await handshakeStatus(`${proxied}/echo`, {})).toBe(401);
    const controller = await t.join(host.session.joinUrl);
    expect(await handshakeStatus(`${proxied}/echo`, { cookie: controller.cookie })).toBe(403);
    const hostCookie = (await host.page.context().cookies(proxied)).find((c) => c.name === '__cobrowse');
    expect(hostCookie?.httpOnly).toBe(true);
    const asHost = { cookie: `__cobrowse=${hostCookie?.value}` };
    // The host's cookie ridden by a page of another origin (cross-site WebSocket hijacking).
    expect(await handshakeStatus(`${proxied}/echo`, { ...asHost, origin: 'http://evil.example' })).toBe(403);
    expect(await handshakeStatus(`${proxied}/__cobrowse/blocked-origin/${encodeURIComponent(forbiddenOrigin)}/x`, asHost)).toBe(403);
    expect(await handshakeStatus(`${proxied}/__cobrowse/nothing`, asHost)).toBe(404);
    expect(upgrades).toHaveLength(before);
    const seen: IncomingMessage['headers'][] = [];
    expect(await handshakeStatus(`${proxied}/echo`, asHost, seen)).toBe(101);
    expect(upgrades).toHaveLength(before + 1);
    expect(upgrades[before]?.headers.origin).toBeUndefined();
    // Upstream's Set-Cookie stays in the jar; the browser never sees it.
    expect(seen[0]?.['set-cookie']).toBeUndefined();
    const logged = JSON.stringify(t.logs);
    for (const secret of [hostCookie?.value, observer.cookie.split('=')[1], 'from-http']) expect(logged).not.toContain(secret);
    for (const r of upgrades) expect(r.headers.cookie ?? '').not.toContain('__cobrowse');
    await host.close();
  });

  it('refuses origins outside the allowlist, and a refused upstream handshake fails in the browser', async () => {
    const host = await openHostPage();
    const result = await host.page.evaluate(
      async ([bad, good]) => {
        const attempt = (url: string) =>
          new Promise<string>((resolve) => {
            const ws = new globalThis.WebSocket(url);
            const events: string[] = [];
            ws.onopen = () => events.push('open');
            ws.onerror = () => events.push('error');
            ws.onclose = (ev) => resolve(`${ws.url.replace(/^ws:\/\/[^/]+/, '')} ${events.join(',')} ${ev.code}`);
          });
        return [await attempt(`${bad}/socket`), await attempt(`${good}/refuse`)];
      },
      [forbiddenOrigin.replace('http:', 'ws:'), siteOrigin.replace('http:', 'ws:')],
    );
    expect(result[0]).toBe(`/__cobrowse/blocked-origin/${encodeURIComponent(forbiddenOrigin)}/socket error 1006`);
    expect(result[1]).toBe('/refuse error 1006');
    expect(forbiddenUpgrades).toBe(0);
    expect(t.logs).toContainEqual(
      expect.objectContaining({ msg: 'site websocket refused', code: 'SITE_NOT_ALLOWED', role: 'host', sessionId: host.session.id }),
    );
    expect(t.logs).toContainEqual(
      expect.objectContaining({ msg: 'site websocket upstream failed', code: 'UPSTREAM_FAILED', role: 'host', origin: siteOrigin }),
    );
    await host.close();
  });

  it('closes the socket with 1013 when upstream does not read what the page sends', async () => {
    const host = await openHostPage();
    const closed = await host.page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new globalThis.WebSocket(url);
          ws.onopen = () => {
            for (let i = 0; i < 40; i++) ws.send(new Uint8Array(1024 * 1024));
          };
          ws.onclose = (ev) => resolve(`${ev.code} ${ev.reason}`);
        }),
      `${siteOrigin.replace('http:', 'ws:')}/slow`,
    );
    expect(closed).toBe('1013 upstream is not keeping up');
    expect(t.logs).toContainEqual(expect.objectContaining({ msg: 'site websocket closed: upstream is not keeping up', sessionId: host.session.id }));
    await host.close();
  });

  it('closes the site sockets when the session ends', async () => {
    const host = await openHostPage();
    const closesBefore = closes.length;
    const res = await t.call('DELETE', `${t.gateway.url}/api/sessions/${host.session.id}`, { headers: { authorization: `Bearer ${host.session.adminToken}` } });
    expect(res.status).toBeLessThan(300);
    await expect.poll(() => logLines(host.page)).toContain('close 1001 session ended');
    await expect.poll(() => closes.slice(closesBefore)).toEqual([{ code: 1001, reason: 'session ended' }]);
    await host.close();
  });
});
