// The differential harness: one scenario run on the real sites and through the gateway, each in a
// fresh Chromium profile, observed the same way (DOM of every frame, console errors, requests,
// WebSockets, downloads, popups) and mapped back to real URLs, so that the two can be compared.
// The proxied profile sends everything that is not for the gateway to a trap proxy, which records
// it: a request that escaped the gateway is seen there even when Playwright does not report it.

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Download, Frame, Page, Request } from 'playwright-core';
import { createSession, type TestGateway } from './gateway.js';

/** What a run saw, with every proxied URL mapped back to the real one. */
export interface Observation {
  url: string;
  frames: string[];
  errors: string[];
  requests: string[];
  sockets: string[];
  downloads: string[];
  popups: string[];
}

/** A scenario: where it starts and what it does once the page has loaded. */
export interface Scenario {
  path: string;
  /** Acts on the page and waits until the page shows its result. */
  run?: (page: Page, ctx: RunContext) => Promise<void>;
}

/** What a scenario may use while it runs. */
export interface RunContext {
  /** Resolves with the next download of this run. */
  download(): Promise<Download>;
  /** Resolves with the next popup page of this run. */
  popup(): Promise<Page>;
}

/** One proxied run: its observation and every URL the browser asked for outside the gateway. */
export interface ProxiedRun {
  seen: Observation;
  escaped: string[];
  sessionId: string;
}

/** Chromium's own services (autofill, safe browsing): the browser's traffic, not the page's. */
const BROWSER_SERVICES = /^(CONNECT |\w+ https?:\/\/)[^/]*\.(googleapis|google|gstatic)\.com[:/]/;

/** A proxy that answers every request it gets with an error, and records those of pages. */
export async function startTrapProxy(): Promise<{ server: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const record = (hit: string) => {
    if (!BROWSER_SERVICES.test(hit)) hits.push(hit);
  };
  const server: Server = createServer((req, res) => {
    record(`${req.method} ${req.url}`);
    res.writeHead(502, { 'content-type': 'text/plain' }).end('escaped the gateway');
  });
  server.on('connect', (req, socket) => {
    record(`CONNECT ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const SNAPSHOT = `() => {
  const own = document.querySelector('script[data-cobrowse][src="/__cobrowse/inject.js"]');
  if (own && own.nonce) document.documentElement.setAttribute('data-gateway-nonce', own.nonce);
  const root = document.documentElement.cloneNode(true);
  root.removeAttribute('data-gateway-nonce');
  for (const el of root.querySelectorAll('[data-cobrowse]')) el.remove();
  // The runtime's own script first in srcdoc markup (the gateway's, like the elements taken out above).
  const html = root.outerHTML.replace(/&lt;script data-cobrowse=(?:""|&quot;&quot;)[^]*?&lt;\\/script&gt;|<script data-cobrowse=&quot;&quot;[^]*?<\\/script>/g, '');
  return document.compatMode + ' ' + document.characterSet + ' ' + document.contentType + '\\n' + html.replace(/\\s+/g, ' ');
}`;

function depth(frame: Frame): number {
  let n = 0;
  for (let f = frame.parentFrame(); f; f = f.parentFrame()) n++;
  return n;
}

/** The DOM of every frame of `page`; the nonces the gateway gave its own script tags go to `nonces`. */
async function frameSnapshots(page: Page, isOwn: (url: string) => boolean, nonces: Set<string>): Promise<string[]> {
  const out: string[] = [];
  for (const frame of page.frames()) {
    if (frame.isDetached() || isOwn(frame.url())) continue;
    const element = frame.parentFrame() ? await frame.frameElement().catch(() => null) : null;
    const where = `${depth(frame)} ${(await element?.getAttribute('id')) ?? '(main)'} ${frame.url()}`;
    if (frame.url().startsWith('chrome-error:')) {
      out.push(`${where}\nnot displayed`);
      continue;
    }
    out.push(`${where}\n${await frame.evaluate(`(${SNAPSHOT})()`).catch((err: Error) => `unreadable: ${err.message.split('\n')[0]}`)}`);
    const nonce = await frame.evaluate("document.documentElement.getAttribute('data-gateway-nonce')").catch(() => null);
    if (typeof nonce === 'string') nonces.add(nonce);
  }
  return out;
}

/** Records one browser profile's activity until `observe` is called. */
function recorder(context: BrowserContext) {
  const requests: Request[] = [];
  const errors: string[] = [];
  const sockets: string[] = [];
  const downloads: Promise<string>[] = [];
  const popups: Page[] = [];
  const waiting: { download: ((d: Download) => void)[]; popup: ((p: Page) => void)[] } = { download: [], popup: [] };
  const watch = (page: Page) => {
    page.on('console', (m) => {
      // The browser's own favicon request is not the page's, and its error is logged or not by timing.
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text());
      if (process.env.DIFF_DEBUG) console.log('console', m.type(), m.text(), JSON.stringify(m.location()));
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.on('download', (d) => {
      downloads.push(
        d.path().then(async (file) => `${d.suggestedFilename()} ${d.url()} ${file ? (await readFile(file)).toString('base64').slice(0, 2000) : d.failure()}`),
      );
      waiting.download.shift()?.(d);
    });
    page.on('popup', (p) => {
      popups.push(p);
      waiting.popup.shift()?.(p);
    });
  };
  context.on('page', watch);
  context.on('request', (r) => requests.push(r));
  if (process.env.DIFF_DEBUG) context.on('response', (r) => console.log('response', r.status(), r.request().method(), r.url()));
  const ctx: RunContext = {
    download: () => new Promise((resolve) => waiting.download.push(resolve)),
    popup: () => new Promise((resolve) => waiting.popup.push(resolve)),
  };
  return { requests, errors, sockets, downloads, popups, ctx, watch };
}

async function runIn(context: BrowserContext, startUrl: string, scenario: Scenario, isOwn: (url: string) => boolean) {
  const rec = recorder(context);
  const page = await context.newPage();
  await page.goto(startUrl);
  await scenario.run?.(page, rec.ctx);
  const nonces = new Set<string>();
  const frames = await frameSnapshots(page, isOwn, nonces);
  for (const popup of rec.popups) frames.push(...(await frameSnapshots(popup, isOwn, nonces)).map((f) => `popup ${f}`));
  // A request the gateway answered itself with a redirect to its own host (the identity hand-off
  // to a proxied host the browser had not entered yet) never reached the site: it is the gateway's.
  const handedOff = (r: Request) => isOwn(r.redirectedTo()?.url() ?? '') && !isOwn(r.url());
  return {
    url: page.url(),
    frames,
    errors: rec.errors,
    requests: rec.requests
      // blob: and data: URLs are read from memory, and blob: URLs are random: not requests to compare.
      .filter((r) => !handedOff(r) && !/^(blob|data):/.test(r.url()))
      .map((r) => `${r.method()} ${r.resourceType()} ${r.url()}${r.postData() ? ` body=${r.postData()}` : ''}`),
    sockets: rec.sockets,
    downloads: await Promise.all(rec.downloads),
    popups: rec.popups.map((p) => p.url()),
    nonces,
  };
}

function sorted(o: Observation): Observation {
  return {
    url: o.url,
    frames: o.frames,
    popups: o.popups,
    // Chromium logs some refusals (X-Frame-Options) once or several times for one frame.
    errors: [...new Set(o.errors)].sort(),
    requests: [...o.requests].sort(),
    sockets: [...o.sockets].sort(),
    downloads: [...o.downloads].sort(),
  };
}

/** Runs `scenario` on the real site. */
export async function runDirect(browser: Browser, origin: string, scenario: Scenario): Promise<Observation> {
  const context = await browser.newContext();
  try {
    return sorted(await runIn(context, `${origin}${scenario.path}`, scenario, () => false));
  } finally {
    await context.close();
  }
}

/** Maps the gateway's URLs in `text` back to the real ones, with the session's origin table. */
export function unmapper(t: TestGateway, sessionId: string): (text: string) => string {
  const gateway = t.gateway.url.replace(/^https?:\/\//, '');
  const host = (label: string) => `${label}--${sessionId}.${gateway}`;
  return (text) => {
    const origins = t.gateway.context.registry.get(sessionId)?.origins.entries() ?? [];
    let out = text
      .replace(new RegExp(`http://${esc(gateway)}/blocked\\?url=([\\w.~!*'()%-]+)`, 'g'), (_, enc: string) => decodeURIComponent(enc))
      .replace(new RegExp(`http://[a-z0-9]+--${sessionId}\\.${esc(gateway)}/__cobrowse/blocked-origin/([\\w.~!*'()%-]+)`, 'g'), (_, enc: string) =>
        decodeURIComponent(enc),
      );
    for (const [label, origin] of [...origins].reverse()) {
      const real = new URL(origin);
      out = out
        .replaceAll(`http://${host(label)}`, origin)
        .replaceAll(`ws://${host(label)}`, `${real.protocol === 'https:' ? 'wss' : 'ws'}://${real.host}`)
        .replaceAll(host(label), real.host);
    }
    return out;
  };
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A CSP violation message quotes the directive as the gateway rewrote it: the sources the gateway
 * added for itself (its script's nonce and URL, its host, the ticket endpoint) are taken out.
 */
function withoutGatewaySources(t: TestGateway, message: string, nonces: Set<string>): string {
  const gateway = t.gateway.url;
  const wildcard = gateway.replace('://', '://*.');
  let out = message
    .replaceAll(` ${wildcard}/__cobrowse/enter`, '')
    .replace(new RegExp(` http://[a-z0-9]+--[a-z2-7]+\\.${esc(new URL(gateway).host)}/__cobrowse/inject\\.js`, 'g'), '')
    .replace(new RegExp(` ${esc(gateway)}(?=['" ;])`, 'g'), '');
  for (const nonce of nonces) out = out.replaceAll(` 'nonce-${nonce}'`, '');
  return out;
}

/** True for the gateway's own traffic: its host, and the reserved paths of proxied hosts. */
export function gatewayOwn(t: TestGateway): (url: string) => boolean {
  const gatewayHost = new URL(t.gateway.url).host;
  return (url) => {
    if (!/^(http|ws)s?:/.test(url)) return false;
    const u = new URL(url);
    if (u.host === gatewayHost) return u.pathname !== '/blocked';
    return u.host.endsWith(`.${gatewayHost}`) && u.pathname.startsWith('/__cobrowse/') && !u.pathname.startsWith('/__cobrowse/blocked-origin/');
  };
}

/** Runs `scenario` through the gateway, in a session started on the same page. */
export async function runProxied(browser: Browser, t: TestGateway, trap: string, origin: string, scenario: Scenario): Promise<ProxiedRun> {
  const gatewayHost = new URL(t.gateway.url).hostname;
  const context = await browser.newContext({ proxy: { server: trap, bypass: `<-loopback>;*.${gatewayHost};${gatewayHost}` } });
  try {
    const session = await createSession(t, `${origin}${scenario.path}`);
    const own = gatewayOwn(t);
    const raw = await runIn(context, session.hostUrl, scenario, own);
    const onGateway = (url: string) => {
      if (!/^(http|ws)s?:/.test(url)) return true;
      const host = new URL(url).hostname;
      return host === gatewayHost || host.endsWith(`.${gatewayHost}`);
    };
    const urlOf = (entry: string) => entry.split(' ')[2] ?? '';
    const escaped = [...raw.requests.map(urlOf), ...raw.sockets, ...raw.popups].filter((u) => !onGateway(u));
    const back = unmapper(t, session.id);
    const keep = (list: string[], url: (entry: string) => string) => list.filter((e) => !own(url(e))).map(back);
    const seen: Observation = {
      url: back(raw.url),
      frames: raw.frames.map(back),
      errors: raw.errors.map((e) => back(withoutGatewaySources(t, e, raw.nonces))),
      requests: keep(raw.requests, urlOf),
      sockets: keep(raw.sockets, (u) => u),
      downloads: raw.downloads.map(back),
      popups: raw.popups.map(back),
    };
    return { seen: sorted(seen), escaped, sessionId: session.id };
  } finally {
    await context.close();
  }
}
