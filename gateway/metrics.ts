// The gateway's Prometheus metrics, one registry per running gateway (several can share a process,
// as the tests do). Counters are moved by small calls at the places where things happen; gauges
// read the live state (sessions, participants, sockets) when scraped.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Role } from '../protocol/messages.js';

/** What the scrape-time gauges read: wired by server.ts once the parts exist. */
export interface MetricsSources {
  sessionsOpen(): number;
  /** Participants with at least one open socket, by role. */
  participantsConnected(): Partial<Record<Role, number>>;
  socketsOpen(): number;
  requestsInFlight(): number;
  draining(): boolean;
}

/** Where an HTTP request landed. */
export type HostKind = 'gateway' | 'proxied' | 'unknown';

/** What a proxied response body is: HTML or CSS (decoded and rewritten), a worker script (runtime in front), a script (imports mapped) or anything else (piped). */
export type ContentKind = 'html' | 'css' | 'worker' | 'script' | 'rules' | 'manifest' | 'other';

/** Error codes counted as rejections, and the reason label each one gets. */
const REJECTION_REASONS: Record<string, string> = {
  SITE_NOT_ALLOWED: 'not_allowed',
  SSRF_BLOCKED: 'ssrf',
  RATE_LIMITED: 'rate_limit',
  BAD_MESSAGE: 'bad_message',
  VERSION_MISMATCH: 'version_mismatch',
  BAD_REQUEST: 'bad_request',
  NOT_A_PARTICIPANT: 'not_a_participant',
  TICKET_INVALID: 'ticket_invalid',
  FORBIDDEN: 'forbidden',
  NOT_HOST: 'not_host',
  UNAUTHORIZED: 'unauthorized',
  UNKNOWN_HOST: 'unknown_host',
  SESSION_LIMIT: 'session_limit',
  PARTICIPANT_LIMIT: 'participant_limit',
  PAYLOAD_TOO_LARGE: 'too_large',
  TOO_LARGE: 'too_large',
  DRAINING: 'draining',
  BAD_ORIGIN: 'bad_origin',
  REMOVED: 'removed',
  HOST_LINK_USED: 'host_link_used',
  TOO_MANY_CONNECTIONS: 'too_many_connections',
};

/** The reason label of a rejection error code, or null when the code is not a rejection. */
export function rejectionReason(code: string): string | null {
  return REJECTION_REASONS[code] ?? null;
}

/** WebSocket close codes by the reason label they are counted under. */
const CLOSE_REASONS: Record<number, string> = {
  1000: 'normal',
  1001: 'going_away',
  // uWS reports a socket it closed at its backpressure limit as 1006, like a dropped connection.
  1006: 'abnormal',
  1009: 'too_big',
  1011: 'error',
  1012: 'reconnect',
  4000: 'session_ended',
  4400: 'policy',
};

const TYPE_PREFIX = /^\{"type":"([a-z-]{1,32})"/;

/** The `type` of an encoded hub message (every one is JSON.stringify'd with `type` first). */
export function messageTypeOf(encoded: string): string {
  return TYPE_PREFIX.exec(encoded)?.[1] ?? 'other';
}

/** uWS `ws.send` results. */
const SEND_BACKPRESSURE = 0;
const SEND_DROPPED = 2;

/** Most updates that wait for GatewayMetrics.flush (see `later`). */
const FLUSH_AT = 2048;

/** The metrics of one gateway and the calls that move them. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources | null = null;
  /** Updates of the per-request and per-message calls not yet applied to the registry. */
  private pending: (() => void)[] = [];
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  private readonly sessionsCreated = this.counter('cobrowse_sessions_created_total', 'Sessions created through the API.');
  private readonly sessionsEnded = this.counter('cobrowse_sessions_ended_total', 'Sessions ended (deleted, expired or shut down).');
  private readonly httpRequests = this.counter('cobrowse_http_requests_total', 'HTTP requests by the host they were sent to.', ['host']);
  private readonly httpBytes = this.counter('cobrowse_http_bytes_total', 'HTTP body bytes received from browsers (in) and sent to them (out).', ['direction']);
  private readonly proxied = this.counter('cobrowse_proxied_requests_total', 'Proxied responses by status class and content kind.', ['status_class', 'kind']);
  private readonly upstreamErrors = this.counter('cobrowse_upstream_errors_total', 'Upstream requests that got no response, by error code.', ['code']);
  private readonly upstreamLatency = new Histogram({
    name: 'cobrowse_upstream_latency_seconds',
    help: 'Time from sending a request upstream to its response headers.',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly rewriteTime = new Histogram({
    name: 'cobrowse_html_rewrite_seconds',
    help: 'CPU time spent rewriting one HTML response (decoding excluded).',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  private readonly wsMessages = this.counter('cobrowse_ws_messages_total', 'Hub messages received (in, valid ones) and sent (out, per recipient), by type.', [
    'direction',
    'type',
  ]);
  private readonly wsBytes = this.counter('cobrowse_ws_bytes_total', 'Hub message bytes received (in) and published or sent (out, per recipient).', [
    'direction',
  ]);
  private readonly wsBackpressure = this.counter(
    'cobrowse_ws_backpressure_total',
    'Direct hub sends that met backpressure: buffered (kept, will drain) or dropped (over the limit, the socket is closed).',
    ['outcome'],
  );
  private readonly wsClosed = this.counter('cobrowse_ws_closed_total', 'Hub sockets closed, by reason (abnormal includes closes at the backpressure limit).', [
    'reason',
  ]);
  private readonly mirrorSyncs = this.counter(
    'cobrowse_ws_mirror_syncs_total',
    'Follower (re)connections: snapshot = full state sent (join or resync), tail = only the missed messages, none = nothing to send (no snapshot yet, or up to date).',
    ['kind'],
  );
  private readonly rejections = this.counter('cobrowse_rejected_total', 'Requests and messages refused, by reason.', ['reason']);

  constructor() {
    this.loopDelay.enable();
    const self = this;
    new Gauge({
      name: 'cobrowse_sessions_open',
      help: 'Sessions currently open.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.sessionsOpen() ?? 0);
      },
    });
    new Gauge({
      name: 'cobrowse_participants_connected',
      help: 'Participants with at least one open hub socket, by role.',
      labelNames: ['role'],
      registers: [this.registry],
      collect() {
        const counts = self.sources?.participantsConnected() ?? {};
        for (const role of ['host', 'controller', 'observer'] as const) this.set({ role }, counts[role] ?? 0);
      },
    });
    new Gauge({
      name: 'cobrowse_ws_connections',
      help: 'Open hub sockets.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.socketsOpen() ?? 0);
      },
    });
    new Gauge({
      name: 'cobrowse_http_requests_in_flight',
      help: 'HTTP requests being served.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.requestsInFlight() ?? 0);
      },
    });
    new Gauge({
      name: 'cobrowse_draining',
      help: '1 while the gateway shuts down (new sessions refused), else 0.',
      registers: [this.registry],
      collect() {
        this.set(self.sources?.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cobrowse_event_loop_lag_seconds',
      help: 'Event-loop delay since the previous scrape (monitorEventLoopDelay), by statistic.',
      labelNames: ['stat'],
      registers: [this.registry],
      collect() {
        const h = self.loopDelay;
        const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
        this.set({ stat: 'mean' }, seconds(h.mean));
        this.set({ stat: 'p50' }, seconds(h.percentile(50)));
        this.set({ stat: 'p99' }, seconds(h.percentile(99)));
        this.set({ stat: 'max' }, seconds(h.max));
        h.reset();
      },
    });
    new Gauge({
      name: 'cobrowse_process_memory_bytes',
      help: 'Memory of the gateway process: resident set and JavaScript heap in use.',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const m = process.memoryUsage();
        this.set({ kind: 'rss' }, m.rss);
        this.set({ kind: 'heap_used' }, m.heapUsed);
      },
    });
    // Known label values start at 0, so rates work from the first scrape.
    for (const reason of new Set(Object.values(REJECTION_REASONS))) this.rejections.inc({ reason }, 0);
    for (const direction of ['in', 'out']) {
      this.httpBytes.inc({ direction }, 0);
      this.wsBytes.inc({ direction }, 0);
    }
    for (const outcome of ['buffered', 'dropped']) this.wsBackpressure.inc({ outcome }, 0);
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Connects the scrape-time gauges to the running gateway. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** The Prometheus text exposition of every metric (the waiting updates applied first: a scrape reads exact values). */
  async render(): Promise<{ contentType: string; body: string }> {
    this.flush();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Applies `update` to the registry later, in a batch (flush), with the others of the hot paths:
   * one by one, each prom-client update (its labels hashed and validated, its series looked up)
   * cost ~1 µs of the loaded gateway's main thread, run cold between the rest of a request's work
   * (five of them per proxied page, perf, bench/README.md session 23); in a batch they run warm. At
   * most FLUSH_AT wait; the values they were made of are computed at the call, so nothing large is
   * held.
   */
  private later(update: () => void): void {
    if (this.pending.push(update) >= FLUSH_AT) this.flush();
  }

  /** Applies the updates waiting since the last flush; one that throws (a bug) stops none of the others, and its error is thrown after them. */
  flush(): void {
    const updates = this.pending;
    this.pending = [];
    let failure: unknown = null;
    for (const update of updates) {
      try {
        update();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== null) throw failure;
  }

  /** Stops the event-loop monitor (the gateway closed). */
  close(): void {
    this.loopDelay.disable();
  }

  sessionCreated(): void {
    this.sessionsCreated.inc();
  }

  sessionEnded(): void {
    this.sessionsEnded.inc();
  }

  /** One HTTP exchange finished: where it went and its body bytes each way. */
  httpExchange(host: HostKind, bytesIn: number, bytesOut: number): void {
    this.later(() => {
      this.httpRequests.inc({ host });
      if (bytesIn > 0) this.httpBytes.inc({ direction: 'in' }, bytesIn);
      if (bytesOut > 0) this.httpBytes.inc({ direction: 'out' }, bytesOut);
    });
  }

  /** An upstream response arrived: its status, what its body is, and how long its headers took. */
  proxiedResponse(status: number, kind: ContentKind, upstreamSeconds: number): void {
    this.later(() => {
      this.proxied.inc({ status_class: `${Math.floor(status / 100)}xx`, kind });
      this.upstreamLatency.observe({ kind }, upstreamSeconds);
    });
  }

  /** An upstream request failed without a response (UPSTREAM_TIMEOUT, UPSTREAM_FAILED, ...). */
  upstreamFailed(code: string): void {
    this.upstreamErrors.inc({ code });
  }

  /** Something was refused; `code` is the error code it was refused with. */
  rejected(code: string): void {
    const reason = rejectionReason(code);
    if (reason) this.rejections.inc({ reason });
  }

  /** One HTML response was rewritten in `seconds` of CPU time (see rewritten-body.ts). */
  htmlRewritten(seconds: number): void {
    this.later(() => this.rewriteTime.observe(seconds));
  }

  /** A valid hub message of `type` arrived. */
  wsReceived(type: string): void {
    this.later(() => this.wsMessages.inc({ direction: 'in', type }));
  }

  /** Bytes of a hub message as received (counted before validation). */
  wsReceivedBytes(bytes: number): void {
    this.later(() => this.wsBytes.inc({ direction: 'in' }, bytes));
  }

  /** One direct `ws.send` of `encoded`, with the status uWS returned (0 backpressure, 1 sent, 2 dropped). */
  wsSent(encoded: string, status: number): void {
    const type = messageTypeOf(encoded);
    const bytes = Buffer.byteLength(encoded);
    this.later(() => {
      this.wsMessages.inc({ direction: 'out', type });
      this.wsBytes.inc({ direction: 'out' }, bytes);
      if (status === SEND_BACKPRESSURE) this.wsBackpressure.inc({ outcome: 'buffered' });
      else if (status === SEND_DROPPED) this.wsBackpressure.inc({ outcome: 'dropped' });
    });
  }

  /** `encoded` was published to `recipients` sockets (uWS does not report per-recipient drops of a publish). */
  wsPublished(encoded: string, recipients: number): void {
    if (recipients <= 0) return;
    const type = messageTypeOf(encoded);
    const bytes = Buffer.byteLength(encoded) * recipients;
    this.later(() => {
      this.wsMessages.inc({ direction: 'out', type }, recipients);
      this.wsBytes.inc({ direction: 'out' }, bytes);
    });
  }

  /** A hub socket closed with `code`. */
  wsClosedWith(code: number): void {
    this.wsClosed.inc({ reason: CLOSE_REASONS[code] ?? 'other' });
  }

  /** A follower said hello and got `replay` (the encoded messages that bring it up to date). */
  mirrorSynced(replay: readonly string[]): void {
    const first = replay[0];
    this.mirrorSyncs.inc({ kind: first === undefined ? 'none' : messageTypeOf(first) === 'snapshot' ? 'snapshot' : 'tail' });
  }
}
