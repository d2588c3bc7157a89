// The session API, join flow and proxied-host access rules against a real gateway and demo site.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ sites: [{ url: 'https://*.allowed.example', name: 'Allowed' }] });
});
afterAll(async () => {
  await t?.close();
});

const json = { 'content-type': 'application/json' };

describe('POST /api/sessions', () => {
  it('answers 201 with the session links for an allowed URL', async () => {
    const before = Date.now();
    const s = await createSession(t, `${t.demoOrigin}/products?x=1`);
    expect(s.id).toMatch(/^[a-z2-7]{26}$/);
    for (const link of [s.hostUrl, s.joinUrl, s.observeUrl]) expect(link).toMatch(new RegExp(`^${t.gateway.url}/j/[A-Za-z0-9_-]{32}$`));
    expect(new Set([s.hostUrl, s.joinUrl, s.observeUrl]).size).toBe(3);
    expect(Date.parse(s.expiresAt)).toBeGreaterThan(before + 29 * 60_000);
  });

  it.each([
    ['not JSON', '{"url":', 400, 'BAD_REQUEST'],
    ['an array', '[]', 400, 'BAD_REQUEST'],
    ['no url', '{}', 400, 'BAD_REQUEST'],
    ['a relative url', '{"url":"/products"}', 400, 'BAD_REQUEST'],
    ['a javascript: url', '{"url":"javascript:alert(1)"}', 400, 'BAD_REQUEST'],
    ['a site outside the allowlist', '{"url":"https://evil.example.org/"}', 403, 'SITE_NOT_ALLOWED'],
    ['the bare domain of a wildcard entry', '{"url":"https://allowed.example/"}', 403, 'SITE_NOT_ALLOWED'],
    ['a suffix trick', '{"url":"https://allowed.example.evil.org/"}', 403, 'SITE_NOT_ALLOWED'],
    // Refused as what they are (the allowlist refuses them too, but said the site was not allowed).
    ['credentials in the URL', '{"url":"https://user:pw@a.allowed.example/"}', 400, 'BAD_REQUEST', 'must not carry a user name or password'],
    ['an allowed name as the user name', '{"url":"https://a.allowed.example@evil.example.org/"}', 400, 'BAD_REQUEST', 'must not carry a user name or password'],
  ])('refuses %s', async (_name, body, status, code, says?: string) => {
    const res = await t.call('POST', `${t.gateway.url}/api/sessions`, { headers: json, body });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const err = res.json<{ error: { code: string; message: string } }>().error;
    expect(err.code).toBe(code);
    expect(err.message.length).toBeGreaterThan(10);
    if (says) expect(err.message).toContain(says);
  });

  it('accepts a subdomain of a wildcard entry', async () => {
    const res = await t.call('POST', `${t.gateway.url}/api/sessions`, { headers: json, body: '{"url":"https://shop.allowed.example/cart"}' });
    expect(res.status).toBe(201);
  });
});

describe('GET and DELETE /api/sessions/:id', () => {
  it('needs the session admin token, reports participants, and ends the session for everyone', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const url = `${t.gateway.url}/api/sessions/${s.id}`;
    expect((await t.call('GET', url)).status).toBe(401);
    expect((await t.call('GET', url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const auth = { authorization: `Bearer ${s.adminToken}` };

    const host = await t.join(s.hostUrl);
    await t.join(s.observeUrl);
    const info = await t.call('GET', url, { headers: auth });
    expect(info.status).toBe(200);
    const body = info.json<{ id: string; url: string; participants: { role: string; connected: boolean }[] }>();
    expect(body.id).toBe(s.id);
    expect(body.url).toBe(`${t.demoOrigin}/`);
    expect(body.participants.map((p) => p.role).sort()).toEqual(['host', 'observer']);
    expect(body.participants.some((p) => p.connected)).toBe(false);

    expect((await t.call('DELETE', url, { headers: auth })).status).toBe(204);
    expect((await t.call('GET', url, { headers: auth })).status).toBe(404);
    const page = await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie, accept: 'text/html' } });
    expect(page.status).toBe(404);
    expect(page.text).toContain('session has ended');
    expect((await t.call('GET', s.hostUrl)).status).toBe(404);
  });

  it('answers 404 for an unknown session', async () => {
    const res = await t.call('GET', `${t.gateway.url}/api/sessions/aaaaaaaaaaaaaaaaaaaaaaaaaa`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(404);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('SESSION_NOT_FOUND');
  });
});

describe('join flow and proxied hosts', () => {
  it('hands the participant a host-only cookie through a one-time ticket', async () => {
    const s = await createSession(t, `${t.demoOrigin}/about`);
    const first = await t.call('GET', s.hostUrl);
    expect(first.status).toBe(302);
    const enter = new URL(String(first.headers.location));
    expect(enter.hostname).toBe(`o1--${s.id}.cobrowse.localhost`);
    expect(enter.pathname).toBe('/__cobrowse/enter');
    const gatewayCookie = String(first.headers['set-cookie']);
    expect(gatewayCookie).toMatch(/HttpOnly/);
    expect(gatewayCookie).not.toMatch(/Domain=/i);

    const second = await t.call('GET', enter.href);
    expect(second.status).toBe(302);
    expect(second.headers.location).toBe('/about');
    const cookie = String(second.headers['set-cookie']);
    expect(cookie).toMatch(/^__cobrowse=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; SameSite=Lax$/);

    const reused = await t.call('GET', enter.href, { headers: { accept: 'text/html' } });
    expect(reused.status).toBe(403);
    expect(reused.text).toContain('TICKET_INVALID');
  });

  it('sends a navigation without the cookie back through the gateway host, and refuses other requests', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const origin = `http://o1--${s.id}.cobrowse.localhost:${t.gateway.port}`;
    const nav = await t.call('GET', `${origin}/products?a=1`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
    expect(nav.status).toBe(302);
    expect(nav.headers.location).toBe(`${t.gateway.url}/t/${s.id}?host=o1&to=${encodeURIComponent('/products?a=1')}`);
    const bounce = await t.call('GET', String(nav.headers.location), { headers: { accept: 'text/html' } });
    expect(bounce.status).toBe(403);
    expect(bounce.text).toContain('not a participant');

    const xhr = await t.call('GET', `${origin}/api/time`, { headers: { accept: '*/*', 'sec-fetch-dest': 'empty' } });
    expect(xhr.status).toBe(401);
    expect(xhr.json<{ error: { code: string } }>().error.code).toBe('NOT_A_PARTICIPANT');

    const other = await createSession(t, `${t.demoOrigin}/`);
    const member = await t.join(other.hostUrl);
    const crossSession = await t.call('GET', `${origin}/api/time`, { headers: { cookie: member.cookie } });
    expect(crossSession.status).toBe(401);
  });

  it('proxies for the host and never forwards gateway cookies upstream', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    const page = await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(
      /<head>\s*<script src="\/__cobrowse\/inject.js" data-cobrowse="" data-mask="\[&quot;.private&quot;\]" data-cookies="[^"]*" data-origin="http:\/\/127\.0\.0\.1:\d+" data-origins="[^"]*"[^>]*><\/script>/,
    );
    expect(page.headers['set-cookie']).toBeUndefined();
    const bundle = await t.call('GET', `${host.proxiedOrigin}/__cobrowse/inject.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
  });

  it('lets followers load assets but not send requests that change state or open live pages', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const observer = await t.join(s.observeUrl);
    expect(observer.landing).toBe('/__cobrowse/view');
    const h = { cookie: observer.cookie };
    expect((await t.call('GET', `${observer.proxiedOrigin}/static/site.css`, { headers: h })).status).toBe(200);
    const post = await t.call('POST', `${observer.proxiedOrigin}/logout`, { headers: h, body: '' });
    expect(post.status).toBe(403);
    const nav = await t.call('GET', `${observer.proxiedOrigin}/products`, { headers: { ...h, 'sec-fetch-dest': 'document' } });
    expect(nav.status).toBe(302);
    expect(nav.headers.location).toBe('/__cobrowse/view');
    expect(t.logs.some((l) => l.msg === 'blocked a follower request that could change state' && l.role === 'observer')).toBe(true);
  });

  it('answers 404 for hosts it does not serve', async () => {
    const res = await t.call('GET', `http://evil.example.org:${t.gateway.port}/`);
    expect(res.status).toBe(404);
    expect(res.text).toContain('UNKNOWN_HOST');
    const fake = await t.call('GET', `http://o1--aaaaaaaaaaaaaaaaaaaaaaaaaa.cobrowse.localhost:${t.gateway.port}/`, { headers: { accept: 'text/html' } });
    expect(fake.status).toBe(404);
  });

  it('reports health', async () => {
    const res = await t.call('GET', `${t.gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.json<{ status: string }>().status).toBe('ok');
  });
});

describe('hub roles and validation', () => {
  function open(origin: string, cookie: string | null): Promise<{ ws: WebSocket; messages: unknown[]; closed: Promise<number> }> {
    const url = origin.replace(/^http:\/\/([^/]+)/, `ws://127.0.0.1:${t.gateway.port}`);
    const host = new URL(origin).host;
    const ws = new WebSocket(`${url}/__cobrowse/ws`, { headers: { host, origin: new URL(origin).origin, ...(cookie ? { cookie } : {}) } });
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      ws.on('open', () => resolve({ ws, messages, closed }));
      ws.on('error', reject);
    });
  }

  const tree = { t: 'doc', id: 1, c: [{ t: 'el', id: 2, tag: 'html', a: {}, c: [] }] };

  it('refuses a socket without a participant cookie', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    await expect(open(`http://o1--${s.id}.cobrowse.localhost:${t.gateway.port}`, null)).rejects.toThrow(/401/);
  });

  it('broadcasts the host snapshot, drops an observer snapshot, and closes on a malformed message', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const hostP = await t.join(s.hostUrl);
    const obsP = await t.join(s.observeUrl);
    const host = await open(hostP.proxiedOrigin, hostP.cookie);
    const observer = await open(obsP.proxiedOrigin, obsP.cookie);
    host.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    observer.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => observer.messages.some((m) => (m as { type: string }).type === 'waiting-for-host')).toBe(true);

    host.ws.send(JSON.stringify({ type: 'snapshot', url: `${hostP.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree }));
    await expect.poll(() => observer.messages.filter((m) => (m as { type: string }).type === 'snapshot').length).toBe(1);
    expect(observer.messages.find((m) => (m as { type: string }).type === 'snapshot')).toMatchObject({ seq: 1, title: 'Home' });

    observer.ws.send(JSON.stringify({ type: 'snapshot', url: `${obsP.proxiedOrigin}/`, title: 'Forged', viewport: { w: 1, h: 1 }, tree }));
    observer.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    expect(await observer.closed).toBe(4400);
    expect(t.logs.some((l) => l.msg === 'dropped message from a participant who is not the live host' && l.role === 'observer')).toBe(true);

    const late = await open(obsP.proxiedOrigin, obsP.cookie);
    late.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => late.messages.filter((m) => (m as { type: string }).type === 'snapshot').length).toBe(1);
    expect(late.messages.find((m) => (m as { type: string }).type === 'snapshot')).toMatchObject({ title: 'Home' });

    // Input: an observer's is dropped at the server whatever its client sends; a controller's reaches the host.
    const obs2 = await open(obsP.proxiedOrigin, obsP.cookie);
    obs2.ws.send(JSON.stringify({ type: 'input', event: { kind: 'click', target: 2, x: 1, y: 1 } }));
    await expect.poll(() => obs2.messages.some((m) => (m as { code?: string }).code === 'FORBIDDEN')).toBe(true);
    expect(t.logs.some((l) => l.msg === 'dropped input from an observer' && l.participantId !== undefined)).toBe(true);
    const ctlP = await t.join(s.joinUrl);
    const ctl = await open(ctlP.proxiedOrigin, ctlP.cookie);
    ctl.ws.send(JSON.stringify({ type: 'input', event: { kind: 'navigate', url: '/about' } }));
    await expect.poll(() => host.messages.filter((m) => (m as { type: string }).type === 'input')).toHaveLength(1);
    expect(host.messages.find((m) => (m as { type: string }).type === 'input')).toMatchObject({ event: { kind: 'navigate', url: '/about' } });
    obs2.ws.close();
    ctl.ws.close();

    host.ws.send('{"type":"mutations","batch":[{"k":"explode"}]}');
    expect(await host.closed).toBe(4400);
    expect(host.messages.find((m) => (m as { type: string }).type === 'error')).toMatchObject({ code: 'BAD_MESSAGE' });
    late.ws.close();
  });
});

describe('idle expiry', () => {
  it('ends a session nobody uses after the configured idle time', async () => {
    const short = await startTestGateway({ sessions: { idleTimeout: '1s' } }, { sweepIntervalMs: 100 });
    try {
      const s = await createSession(short, `${short.demoOrigin}/`);
      const auth = { authorization: `Bearer ${s.adminToken}` };
      expect((await short.call('GET', `${short.gateway.url}/api/sessions/${s.id}`, { headers: auth })).status).toBe(200);
      await expect
        .poll(async () => (await short.call('GET', `${short.gateway.url}/api/sessions/${s.id}`, { headers: auth })).status, { timeout: 5000 })
        .toBe(404);
    } finally {
      await short.close();
    }
  });
});

describe('API key', () => {
  it('requires the key to create sessions when GATEWAY_API_KEY is set', async () => {
    const keyed = await startTestGateway({}, { apiKey: 'k-123456' });
    try {
      const body = JSON.stringify({ url: `${keyed.demoOrigin}/` });
      const none = await keyed.call('POST', `${keyed.gateway.url}/api/sessions`, { headers: json, body });
      expect(none.status).toBe(401);
      expect(none.json<{ error: { code: string } }>().error.code).toBe('UNAUTHORIZED');
      const ok = await keyed.call('POST', `${keyed.gateway.url}/api/sessions`, { headers: { ...json, authorization: 'Bearer k-123456' }, body });
      expect(ok.status).toBe(201);
    } finally {
      await keyed.close();
    }
  });
});
