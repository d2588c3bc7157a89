import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics, messageTypeOf, rejectionReason } from '../../gateway/metrics.js';
import { VERSION_MISMATCH } from '../../protocol/messages.js';

describe('messageTypeOf', () => {
  it.each([
    ['{"type":"snapshot","seq":1}', 'snapshot'],
    ['{"type":"waiting-for-host"}', 'waiting-for-host'],
    ['{"type":"error","code":"X","message":"m"}', 'error'],
    ['{"seq":1,"type":"snapshot"}', 'other'],
    ['{"type":"Snapshot"}', 'other'],
    [`{"type":"${'a'.repeat(40)}"}`, 'other'],
    ['not json', 'other'],
    ['', 'other'],
  ])('%s -> %s', (encoded, type) => {
    expect(messageTypeOf(encoded)).toBe(type);
  });
});

describe('rejectionReason', () => {
  it.each([
    ['SITE_NOT_ALLOWED', 'not_allowed'],
    ['SSRF_BLOCKED', 'ssrf'],
    ['RATE_LIMITED', 'rate_limit'],
    ['BAD_MESSAGE', 'bad_message'],
    ['NOT_A_PARTICIPANT', 'not_a_participant'],
    ['DRAINING', 'draining'],
    ['UNAUTHORIZED', 'unauthorized'],
    ['BAD_ORIGIN', 'bad_origin'],
    ['TOO_LARGE', 'too_large'],
    ['TOO_MANY_CONNECTIONS', 'too_many_connections'],
    ['REMOVED', 'removed'],
    ['HOST_LINK_USED', 'host_link_used'],
  ])('%s is counted as %s', (code, reason) => {
    expect(rejectionReason(code)).toBe(reason);
  });

  it('counts every code the hub refuses a socket or a message with', () => {
    // The hub's refusals as written in its sources (hub.ts, hub-*.ts): reject(ws, 'CODE', ...) and metrics?.rejected('CODE')
    const gateway = new URL('../../gateway/', import.meta.url);
    const hubFiles = readdirSync(gateway).filter((name) => /^hub(-[a-z-]+)?\.ts$/.test(name));
    const source = hubFiles.map((name) => readFileSync(new URL(name, gateway), 'utf8')).join('\n');
    const codes = new Set([...source.matchAll(/(?:reject\(ws, |rejected\()'([A-Z_]+)'/g)].map((m) => m[1]!));
    expect(codes.size).toBeGreaterThan(4);
    for (const code of codes) expect(rejectionReason(code), code).not.toBeNull();
  });

  it('counts the refusal of a hello of another protocol version under a reason of its own', () => {
    const source = readFileSync(new URL('../../gateway/hub-version.ts', import.meta.url), 'utf8');
    expect(source).toContain('rejected(VERSION_MISMATCH)');
    expect(rejectionReason(VERSION_MISMATCH)).toBe('version_mismatch');
  });

  it.each(['SESSION_NOT_FOUND', 'NOT_FOUND', 'INTERNAL', 'UPSTREAM_FAILED', 'anything'])('%s is not a rejection', (code) => {
    expect(rejectionReason(code)).toBeNull();
  });
});

describe('GatewayMetrics', () => {
  it('keeps one registry per instance, so two gateways in one process do not collide', async () => {
    const a = new GatewayMetrics();
    const b = new GatewayMetrics();
    try {
      a.sessionCreated();
      a.rejected('SITE_NOT_ALLOWED');
      a.rejected('NOT_FOUND');
      a.proxiedResponse(204, 'other', 0.02);
      a.wsSent('{"type":"welcome","v":1}', 1);
      a.wsSent('{"type":"snapshot","seq":3}', 0);
      a.wsSent('{"type":"mutations","seq":4}', 2);
      a.wsPublished('{"type":"mutations","seq":5}', 3);
      a.wsClosedWith(1006);
      a.wsClosedWith(4999);
      a.mirrorSynced(['{"type":"snapshot","seq":1}', '{"type":"mutations","seq":2}']);
      a.mirrorSynced(['{"type":"mutations","seq":2}']);
      a.mirrorSynced([]);
      a.attach({
        sessionsOpen: () => 2,
        participantsConnected: () => ({ host: 1, observer: 3 }),
        socketsOpen: () => 5,
        requestsInFlight: () => 1,
        draining: () => true,
      });
      const text = (await a.render()).body;
      for (const line of [
        'cobrowse_sessions_created_total 1',
        'cobrowse_sessions_open 2',
        'cobrowse_participants_connected{role="host"} 1',
        'cobrowse_participants_connected{role="controller"} 0',
        'cobrowse_participants_connected{role="observer"} 3',
        'cobrowse_ws_connections 5',
        'cobrowse_draining 1',
        'cobrowse_rejected_total{reason="not_allowed"} 1',
        'cobrowse_rejected_total{reason="ssrf"} 0',
        'cobrowse_proxied_requests_total{status_class="2xx",kind="other"} 1',
        'cobrowse_upstream_latency_seconds_count{kind="other"} 1',
        'cobrowse_ws_messages_total{direction="out",type="welcome"} 1',
        'cobrowse_ws_messages_total{direction="out",type="mutations"} 4',
        'cobrowse_ws_backpressure_total{outcome="buffered"} 1',
        'cobrowse_ws_backpressure_total{outcome="dropped"} 1',
        'cobrowse_ws_closed_total{reason="abnormal"} 1',
        'cobrowse_ws_closed_total{reason="other"} 1',
        'cobrowse_ws_mirror_syncs_total{kind="snapshot"} 1',
        'cobrowse_ws_mirror_syncs_total{kind="tail"} 1',
        'cobrowse_ws_mirror_syncs_total{kind="none"} 1',
      ]) {
        expect(text).toContain(line);
      }
      expect((await b.render()).body).toContain('cobrowse_sessions_created_total 0');
      expect((await b.render()).body).toContain('cobrowse_sessions_open 0');
    } finally {
      a.close();
      b.close();
    }
  });

  it('counts every hot-path update exactly, those applied in batches on the way and those still waiting at the scrape', async () => {
    const m = new GatewayMetrics();
    try {
      // More than one batch (2048 wait at most), and a rest that only the scrape applies.
      const n = 5000;
      for (let i = 0; i < n; i++) {
        m.httpExchange('proxied', 10, 1000);
        m.proxiedResponse(i % 2 === 0 ? 200 : 404, 'html', 0.003);
        m.htmlRewritten(0.0002);
        m.wsReceived('cursor');
        m.wsReceivedBytes(7);
      }
      const text = (await m.render()).body;
      for (const line of [
        `cobrowse_http_requests_total{host="proxied"} ${n}`,
        `cobrowse_http_bytes_total{direction="in"} ${10 * n}`,
        `cobrowse_http_bytes_total{direction="out"} ${1000 * n}`,
        `cobrowse_proxied_requests_total{status_class="2xx",kind="html"} ${n / 2}`,
        `cobrowse_proxied_requests_total{status_class="4xx",kind="html"} ${n / 2}`,
        `cobrowse_upstream_latency_seconds_count{kind="html"} ${n}`,
        `cobrowse_upstream_latency_seconds_bucket{le="0.005",kind="html"} ${n}`,
        `cobrowse_html_rewrite_seconds_count ${n}`,
        `cobrowse_html_rewrite_seconds_bucket{le="0.00025"} ${n}`,
        `cobrowse_ws_messages_total{direction="in",type="cursor"} ${n}`,
        `cobrowse_ws_bytes_total{direction="in"} ${7 * n}`,
      ]) {
        expect(text).toContain(line);
      }
      // Nothing is counted twice by a second scrape.
      expect((await m.render()).body).toContain(`cobrowse_http_requests_total{host="proxied"} ${n}\n`);
    } finally {
      m.close();
    }
  });
});
