// Operating the gateway (issue 9): structured logs without secrets, /metrics moving under load,
// health and readiness, graceful shutdown of a real process (SIGTERM during a session and a slow
// download), the configuration reference generated from the schema, --check-config, the Procfile.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../config/schema.js';
import { configReferenceMarkdown, SETTINGS } from '../config/settings.js';
import type { IncomingRequest } from '../gateway/http-bridge.js';
import { Lifecycle } from '../gateway/lifecycle.js';
import { Logger } from '../gateway/log.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';
import { clientAddress, loggablePath } from '../gateway/request-entry.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { callNode as call } from './helpers/hub-client.js';

const dir = mkdtempSync(join(tmpdir(), 'cobrowse-ops-'));
const METRICS_TOKEN = 'metrics-token-7f3a9c';
const json = { 'content-type': 'application/json' };
/** Polls wait this long: the machine may be busy with other test files. */
const POLL = { timeout: 5000 };

// ---------------------------------------------------------------------------------------------
// Helpers: raw HTTP and WebSocket calls to a gateway on 127.0.0.1 with the right Host header.

/** Follows a join link like a browser; returns the participant cookie and the proxied origin. */
async function joinLink(port: number, link: string): Promise<{ cookie: string; token: string; origin: string }> {
  const first = await call(port, 'GET', link);
  if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
  const enter = new URL(String(first.headers.location));
  const second = await call(port, 'GET', enter.href);
  if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
  const cookie = String(second.headers['set-cookie']).split(';')[0] ?? '';
  return { cookie, token: cookie.split('=')[1] ?? '', origin: enter.origin };
}

interface Socket {
  ws: WebSocket;
  messages: { type: string; code?: string; [k: string]: unknown }[];
  closed: Promise<number>;
}

function openSocket(port: number, origin: string, cookie: string | null): Promise<Socket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/__cobrowse/ws`, {
    headers: { host: new URL(origin).host, origin: new URL(origin).origin, ...(cookie ? { cookie } : {}) },
  });
  const messages: Socket['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}

const tree = (text = 'hello') => ({
  t: 'doc',
  id: 1,
  c: [{ t: 'el', id: 2, tag: 'html', a: {}, c: [{ t: 'el', id: 3, tag: 'body', a: {}, c: [{ t: 'txt', id: 4, v: text }] }] }],
});

// ---------------------------------------------------------------------------------------------
// Prometheus text: parsed into samples; `value` sums the samples of a name whose labels include `labels`.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

// ---------------------------------------------------------------------------------------------

describe('logs', () => {
  it('writes JSON lines with bound fields, redacts secret-named fields, and reads levels and formats', () => {
    const lines: string[] = [];
    const log = new Logger('info', (l) => lines.push(l));
    log.child({ sessionId: 's1' }).info('session created', { origin: 'https://a.example', cookie: 'sid=abc', adminToken: 'tok', maxCookies: 3 });
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', msg: 'session created', sessionId: 's1', cookie: '[redacted]', adminToken: '[redacted]', maxCookies: 3 });
    expect(Date.parse(String(record.time))).toBeGreaterThan(0);

    const pretty: string[] = [];
    new Logger('debug', (l) => pretty.push(l), { format: 'pretty' }).warn('proxied', { sessionId: 's1', path: '/a b' });
    expect(pretty[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}proxied {2}sessionId=s1 path="\/a b"$/);

    expect(Logger.levelFrom('debug')).toBe('debug');
    expect(Logger.levelFrom('loud')).toBe('info');
    expect(Logger.formatFrom('auto', true)).toBe('pretty');
    expect(Logger.formatFrom('auto', false)).toBe('json');
    expect(Logger.formatFrom('json', true)).toBe('json');
    expect(Logger.formatFrom(undefined, false)).toBe('json');
  });
});

describe('request fields and lifecycle', () => {
  it('logs paths without queries or join-link secrets, and reads the client address through trusted proxies only', () => {
    expect(loggablePath('gateway', '/j/AbCdEf0123456789AbCdEf0123456789')).toBe('/j/:invite');
    expect(loggablePath('proxied', '/j/visible-on-the-site')).toBe('/j/visible-on-the-site');
    expect(loggablePath('proxied', '/reset?token=abc')).toBe('/reset');
    expect(loggablePath('proxied', `/${'a'.repeat(300)}`)).toHaveLength(203);
    const req = (xff?: string): IncomingRequest => ({ method: 'GET', url: '/', remoteAddress: '10.0.0.5', headers: xff ? { 'x-forwarded-for': xff } : {} });
    expect(clientAddress(req('203.0.113.7'), 0)).toBe('10.0.0.5');
    expect(clientAddress(req(), 1)).toBe('10.0.0.5');
    expect(clientAddress(req('203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(clientAddress(req('6.6.6.6, 203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(clientAddress(req('6.6.6.6, 203.0.113.7, 10.0.0.2'), 2)).toBe('203.0.113.7');
    expect(clientAddress(req('203.0.113.7'), 3)).toBe('203.0.113.7');
  });

  it('waits for in-flight requests within a deadline, and combines readiness checks with the state', async () => {
    const life = new Lifecycle();
    expect(await life.whenIdle(10)).toBe(true);
    const end = life.begin();
    expect(life.requestsInFlight).toBe(1);
    expect(await life.whenIdle(30)).toBe(false);
    const idle = life.whenIdle(1000);
    setTimeout(end, 20);
    expect(await idle).toBe(true);
    end();
    expect(life.requestsInFlight).toBe(0);

    life.addReadinessCheck('fine', () => null);
    life.addReadinessCheck('broken', async () => {
      throw new Error('connection refused');
    });
    expect(await life.readiness()).toEqual({ ready: false, state: 'running', checks: { fine: 'ok', broken: 'connection refused' } });
    life.addReadinessCheck('broken', () => null);
    expect((await life.readiness()).ready).toBe(true);
    expect(life.startDraining()).toBe(true);
    expect(life.startDraining()).toBe(false);
    expect(await life.readiness()).toMatchObject({ ready: false, state: 'draining' });
  });
});

describe('a running gateway', () => {
  let t: TestGateway;
  let readinessProblem: string | null = null;
  beforeAll(async () => {
    t = await startTestGateway({}, { metricsToken: METRICS_TOKEN, readinessChecks: { redis: () => readinessProblem } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async (): Promise<Sample[]> => {
    const res = await t.call('GET', `${t.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return parseMetrics(res.text);
  };

  it('logs every session line with its session, proxied requests with status, bytes and time, and never a secret', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    const observer = await t.join(s.observeUrl);
    const hostToken = host.cookie.split('=')[1]!;
    const observerToken = observer.cookie.split('=')[1]!;
    const h = { cookie: host.cookie };

    expect((await t.call('GET', `${host.proxiedOrigin}/`, { headers: h })).status).toBe(200);
    const siteCookie = 'sitecookie4f1d2e';
    expect((await t.call('GET', `${host.proxiedOrigin}/api/set-cookie?name=zz_pref&value=${siteCookie}`, { headers: h })).status).toBe(200);
    const login = await t.call('GET', `${host.proxiedOrigin}/login`, { headers: h });
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '';
    const bodySecret = 'BodySecretUser8c2';
    const signedIn = await t.call('POST', `${host.proxiedOrigin}/login`, {
      headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=${bodySecret}&password=demo&csrf=${csrf}`,
    });
    expect(signedIn.status).toBe(303);
    const echo = await t.call('GET', `${host.proxiedOrigin}/api/echo`, { headers: h });
    const upstreamCookie = echo.json<{ cookie: string }>().cookie;
    expect(upstreamCookie).toContain(`zz_pref=${siteCookie}`);
    const demoSession = /demo_session=([^;]+)/.exec(upstreamCookie)?.[1] ?? '';
    expect(demoSession.length).toBeGreaterThan(8);

    const port = t.gateway.port;
    const live = await openSocket(port, host.proxiedOrigin, host.cookie);
    live.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    live.ws.send(JSON.stringify({ type: 'snapshot', url: `${host.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: tree() }));
    const follower = await openSocket(port, observer.proxiedOrigin, observer.cookie);
    follower.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    const maskedValue = 'MaskedValue-5b77';
    follower.ws.send(JSON.stringify({ type: 'input', event: { kind: 'value', target: 4, value: maskedValue } }));
    await expect.poll(() => follower.messages.some((m) => m.code === 'FORBIDDEN'), POLL).toBe(true);
    live.ws.close();
    follower.ws.close();
    await Promise.all([live.closed, follower.closed]);
    const auth = { authorization: `Bearer ${s.adminToken}` };
    expect((await t.call('DELETE', `${t.gateway.url}/api/sessions/${s.id}`, { headers: auth })).status).toBe(204);

    await expect.poll(() => t.logs.filter((l) => l.msg === 'participant disconnected' && l.sessionId === s.id).length, POLL).toBe(2);
    const mine = t.logs.filter((l) => l.sessionId === s.id);
    for (const line of t.logs) {
      expect(typeof line.time).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
      if (line.participantId !== undefined) {
        expect(line.sessionId, JSON.stringify(line)).toBeTypeOf('string');
        expect(line.role, JSON.stringify(line)).toMatch(/^(host|controller|observer)$/);
      }
    }
    const messages = new Set(mine.map((l) => l.msg));
    for (const msg of [
      'session created',
      'participant joined',
      'participant connected',
      'participant disconnected',
      'proxied',
      'dropped input from an observer',
      'session ended',
    ]) {
      expect(messages, msg).toContain(msg);
    }
    const joined = mine.filter((l) => l.msg === 'participant joined').map((l) => l.role);
    expect(joined.sort()).toEqual(['host', 'observer']);

    const proxied = mine.filter((l) => l.msg === 'proxied');
    expect(proxied.length).toBeGreaterThanOrEqual(5);
    for (const line of proxied) {
      expect(line).toMatchObject({ participantId: expect.any(String), role: 'host', origin: t.demoOrigin, host: 'proxied' });
      expect(line.status).toBeTypeOf('number');
      expect(line.bytes).toBeTypeOf('number');
      expect(line.ms).toBeTypeOf('number');
      expect(line.upstreamMs).toBeTypeOf('number');
      expect(['html', 'other']).toContain(line.kind);
    }
    const home = proxied.find((l) => l.path === '/' && l.kind === 'html');
    expect(home?.status).toBe(200);
    expect(Number(home?.bytes)).toBeGreaterThan(200);
    expect(home?.rewriteMs).toBeTypeOf('number');
    expect(proxied.find((l) => l.path === '/login' && l.method === 'POST')).toMatchObject({ status: 303, bytesIn: expect.any(Number) });
    expect(proxied.some((l) => String(l.path).includes('?'))).toBe(false);
    expect(t.logs.some((l) => String(l.path ?? '').startsWith('/j/') && l.path !== '/j/:invite')).toBe(false);

    const all = JSON.stringify(t.logs);
    const invites = [s.hostUrl, s.joinUrl, s.observeUrl].map((u) => u.split('/').pop()!);
    for (const secret of [s.adminToken, hostToken, observerToken, siteCookie, demoSession, csrf, bodySecret, maskedValue, ...invites]) {
      expect(secret.length).toBeGreaterThan(5);
      expect(all).not.toContain(secret);
    }
  });

  it('serves /metrics behind its token, and its counters move under a short load', async () => {
    const scraped = await t.call('GET', `${t.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const before = parseMetrics(scraped.text);
    const unauthenticated = await t.call('GET', `${t.gateway.url}/metrics`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await t.call('GET', `${t.gateway.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);

    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    const observer = await t.join(s.observeUrl);
    const h = { cookie: host.cookie };
    const paths = ['/', '/products', '/about', '/static/site.css', '/api/time'];
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => t.call('GET', `${host.proxiedOrigin}${paths[i % paths.length]}`, { headers: h })));
    expect(statuses.every((r) => r.status === 200)).toBe(true);
    expect((await t.call('GET', `${host.proxiedOrigin}/no-such-page`, { headers: h })).status).toBe(404);
    const refused = await t.call('POST', `${t.gateway.url}/api/sessions`, { headers: json, body: '{"url":"https://evil.example.org/"}' });
    expect(refused.status).toBe(403);

    const port = t.gateway.port;
    await expect(openSocket(port, host.proxiedOrigin, null)).rejects.toThrow(/401/);
    const live = await openSocket(port, host.proxiedOrigin, host.cookie);
    live.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    live.ws.send(JSON.stringify({ type: 'snapshot', url: `${host.proxiedOrigin}/`, title: 'Home', viewport: { w: 800, h: 600 }, tree: tree() }));
    const follower = await openSocket(port, observer.proxiedOrigin, observer.cookie);
    follower.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => follower.messages.some((m) => m.type === 'snapshot'), POLL).toBe(true);
    for (let i = 0; i < 5; i++) live.ws.send(JSON.stringify({ type: 'mutations', batch: [{ k: 'text', id: 4, v: `tick ${i}` }] }));
    await expect.poll(() => follower.messages.filter((m) => m.type === 'mutations').length, POLL).toBe(5);

    const during = await scrape();
    expect(value(during, 'cobrowse_participants_connected', { role: 'host' })).toBeGreaterThanOrEqual(1);
    expect(value(during, 'cobrowse_participants_connected', { role: 'observer' })).toBeGreaterThanOrEqual(1);
    expect(value(during, 'cobrowse_ws_connections')).toBeGreaterThanOrEqual(2);
    expect(value(during, 'cobrowse_sessions_open')).toBeGreaterThanOrEqual(1);

    const bad = await openSocket(port, observer.proxiedOrigin, observer.cookie);
    bad.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'sideways' }));
    expect(await bad.closed).toBe(4400);
    const flood = await openSocket(port, observer.proxiedOrigin, observer.cookie);
    for (let i = 0; i < 450; i++) flood.ws.send('{"type":"input","event":{"kind":"history","action":"back"}}');
    expect(await flood.closed).toBe(4400);
    expect(flood.messages.some((m) => m.code === 'RATE_LIMITED')).toBe(true);
    live.ws.close();
    follower.ws.close();
    await Promise.all([live.closed, follower.closed]);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('cobrowse_sessions_created_total')).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_http_requests_total', { host: 'proxied' })).toBeGreaterThanOrEqual(41);
    expect(delta('cobrowse_http_requests_total', { host: 'gateway' })).toBeGreaterThanOrEqual(5);
    expect(delta('cobrowse_proxied_requests_total', { status_class: '2xx', kind: 'html' })).toBeGreaterThanOrEqual(24);
    // Stylesheets are rewritten (kind css); images and scripts pass through (kind other).
    expect(
      delta('cobrowse_proxied_requests_total', { status_class: '2xx', kind: 'other' }) +
        delta('cobrowse_proxied_requests_total', { status_class: '2xx', kind: 'css' }),
    ).toBeGreaterThanOrEqual(16);
    expect(delta('cobrowse_proxied_requests_total', { status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_upstream_latency_seconds_count')).toBeGreaterThanOrEqual(41);
    expect(delta('cobrowse_upstream_latency_seconds_sum')).toBeGreaterThan(0);
    expect(delta('cobrowse_html_rewrite_seconds_count')).toBeGreaterThanOrEqual(24);
    expect(delta('cobrowse_http_bytes_total', { direction: 'out' })).toBeGreaterThan(40 * 100);
    expect(delta('cobrowse_http_bytes_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(delta('cobrowse_ws_messages_total', { direction: 'in', type: 'hello' })).toBeGreaterThanOrEqual(2);
    expect(delta('cobrowse_ws_messages_total', { direction: 'in', type: 'snapshot' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_ws_messages_total', { direction: 'in', type: 'mutations' })).toBeGreaterThanOrEqual(5);
    expect(delta('cobrowse_ws_messages_total', { direction: 'out', type: 'welcome' })).toBeGreaterThanOrEqual(4);
    expect(delta('cobrowse_ws_messages_total', { direction: 'out', type: 'mutations' })).toBeGreaterThanOrEqual(5);
    expect(delta('cobrowse_ws_bytes_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(delta('cobrowse_ws_bytes_total', { direction: 'out' })).toBeGreaterThan(0);
    expect(delta('cobrowse_ws_mirror_syncs_total', { kind: 'snapshot' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_ws_closed_total', { reason: 'policy' })).toBeGreaterThanOrEqual(2);
    expect(delta('cobrowse_rejected_total', { reason: 'not_allowed' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_rejected_total', { reason: 'not_a_participant' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_rejected_total', { reason: 'bad_message' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_rejected_total', { reason: 'rate_limit' })).toBeGreaterThanOrEqual(1);
    expect(delta('cobrowse_rejected_total', { reason: 'unauthorized' })).toBe(2);
    expect(value(after, 'cobrowse_rejected_total', { reason: 'ssrf' })).toBe(0);
    expect(value(after, 'cobrowse_draining')).toBe(0);
    expect(value(after, 'cobrowse_http_requests_in_flight')).toBeGreaterThanOrEqual(1);
    for (const stat of ['mean', 'p50', 'p99', 'max']) {
      expect(value(after, 'cobrowse_event_loop_lag_seconds', { stat })).toBeGreaterThanOrEqual(0);
      expect(after.some((x) => x.name === 'cobrowse_event_loop_lag_seconds' && x.labels.stat === stat)).toBe(true);
    }
    expect(value(after, 'cobrowse_process_memory_bytes', { kind: 'rss' })).toBeGreaterThan(1_000_000);
  });

  it('counts each refusal once: a proxied request or site WebSocket to a site off the allowlist, the "not allowed" endpoint, an unknown host', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    // A table entry for a site the allowlist refuses (as a stored table written before the config changed would have it).
    const session = t.gateway.context.registry.get(s.id);
    if (!session) throw new Error('session not found');
    const label = session.origins.labelFor('https://evil.example.org') ?? '';
    const offList = t.gateway.context.mapper.proxiedOrigin({ label, sessionId: s.id });
    const h = { cookie: host.cookie };
    const before = await scrape();
    const refused = await t.call('GET', `${offList}/`, { headers: h });
    expect(refused.status).toBe(403);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('SITE_NOT_ALLOWED');
    const middle = await scrape();
    expect(value(middle, 'cobrowse_rejected_total', { reason: 'not_allowed' }) - value(before, 'cobrowse_rejected_total', { reason: 'not_allowed' })).toBe(1);
    // Where the URL runtime sends requests to origins off the allowlist.
    expect((await t.call('GET', `${host.proxiedOrigin}/__cobrowse/blocked-origin/x`, { headers: h })).status).toBe(403);
    // A site WebSocket to the site off the allowlist.
    const ws = new WebSocket(`ws://127.0.0.1:${t.gateway.port}/socket`, { headers: { host: new URL(offList).host, origin: host.proxiedOrigin, ...h } });
    await expect(new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject))).rejects.toThrow(/403/);
    expect((await t.call('GET', `http://nowhere.example:${t.gateway.port}/`)).status).toBe(404);
    const after = await scrape();
    const delta = (reason: string) => value(after, 'cobrowse_rejected_total', { reason }) - value(before, 'cobrowse_rejected_total', { reason });
    expect(delta('not_allowed')).toBe(3);
    expect(delta('unknown_host')).toBe(1);
  });

  it('counts a follower closed at its backpressure limit as an abnormal close', async () => {
    const before = await scrape();
    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    const observer = await t.join(s.observeUrl);
    const port = t.gateway.port;
    const live = await openSocket(port, host.proxiedOrigin, host.cookie);
    live.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    const slow = await openSocket(port, observer.proxiedOrigin, observer.cookie);
    slow.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => slow.messages.some((m) => m.type === 'waiting-for-host'), POLL).toBe(true);
    // The follower stops reading; the host keeps sending 1 MB snapshots until uWS gives up on it.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(1024 * 1024);
    let closed = false;
    void slow.closed.then(() => {
      closed = true;
    });
    for (let i = 0; i < 80 && !closed; i++) {
      live.ws.send(JSON.stringify({ type: 'snapshot', url: `${host.proxiedOrigin}/`, title: `big ${i}`, viewport: { w: 1, h: 1 }, tree: tree(big) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect
      .poll(
        async () =>
          value(await scrape(), 'cobrowse_ws_closed_total', { reason: 'abnormal' }) - value(before, 'cobrowse_ws_closed_total', { reason: 'abnormal' }),
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(1);
    live.ws.close();
    slow.ws.terminate();
  });

  it('contains an error in one socket or one request: logged with the session, answered, and the gateway keeps serving', async () => {
    const s = await createSession(t, `${t.demoOrigin}/`);
    const host = await t.join(s.hostUrl);
    const hub = t.gateway.hub as unknown as { dispatch: (...args: unknown[]) => void };
    const original = hub.dispatch;
    hub.dispatch = () => {
      throw new Error('injected hub failure');
    };
    try {
      const live = await openSocket(t.gateway.port, host.proxiedOrigin, host.cookie);
      live.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
      expect(await live.closed).toBe(1011);
    } finally {
      hub.dispatch = original;
    }
    await expect
      .poll(() => t.logs.find((l) => l.msg === 'hub message failed' && l.sessionId === s.id))
      .toMatchObject({ role: 'host', error: 'injected hub failure' });

    const mapper = t.gateway.context.mapper as unknown as { isGatewayHost: (h: string) => boolean };
    const isGatewayHost = mapper.isGatewayHost;
    mapper.isGatewayHost = () => {
      throw new Error('injected routing failure');
    };
    let res: Awaited<ReturnType<TestGateway['call']>>;
    try {
      res = await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } });
    } finally {
      mapper.isGatewayHost = isGatewayHost;
    }
    expect(res.status).toBe(500);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('INTERNAL');
    expect(t.logs.find((l) => l.msg === 'request handler failed')).toMatchObject({ error: 'injected routing failure', path: '/' });
    expect((await t.call('GET', `${t.gateway.url}/healthz`)).status).toBe(200);
    expect((await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie } })).status).toBe(200);
  });

  it('answers /healthz always and /readyz by its dependency checks', async () => {
    expect((await t.call('GET', `${t.gateway.url}/healthz`)).status).toBe(200);
    const ready = await t.call('GET', `${t.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok' } });
    readinessProblem = 'redis unreachable';
    try {
      const notReady = await t.call('GET', `${t.gateway.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(notReady.json()).toEqual({ status: 'not-ready', checks: { redis: 'redis unreachable' } });
      expect((await t.call('GET', `${t.gateway.url}/healthz`)).status).toBe(200);
    } finally {
      readinessProblem = null;
    }
  });
});

describe('metrics.enabled: false', () => {
  it('serves no /metrics', async () => {
    const t = await startTestGateway({ metrics: { enabled: false } });
    try {
      expect((await t.call('GET', `${t.gateway.url}/metrics`)).status).toBe(404);
      expect(t.gateway.context.metrics).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real processes: the built gateway (dist/gateway.js) and signals.

/** A slow origin: `/slow` sends `chunks` chunks of 64 KiB, one every `intervalMs`, with Content-Length. */
async function startSlowOrigin(): Promise<{ origin: string; server: Server; expected: (chunks: number) => Buffer }> {
  const chunk = (i: number) => Buffer.alloc(64 * 1024, 97 + (i % 26));
  const expected = (chunks: number) => Buffer.concat(Array.from({ length: chunks }, (_, i) => chunk(i)));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    if (url.pathname === '/slow') {
      const chunks = Number(url.searchParams.get('chunks') ?? 10);
      const interval = Number(url.searchParams.get('interval') ?? 150);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(chunks * 64 * 1024) });
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(chunk(i++));
        if (i === chunks) {
          clearInterval(timer);
          res.end();
        }
      }, interval);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><html><head><title>Slow origin</title></head><body><h1>Slow origin</h1></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${address.port}`, server, expected };
}

interface GatewayProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
  /** Parsed JSON log lines so far. */
  logs: () => Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startProcess(args: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['dist/gateway.js', ...args], { env: { ...process.env, LOG_FORMAT: '', ...env } });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /open (http:\/\/[^\s/]+)\/ to start/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`gateway exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`no start line in ${out} ${err}`)), 10_000);
  });
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, url, port: Number(new URL(url).port), stderr: () => err, logs, exited };
}

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('SIGTERM on a real gateway process', () => {
  let slow: Awaited<ReturnType<typeof startSlowOrigin>>;
  beforeAll(async () => {
    slow = await startSlowOrigin();
  });
  afterAll(async () => {
    slow?.server.closeAllConnections();
    await new Promise((r) => slow?.server.close(r));
  });

  const apiKey = 'api-key-9d8e7f';
  const config = (deadline: string) =>
    configFile(`drain-${deadline}.yaml`, `sites:\n  - url: ${slow.origin}\n    name: Slow origin\nshutdown:\n  deadline: ${deadline}\nlog:\n  level: debug\n`);
  const auth = { ...json, authorization: `Bearer ${apiKey}` };

  async function sessionWithDownload(gw: GatewayProcess, chunks: number, interval: number) {
    const created = await call(gw.port, 'POST', `${gw.url}/api/sessions`, { headers: auth, body: JSON.stringify({ url: `${slow.origin}/` }) });
    expect(created.status).toBe(201);
    const s = JSON.parse(created.text) as { id: string; hostUrl: string; observeUrl: string; adminToken: string };
    const host = await joinLink(gw.port, s.hostUrl);
    const observer = await joinLink(gw.port, s.observeUrl);
    const live = await openSocket(gw.port, host.origin, host.cookie);
    live.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'live' }));
    const follower = await openSocket(gw.port, observer.origin, observer.cookie);
    follower.ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' }));
    await expect.poll(() => follower.messages.some((m) => m.type === 'waiting-for-host'), POLL).toBe(true);

    const download = await request(`http://127.0.0.1:${gw.port}/slow?chunks=${chunks}&interval=${interval}`, {
      headers: { host: new URL(host.origin).host, cookie: host.cookie },
    });
    expect(download.statusCode).toBe(200);
    const received: Buffer[] = [];
    const body = (async () => {
      try {
        for await (const c of download.body) received.push(c as Buffer);
        return { complete: true, data: Buffer.concat(received) };
      } catch {
        return { complete: false, data: Buffer.concat(received) };
      }
    })();
    await expect.poll(() => received.length, POLL).toBeGreaterThan(0);
    return { s, host, observer, live, follower, body };
  }

  it('drains: refuses new sessions, tells participants, lets the download finish, then exits 0', async () => {
    const deadlineMs = 8000;
    const gw = await startProcess(['--config', config('8s'), '--port', '0'], { GATEWAY_API_KEY: apiKey, METRICS_TOKEN });
    try {
      const { s, host, live, follower, body } = await sessionWithDownload(gw, 12, 150);
      const signalled = performance.now();
      gw.child.kill('SIGTERM');

      await expect.poll(() => live.messages.find((m) => m.type === 'error'), POLL).toMatchObject({ code: 'DRAINING' });
      await expect.poll(() => follower.messages.find((m) => m.type === 'error'), POLL).toMatchObject({ code: 'DRAINING' });
      const refused = await call(gw.port, 'POST', `${gw.url}/api/sessions`, { headers: auth, body: JSON.stringify({ url: `${slow.origin}/` }) });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(JSON.parse(refused.text).error.code).toBe('DRAINING');
      const readyz = await call(gw.port, 'GET', `${gw.url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.text).status).toBe('draining');
      expect((await call(gw.port, 'GET', `${gw.url}/healthz`)).status).toBe(200);
      const metrics = parseMetrics((await call(gw.port, 'GET', `${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text);
      expect(value(metrics, 'cobrowse_draining')).toBe(1);
      expect(value(metrics, 'cobrowse_rejected_total', { reason: 'draining' })).toBe(1);

      const downloaded = await body;
      expect(downloaded.complete).toBe(true);
      expect(downloaded.data.equals(slow.expected(12))).toBe(true);
      const exit = await gw.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - signalled).toBeLessThan(deadlineMs);
      expect(await live.closed).toBe(4000);
      expect(live.messages.find((m) => m.type === 'ended')).toBeDefined();

      const logs = gw.logs();
      const msgs = logs.map((l) => l.msg);
      expect(msgs).toContain('signal received: shutting down');
      expect(msgs).toContain('draining: new sessions are refused');
      expect(logs.find((l) => l.msg === 'gateway stopped')).toMatchObject({ drained: true, cutOff: 0 });
      expect(logs.find((l) => l.msg === 'proxied' && l.path === '/slow')).toMatchObject({ sessionId: s.id, status: 200, bytes: 12 * 64 * 1024, role: 'host' });
      for (const secret of [apiKey, METRICS_TOKEN, s.adminToken, host.token]) expect(gw.stderr()).not.toContain(secret);
    } finally {
      gw.child.kill('SIGKILL');
    }
  });

  it('cuts requests still running at the deadline and exits 0', async () => {
    const gw = await startProcess(['--config', config('1s'), '--port', '0'], { GATEWAY_API_KEY: apiKey });
    try {
      const { body } = await sessionWithDownload(gw, 100, 200);
      const signalled = performance.now();
      gw.child.kill('SIGTERM');
      const exit = await gw.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - signalled).toBeGreaterThan(900);
      expect(exit.at - signalled).toBeLessThan(4000);
      const downloaded = await body;
      expect(downloaded.complete && downloaded.data.length === 100 * 64 * 1024).toBe(false);
      expect(gw.logs().find((l) => l.msg === 'shutdown deadline passed: closing requests still in flight')).toMatchObject({ cutOff: 1 });
    } finally {
      gw.child.kill('SIGKILL');
    }
  });

  it('exits at once on a second signal', async () => {
    const gw = await startProcess(['--config', config('30s'), '--port', '0'], { GATEWAY_API_KEY: apiKey });
    try {
      await sessionWithDownload(gw, 100, 200);
      gw.child.kill('SIGTERM');
      await expect.poll(() => gw.logs().some((l) => l.msg === 'draining: new sessions are refused'), POLL).toBe(true);
      const again = performance.now();
      gw.child.kill('SIGINT');
      const exit = await gw.exited;
      expect(exit.code).toBe(130);
      expect(exit.at - again).toBeLessThan(2000);
    } finally {
      gw.child.kill('SIGKILL');
    }
  });
});

// ---------------------------------------------------------------------------------------------

function runCli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['dist/gateway.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readme = readFileSync('README.md', 'utf8');

function between(text: string, begin: string, end: string): string {
  const a = text.indexOf(begin);
  const b = text.indexOf(end, a);
  if (a === -1 || b === -1) throw new Error(`README.md has no ${begin} ... ${end} block`);
  return text.slice(a + begin.length, b);
}

describe('configuration reference and checks', () => {
  it('README.md holds exactly the reference generated from config/settings.ts', () => {
    const block = between(
      readme,
      '<!-- config-reference:begin (generated by scripts/config-reference.mjs from config/settings.ts) -->',
      '<!-- config-reference:end -->',
    );
    expect(block.trim()).toBe(configReferenceMarkdown());
    const r = spawnSync(process.execPath, ['scripts/config-reference.mjs', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('documents every key the validator accepts, each with a valid example', () => {
    const doc: Record<string, unknown> = {};
    const site: Record<string, unknown> = {};
    for (const spec of SETTINGS) {
      expect(spec.description.length, spec.key).toBeGreaterThan(10);
      expect(spec.default !== undefined || spec.defaultText !== undefined, spec.key).toBe(true);
      if (spec.key === 'sites') continue;
      const example = parseYaml(spec.example) as unknown;
      if (spec.key.startsWith('sites[].')) {
        site[spec.key.slice('sites[].'.length)] = example;
        continue;
      }
      const [section, key] = spec.key.split('.');
      if (key === undefined) doc[section!] = example;
      else doc[section!] = { ...(doc[section!] as object), [key]: example };
    }
    const config = validateConfig({ ...doc, sites: [site] }, 'examples');
    expect(config.sites[0]).toMatchObject({ url: 'https://*.shop.example.com', name: 'Example shop', mask: ['.card-number', '#ssn'] });
    expect(config.shutdown.deadlineSeconds).toBe(25);
    expect(config.log).toEqual({ level: 'debug', format: 'json' });
    expect(config.trustProxy).toBe(1);

    const defaults = validateConfig({ demo: { enabled: true } }, 'defaults');
    expect(defaults.log).toEqual({ level: 'info', format: 'auto' });
    expect(defaults.metrics).toEqual({ enabled: true });
    expect(defaults.shutdown).toEqual({ deadlineSeconds: 10 });
    expect(defaults.trustProxy).toBe(0);

    // A key the table does not list is refused, so nothing can be accepted without being documented.
    expect(() => validateConfig({ demo: { enabled: true }, log: { colour: true } }, 't')).toThrow(/log\.colour: unknown setting \(known here: level, format\)/);
  });

  it('--check-config accepts the README deployment example exactly as written', () => {
    const yaml = between(readme, '<!-- deployment-example:begin -->', '<!-- deployment-example:end -->')
      .trim()
      .replace(/^```yaml\n/, '')
      .replace(/\n```$/, '');
    expect(yaml).toContain('publicUrl: https://');
    expect(yaml).toContain('trustProxy:');
    const file = configFile('deployment-example.yaml', `${yaml}\n`);
    const r = runCli(['--check-config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configuration is valid (2 site(s), demo off)');
  });

  it('--check-config reports every bad operational setting with its path and exits 1', () => {
    const file = configFile(
      'bad-ops.yaml',
      'sites: [https://example.com]\ntrustProxy: -1\nlog:\n  level: loud\n  format: xml\nmetrics:\n  enabled: "yes"\nshutdown:\n  deadline: soon\n',
    );
    const r = runCli(['--check-config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    for (const expected of [
      `Invalid configuration in ${file}`,
      'trustProxy: must be a whole number (0 or more), got -1',
      'log.level: must be one of debug, info, warn, error, silent, got "loud"',
      'log.format: must be one of auto, json, pretty, got "xml"',
      'metrics.enabled: must be true or false, got "yes"',
      'shutdown.deadline: must be a duration such as 10s or 1m, got "soon"',
    ]) {
      expect(r.stderr).toContain(expected);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help names the options, the environment and the signals', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      '--config FILE',
      '--check-config FILE',
      'GATEWAY_API_KEY',
      'METRICS_TOKEN',
      'LOG_LEVEL',
      'LOG_FORMAT',
      'SIGTERM',
      'shutdown.deadline',
    ]) {
      expect(r.stdout).toContain(word);
    }
  });
});

describe('Procfile', () => {
  it('runs the built gateway on $PORT', async () => {
    const procfile = readFileSync('Procfile', 'utf8');
    const web = /^web:\s*(.+)$/m.exec(procfile)?.[1] ?? '';
    // Started with the gateway's V8 flags, as `npm start` and the bench's gateway are.
    const node = ['node', ...GATEWAY_NODE_FLAGS, 'dist/gateway.js'].join(' ');
    expect(web).toContain(node);
    expect(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start).toContain(node);
    // The build step (if any) is the platform's; run what starts the server.
    const run = web.split('&&').pop()!.trim();
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const child = spawn('sh', ['-c', `exec ${run}`], { env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' } });
    try {
      await expect
        .poll(
          async () => {
            try {
              return (await request(`http://127.0.0.1:${port}/healthz`, { headers: { host: `cobrowse.localhost:${port}` } })).statusCode;
            } catch {
              return 0;
            }
          },
          { timeout: 10_000, interval: 100 },
        )
        .toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
