// Starts a real gateway (and the bundled demo site) on 127.0.0.1 port 0, and talks to it the way
// a browser would: Node cannot resolve *.localhost, so requests go to 127.0.0.1 with a Host header.

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { applyOverrides, type ConfigOverrides } from '../../config/load.js';
import { validateConfig } from '../../config/schema.js';
import { Logger, type LogLevel } from '../../gateway/log.js';
import { type RunningGateway, type StartOptions, startGateway } from '../../gateway/server.js';
import { freePort } from './redis.js';

/** A gateway under test plus helpers to call it. */
export interface TestGateway {
  gateway: RunningGateway;
  /** Origin of the demo site (the real upstream). */
  demoOrigin: string;
  /** Log lines the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  call(method: string, url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
  /**
   * Opens a join link like a browser: follows the ticket redirect and returns the participant
   * cookie, and the gateway-host cookie `/j/` set. `gatewayCookie` is the browser's own cookie on
   * the gateway host, if any (a host link opens once: after that only the browser that opened it
   * gets back in).
   */
  join(link: string, gatewayCookie?: string): Promise<{ cookie: string; gatewayCookie: string; proxiedOrigin: string; landing: string }>;
  close(): Promise<void>;
}

/** A response read completely. */
export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

/**
 * Starts a gateway with the demo site; `config` is merged into the YAML-level settings, then
 * `overrides` are applied as `--port` and `--host` are (after the file is validated).
 */
export async function startTestGateway(
  config: Record<string, unknown> = {},
  options: StartOptions = {},
  overrides: ConfigOverrides = {},
): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  const level = (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'debug';
  const log = new Logger(level, (line) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
    if (process.env.TEST_LOG_LEVEL) process.stderr.write(`${line}\n`);
  });
  const parsed = applyOverrides(validateConfig({ server: { host: '127.0.0.1', port: 0 }, demo: { enabled: true }, ...config }, 'test config'), overrides, {});
  const gateway = await startGateway(parsed, { log, injectBundle: readFileSync('dist/inject.js'), ...options });
  const port = gateway.port;

  const call = async (method: string, url: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> => {
    const target = new URL(url);
    const res = await request(`http://127.0.0.1:${port}${target.pathname}${target.search}`, {
      method: method as 'GET',
      headers: { host: target.host, ...opts.headers },
      body: opts.body,
    }).catch((err: Error) => {
      throw new Error(`${method} ${url} failed: ${err.message}`, { cause: err });
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  };

  const join = async (link: string, gatewayCookie?: string) => {
    const first = await call('GET', link, gatewayCookie ? { headers: { cookie: gatewayCookie } } : {});
    if (first.status !== 302) throw new Error(`join link answered ${first.status}: ${first.text}`);
    const enter = new URL(String(first.headers.location));
    const second = await call('GET', enter.href);
    if (second.status !== 302) throw new Error(`enter answered ${second.status}: ${second.text}`);
    const setCookie = String(second.headers['set-cookie']);
    const cookie = setCookie.split(';')[0] ?? '';
    return {
      cookie,
      gatewayCookie: String(first.headers['set-cookie']).split(';')[0] ?? '',
      proxiedOrigin: enter.origin,
      landing: String(second.headers.location),
    };
  };

  return {
    gateway,
    demoOrigin: gateway.demo?.origin ?? '',
    logs,
    call,
    join,
    close: () => gateway.close(),
  };
}

/** Creates a session through the API and returns its JSON answer. */
export async function createSession(
  t: TestGateway,
  url: string,
): Promise<{ id: string; hostUrl: string; joinUrl: string; observeUrl: string; expiresAt: string; adminToken: string }> {
  const res = await t.call('POST', `${t.gateway.url}/api/sessions`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
  if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${res.text}`);
  return res.json();
}

/** A node:http origin on 127.0.0.1 (port 0), a gateway whose only site it is, and a session on `entryPath` whose host has joined. */
export interface OriginBehindGateway {
  origin: Server;
  originUrl: string;
  t: TestGateway;
  host: { cookie: string; gatewayCookie: string; proxiedOrigin: string; landing: string };
  close(): Promise<void>;
}

export async function originBehindGateway(serve: (req: IncomingMessage, res: ServerResponse) => void, entryPath: string): Promise<OriginBehindGateway> {
  const origin = createServer(serve);
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: originUrl }] });
  const session = await createSession(t, `${originUrl}${entryPath}`);
  const host = await t.join(session.hostUrl);
  return {
    origin,
    originUrl,
    t,
    host,
    close: async () => {
      await t.close();
      origin.close();
    },
  };
}

/**
 * Two gateway nodes on one Redis sharing one public URL: A with its demo site, B proxying A's demo
 * site (one shared origin for a session on either node). Close both (B first) when done.
 */
export async function startTwoNodes(redisUrl: string): Promise<{ a: TestGateway; b: TestGateway; publicUrl: string }> {
  const publicUrl = `http://cobrowse.localhost:${await freePort()}`;
  const a = await startTestGateway({ redis: redisUrl, publicUrl });
  const b = await startTestGateway({ redis: redisUrl, publicUrl, demo: { enabled: false }, sites: [{ url: a.demoOrigin, privateNetwork: true }] });
  return { a, b, publicUrl };
}
