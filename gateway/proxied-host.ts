// Requests on a proxied host (<label>--<session>.<base>): the reserved /__cobrowse/ paths, the
// participant check, role rules, then the proxy pipeline.

import type { Readable } from 'node:stream';
import { realCookieDomain } from '../protocol/cookie-domain.js';
import { RUNTIME_HEADER, RUNTIME_HEADER_VALUE } from '../protocol/runtime-requests.js';
import { ENTRY_HOP_TIMING, isSafeLocalPath } from './api.js';
import type { GatewayContext } from './context.js';
import { readCookies } from './cookie-header.js';
import { canBounce, fromOpaqueDocument, isCorsRequest, isDocumentNavigation, ownOmittingCredentials } from './cookieless-requests.js';
import { containmentHeader } from './csp.js';
import { GATEWAY_ANSWER_SANDBOX, UNREACHABLE_PAGE } from './document-sandbox.js';
import { errorPage, GatewayError, toGatewayError } from './errors.js';
import type { Exchange } from './http-bridge.js';
import { browserUrlFor, maskSelectorsFor, proxyRequest } from './proxy.js';
import type { Participant, Session } from './session.js';
import { restoreTunneledMethod } from './tunneled-method.js';
import { MAX_REQUEST_BODY } from './upstream.js';
import { type ProxiedHost, withPathOf } from './url-mapper.js';
import { viewPage } from './view-page.js';

/** Host-only cookie on each proxied host that carries the participant token; never sent upstream. */
export const PARTICIPANT_COOKIE = '__cobrowse';

/** Reserved path prefix on proxied hosts; the real site's paths under it are not reachable. */
export const RESERVED_PREFIX = '/__cobrowse/';

/** The participant behind a request's cookie on a proxied host of `sessionId`. */
export async function participantFromCookie(
  gw: GatewayContext,
  cookieHeader: string | undefined,
  sessionId: string,
): Promise<{ session: Session; participant: Participant } | null> {
  // Every value: a cookie of the same name that a site's script set for the gateway's parent
  // domain comes along too (browsers may put it first); a garbage one must not lock the participant out.
  for (const token of readCookies(cookieHeader, PARTICIPANT_COOKIE, 4)) {
    const found = token ? await gw.registry.members.participantByToken(token, sessionId) : null;
    if (found) return found;
  }
  return null;
}

const NO_STORE: [string, string][] = [['cache-control', 'no-store']];

/** On every answer of the runtime's endpoints, refusals too: never a script or a resource of another page. */
const OWN_PAGE_ONLY: [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['cross-origin-resource-policy', 'same-origin'],
];

/**
 * Refuses a request to a runtime endpoint that answers session data or changes state
 * (/__cobrowse/cookies, /__cobrowse/map) unless it comes from a page of this very proxied host.
 * Every proxied host is the same site to the browser and the participant cookie is SameSite=Lax,
 * so another site's page of the session can make credentialed requests here (a <script src>, an
 * <img>, a form, a no-cors fetch). Required: the runtime's header (none of those can carry it; a
 * cross-origin request with it needs a preflight, never granted for /__cobrowse/ paths), and
 * Sec-Fetch-Site same-origin when the browser sent Fetch Metadata (a plain-http gateway on a
 * name other than localhost gets none), and an Origin of this host when one was sent ("null" is
 * what a same-origin POST of a page with Referrer-Policy: no-referrer carries).
 */
function requireOwnPage(gw: GatewayContext, exchange: Exchange, host: ProxiedHost, header = true): void {
  const { headers } = exchange.request;
  const site = headers['sec-fetch-site'];
  const origin = headers.origin;
  const own = gw.mapper.proxiedOrigin(host);
  exchange.extraHeaders = [...exchange.extraHeaders, ...OWN_PAGE_ONLY];
  const refuse = (why: string) => {
    throw new GatewayError('BAD_ORIGIN', 403, `Only this site's own page may use ${new URL(exchange.request.url, own).pathname} (${why}).`);
  };
  if (header && headers[RUNTIME_HEADER] !== RUNTIME_HEADER_VALUE) refuse(`the ${RUNTIME_HEADER} header is missing`);
  if (site !== undefined && site !== 'same-origin') refuse(`Sec-Fetch-Site is ${site}`);
  if (origin !== undefined && origin !== 'null' && origin !== own) refuse(`the request came from ${origin}`);
}

function redirect(exchange: Exchange, location: string, extra: [string, string][] = []): void {
  exchange.sendComplete(302, [['location', location], ...NO_STORE, ['referrer-policy', 'no-referrer'], ...extra], '');
}

/** Serves one request on a proxied host; every error becomes a clear page or JSON answer. */
export async function serveProxiedHost(gw: GatewayContext, exchange: Exchange, host: ProxiedHost): Promise<void> {
  // Lifetime rule: the body must be claimed synchronously, before the first await.
  const body = exchange.readBody(MAX_REQUEST_BODY);
  // Every answer of a proxied host, the site's and the gateway's own (error pages, the follower
  // view, /__cobrowse/ pages): a page can frame any of them and use its window, so all of them
  // carry the containment policy (a CSP on a response that is not a document or worker is inert).
  exchange.extraHeaders = containmentHeader(gw.mapper.gatewayOrigin);
  try {
    await route(gw, exchange, host, body);
  } catch (err) {
    body?.destroy();
    // The client went away: there is nobody to answer and nothing failed on the gateway's side
    // (the access log line says it was aborted).
    if (exchange.aborted) return;
    const gerr = toGatewayError(err);
    // The one place a refusal on a proxied host is counted in cobrowse_rejected_total (nothing under route counts one).
    gw.metrics?.rejected(gerr.code);
    if (gerr.status >= 500)
      gw.log.warn('proxied request failed', { ...exchange.annotations, sessionId: host.sessionId, code: gerr.code, cause: String(gerr.cause ?? '') });
    const html = (exchange.request.headers.accept ?? '').includes('text/html');
    exchange.fail(
      gerr.status,
      [['content-type', html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8'], ...NO_STORE, ...GATEWAY_ANSWER_SANDBOX],
      html ? errorPage(gerr) : JSON.stringify({ error: { code: gerr.code, message: gerr.message } }),
    );
  }
}

/**
 * The participant cookie: host-only, HttpOnly, SameSite=Lax. All proxied hosts of a gateway are
 * one site for browsers (subdomains of the base host), so the cookie also goes with a page's
 * credentialed requests to the session's other hosts.
 */
function participantCookie(gw: GatewayContext, token: string): string {
  return `${PARTICIPANT_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax${gw.mapper.scheme === 'https:' ? '; Secure' : ''}`;
}

function proxiedOriginFor(gw: GatewayContext, session: Session, origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return '';
  }
  if (!gw.allowlist.allows(url)) return '';
  const label = session.origins.labelFor(url.origin);
  return label ? gw.mapper.proxiedOrigin({ label, sessionId: session.id }) : '';
}

/** The browser's Origin when it is a proxied host of `session` (no other page may read the gateway's answers). */
function sessionOriginOf(gw: GatewayContext, session: Session, origin: string | undefined): string | null {
  if (!origin || origin === 'null') return null;
  try {
    return gw.mapper.parseHost(new URL(origin).host)?.sessionId === session.id ? new URL(origin).origin : null;
  } catch {
    return null;
  }
}

async function realOriginFor(gw: GatewayContext, session: Session, proxied: string): Promise<string> {
  let host: ProxiedHost | null;
  try {
    host = gw.mapper.parseHost(new URL(proxied).host);
  } catch {
    return '';
  }
  return host?.sessionId === session.id ? ((await gw.registry.originOf(session, host.label)) ?? '') : '';
}

/** Largest document.cookie assignment accepted. */
const MAX_COOKIE_ASSIGNMENT = 8192;

/**
 * document.cookie for the host's page: GET reads the script-visible cookies for `?path=`, POST
 * stores one assignment (HttpOnly refused) before answering, so the page's next request has it.
 */
async function serveScriptCookies(
  gw: GatewayContext,
  exchange: Exchange,
  host: ProxiedHost,
  session: Session,
  participant: Participant,
  url: URL,
  body: Readable | null,
): Promise<void> {
  if (exchange.request.method !== 'GET' && exchange.request.method !== 'POST') throw new GatewayError('BAD_REQUEST', 405, 'Use GET or POST.');
  // Before anything is read or stored: another site's page of the session sends this host the participant cookie too.
  requireOwnPage(gw, exchange, host);
  const origin = session.origins.originOf(host.label);
  const path = url.searchParams.get('path') ?? '/';
  if (!origin || !path.startsWith('/')) throw new GatewayError('BAD_REQUEST', 400, 'The "path" parameter must be a path on this site.');
  const pageUrl = withPathOf(origin, path);
  // Only the host's page runs the site's scripts; a follower has no use for them (and they may hold tokens).
  if (participant.role !== 'host') throw new GatewayError('FORBIDDEN', 403, "Only the host's page reads and sets the site's cookies.");
  // The page's own document.cookie, same-site to itself ('strict'): this endpoint cannot tell a
  // top-level page from one framed by another site (which Chromium gives SameSite=None cookies
  // only, and which the copy embedded in such a page has: see same-site.ts).
  if (exchange.request.method === 'POST') {
    const assignment = body ? await readText(body, MAX_COOKIE_ASSIGNMENT) : '';
    const proxiedHostname = new URL(gw.mapper.proxiedOrigin(host)).hostname;
    await session.jar.setFromScript(realCookieDomain(assignment, proxiedHostname, pageUrl.hostname), pageUrl, 'strict');
  }
  const view = await session.jar.scriptView(pageUrl, 'strict');
  // JSON with nosniff: never a script another page could run (`n=1` was one), nor readable by ORB.
  exchange.sendComplete(
    200,
    [['content-type', 'application/json; charset=utf-8'], ...NO_STORE, ...GATEWAY_ANSWER_SANDBOX],
    JSON.stringify({ cookies: view.cookies, expires: view.expires ?? 0 }),
  );
}

async function readText(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) throw new GatewayError('PAYLOAD_TOO_LARGE', 413, `The cookie is larger than ${max} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function route(gw: GatewayContext, exchange: Exchange, host: ProxiedHost, body: ReturnType<Exchange['readBody']>): Promise<void> {
  restoreTunneledMethod(gw, exchange, host);
  const { request } = exchange;
  const url = new URL(request.url, 'http://path.invalid');
  if (url.pathname === '/__cobrowse/inject.js') {
    exchange.sendComplete(
      200,
      [['content-type', 'text/javascript; charset=utf-8'], ['cache-control', 'no-cache'], ['x-content-type-options', 'nosniff'], ...GATEWAY_ANSWER_SANDBOX],
      gw.injectBundle,
    );
    return;
  }
  if (url.pathname === '/__cobrowse/inject-worker.js') {
    // The worker runtime, for the site's workers made from blob: URLs (the page starts them through a bootstrap).
    exchange.sendComplete(
      200,
      [['content-type', 'text/javascript; charset=utf-8'], ['cache-control', 'no-cache'], ['x-content-type-options', 'nosniff'], ...GATEWAY_ANSWER_SANDBOX],
      gw.workerBundle,
    );
    return;
  }
  const session = await gw.registry.load(host.sessionId);
  if (!session) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
  if (!(await gw.registry.originOf(session, host.label))) throw new GatewayError('NOT_FOUND', 404, 'This session has no such site.');

  if (url.pathname === '/__cobrowse/enter') {
    const redeemed = await gw.registry.members.redeemTicket(url.searchParams.get('ticket') ?? '', session.id, host.label);
    if (!redeemed) throw new GatewayError('TICKET_INVALID', 403, 'This entry link has expired or was already used. Open your join link again.');
    const to = url.searchParams.get('to') ?? '/';
    if (!isSafeLocalPath(to)) throw new GatewayError('BAD_REQUEST', 400, 'The "to" parameter must be a path on this site.');
    if (!redeemed.participant.enteredLabels.has(host.label)) {
      redeemed.participant.enteredLabels.add(host.label);
      session.saveParticipant(redeemed.participant);
    }
    const cookie: [string, string] = ['set-cookie', participantCookie(gw, redeemed.participant.token)];
    if (url.searchParams.get('cors') === '1') {
      // The URL runtime's XHR from another host of the session (see inject/host-entry.ts): the cookie, and CORS for that host only.
      const origin = sessionOriginOf(gw, session, request.headers.origin);
      const cors: [string, string][] = origin
        ? [
            ['access-control-allow-origin', origin],
            ['access-control-allow-credentials', 'true'],
            ['vary', 'Origin'],
          ]
        : [];
      exchange.sendComplete(204, [cookie, ...NO_STORE, ...cors], '');
      return;
    }
    redirect(exchange, to, [cookie, ENTRY_HOP_TIMING]);
    return;
  }

  // Before any cookie-less path: a module service worker's script is fetched without credentials.
  if (request.headers['service-worker'] === 'script' || request.headers['sec-fetch-dest'] === 'serviceworker') {
    throw new GatewayError('FORBIDDEN', 403, 'Service workers are disabled while cobrowsing.');
  }
  const found = await participantFromCookie(gw, request.headers.cookie, session.id);
  if (!found && url.pathname.startsWith(RESERVED_PREFIX) && isCorsRequest(request)) {
    // A preflight (or any cookie-less CORS request) for the gateway's own endpoints: never sent
    // upstream, where the real site's CORS answer could allow another origin the runtime's header.
    throw new GatewayError('BAD_ORIGIN', 403, "The gateway's endpoints answer only their own page; no CORS request is allowed.");
  }
  const withoutCredentials =
    !url.pathname.startsWith(RESERVED_PREFIX) && (fromOpaqueDocument(request) || ownOmittingCredentials(request, gw.mapper.proxiedOrigin(host)));
  if (!found && ((isCorsRequest(request) && sessionOriginOf(gw, session, request.headers.origin)) || withoutCredentials)) {
    // A CORS request without credentials from a page of the session (a preflight, module scripts
    // and fonts of another origin, `crossorigin="anonymous"`, fetch and XHR that do not ask for
    // credentials): the browser would send the real site no cookies either, so it goes upstream
    // without the session's jar, and the site's CORS answer decides what the page may read. Whoever
    // knows a session's host name can send such requests (the Origin is theirs to write): they
    // reach only the allowed sites, carry none of the session's cookies and see none of them.
    // So does every request of a document with an opaque origin (a frame sandboxed without
    // allow-same-origin, a CORS request redirected to another origin: `Origin: null`): the browser
    // sends such requests no SameSite=Lax cookie, the participant's neither; the real site gets them
    // without its Lax and Strict cookies, and the gateway cannot tell which session page made them.
    // And a page's own fetch that omits credentials (`credentials: 'omit'`): same-origin, no cookie.
    await proxyRequest(gw, exchange, session, null, host.label, body);
    return;
  }
  if (!found) {
    if (request.method === 'GET' && canBounce(request.headers)) {
      const to = `${url.pathname}${url.search}`;
      redirect(exchange, `${gw.mapper.gatewayOrigin}/t/${session.id}?host=${encodeURIComponent(host.label)}&to=${encodeURIComponent(to)}`, [ENTRY_HOP_TIMING]);
      return;
    }
    throw new GatewayError('NOT_A_PARTICIPANT', 401, 'You are not a participant of this session. Open a join link first.');
  }
  const { participant } = found;
  Object.assign(exchange.annotations, { participantId: participant.id, role: participant.role });

  if (url.pathname === '/__cobrowse/view') {
    exchange.sendComplete(
      200,
      [['content-type', 'text/html; charset=utf-8'], ...NO_STORE, ...UNREACHABLE_PAGE],
      viewPage(participant.role, maskSelectorsFor(gw, session, host.label)),
    );
    return;
  }
  if (url.pathname === '/__cobrowse/cross-enter') {
    // A hidden frame of the host's page: hands this participant's identity to another origin of the session.
    // Issues a ticket: only for this host's own page (its frame or XHR cannot carry the runtime's header).
    requireOwnPage(gw, exchange, host, false);
    const label = url.searchParams.get('label') ?? '';
    if (!(await gw.registry.originOf(session, label))) throw new GatewayError('NOT_FOUND', 404, 'This session has no such site.');
    const ticket = await gw.registry.members.issueTicket(session, participant, label);
    const cors = url.searchParams.get('cors') === '1' ? '&cors=1' : '';
    redirect(
      exchange,
      `${gw.mapper.proxiedOrigin({ label, sessionId: session.id })}/__cobrowse/enter?ticket=${encodeURIComponent(ticket)}&to=${encodeURIComponent('/__cobrowse/entered')}${cors}`,
    );
    return;
  }
  if (url.pathname === '/__cobrowse/entered') {
    exchange.sendComplete(200, [['content-type', 'text/html; charset=utf-8'], ...NO_STORE, ...GATEWAY_ANSWER_SANDBOX], '<!DOCTYPE html><title>entered</title>');
    return;
  }
  if (url.pathname.startsWith('/__cobrowse/blocked-origin/')) {
    // Where the URL runtime sends requests to origins outside the allowlist: they end here.
    throw new GatewayError('SITE_NOT_ALLOWED', 403, 'This site is not allowed on this cobrowsing gateway.');
  }
  if (url.pathname === '/__cobrowse/map') {
    // The URL runtime met an origin the page had not linked to: its proxied origin, or '' when not
    // allowed; or (`?proxied=`) a host of this session it had not seen: the real origin behind it.
    // The session's origin table (and a lookup may add to it): for this host's own page only.
    requireOwnPage(gw, exchange, host);
    const proxied = url.searchParams.get('proxied');
    exchange.sendComplete(
      200,
      [['content-type', 'text/plain; charset=utf-8'], ...NO_STORE, ...GATEWAY_ANSWER_SANDBOX],
      proxied === null ? proxiedOriginFor(gw, session, url.searchParams.get('origin') ?? '') : await realOriginFor(gw, session, proxied),
    );
    return;
  }
  if (url.pathname === '/__cobrowse/cookies') {
    await serveScriptCookies(gw, exchange, host, session, participant, url, body);
    return;
  }
  if (url.pathname === '/__cobrowse/go' && participant.role === 'host') {
    // Navigation requested by a participant with control, resolved for the host's page.
    let real: URL;
    try {
      real = new URL(url.searchParams.get('url') ?? '');
    } catch {
      throw new GatewayError('BAD_REQUEST', 400, 'The "url" parameter must be an absolute URL.');
    }
    redirect(exchange, browserUrlFor(gw, session, real));
    return;
  }
  if (url.pathname.startsWith(RESERVED_PREFIX)) throw new GatewayError('NOT_FOUND', 404, `Nothing is served at ${url.pathname}.`);

  if (participant.role !== 'host') {
    // Followers see the host's page through the mirror; they only load its assets (read-only).
    if (request.method === 'GET' && isDocumentNavigation(request.headers)) {
      redirect(exchange, '/__cobrowse/view');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      gw.log.warn('blocked a follower request that could change state', {
        sessionId: session.id,
        participantId: participant.id,
        role: participant.role,
        method: request.method,
      });
      throw new GatewayError('FORBIDDEN', 403, "Only the host's page sends requests that change things on the site.");
    }
    // The mirror needs the page's assets, nothing the host's page reads as data: a follower's
    // fetch of /account would get the host's signed-in page, masked fields unmasked.
    await proxyRequest(gw, exchange, session, participant, host.label, body, { assetsOnly: true });
    return;
  }
  await proxyRequest(gw, exchange, session, participant, host.label, body);
}
