// The gateway's own routes on its base host: landing page, session API, join links, health.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { GatewayContext } from './context.js';
import { readCookie } from './cookie-header.js';
import { errorBody, errorPage, escapeHtml, GatewayError, toGatewayError } from './errors.js';
import { type InvitePageNotice, type InvitePageParticipant, invitePage, invitePageHeaders } from './invite-page.js';
import { landingPage } from './landing-page.js';
import type { Lifecycle } from './lifecycle.js';
import type { Participant, Session } from './session.js';
import { SESSION_ID_PATTERN } from './url-mapper.js';

/** Largest JSON body the API reads. */
const MAX_API_BODY = 64 * 1024;
/** Largest form body the invite page's forms send. */
const MAX_FORM_BODY = 4 * 1024;

/** What the refusal of a host link that was opened already says to do. */
const HOST_LINK_USED_HELP =
  '<p>A host link opens once: the first browser that opens it becomes a host of the session, and from then on the link only takes that browser back in. If that was you, open the link in the browser where you opened it first.</p>' +
  '<p>To host from this browser, ask the session\'s host for a new host link: they make one on the invite page (the "Invite…" button in the cobrowsing panel, then "New host link"). An integration that holds the session\'s admin token can ask for one with <code>POST /api/sessions/&lt;id&gt;/host-link</code>. A new host link stops this one.</p>' +
  '<p>If you did not open this link before, someone else did: tell the host, whose session it is.</p>';

/** What a removed participant's page shows. */
const REMOVED_REASON = 'The host removed you from this session.';
/** What a host removed through the admin API is shown. */
const HOST_REMOVED_REASON = 'You were removed from this session by its administrator.';

/**
 * The token the invite page's forms carry: bound to the host's participant token (which only its
 * gateway-host cookie holds) and the session, so that only a page that read the invite page (same
 * origin, no CORS) can send one.
 */
function invitePageCsrf(sessionId: string, participantToken: string): string {
  return createHash('sha256').update(`cobrowse invite page\n${sessionId}\n${participantToken}`).digest('base64url');
}

/** Name of the gateway-host cookie that remembers a browser's participant in one session. */
export function gatewayCookieName(sessionId: string): string {
  return `cobrowse_${sessionId}`;
}

/** A path on the same host that is safe to redirect to (no scheme, no `//host`). */
export function isSafeLocalPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && !/[\u0000-\u001f]/.test(path);
}

function bearer(c: Context): string | null {
  const auth = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  return m?.[1] ?? null;
}

/** Describes a session for the API. */
function sessionView(gw: GatewayContext, session: Session) {
  return {
    id: session.id,
    url: session.currentUrl,
    startUrl: session.startUrl.href,
    createdAt: new Date(session.createdAt).toISOString(),
    expiresAt: new Date(session.expiresAt).toISOString(),
    participants: [...session.participants.values()].map((p) => ({
      id: p.id,
      name: p.name,
      role: p.role,
      connected: p.connections > 0,
      joinedAt: new Date(p.joinedAt).toISOString(),
    })),
    links: inviteLinks(gw, session),
    /** Whether the current host link was opened (it opens once; POST /api/sessions/:id/host-link makes a new one). */
    hostLinkOpened: session.hostLinkOpened,
  };
}

function inviteLinks(gw: GatewayContext, session: Session): { hostUrl: string; joinUrl: string; observeUrl: string } {
  const base = gw.mapper.gatewayOrigin;
  return {
    hostUrl: `${base}/j/${session.invites.host}`,
    joinUrl: `${base}/j/${session.invites.controller}`,
    observeUrl: `${base}/j/${session.invites.observer}`,
  };
}

/** Names the session's current host link on the invite page without giving it away (a hash of its secret). */
function hostLinkTag(session: Session): string {
  return createHash('sha256').update(`host-link:${session.invites.host}`).digest('base64url').slice(0, 22);
}

/** The participants as the invite page of `viewer` lists them. */
function invitePagePeople(session: Session, viewer: Participant): InvitePageParticipant[] {
  return [...session.participants.values()].map((p) => ({
    id: p.id,
    name: p.name,
    role: p.role,
    connected: p.connections > 0,
    self: p.id === viewer.id,
  }));
}

/** Parses the URL a session should start at; throws BAD_REQUEST or SITE_NOT_ALLOWED. */
export function parseStartUrl(gw: GatewayContext, raw: unknown): URL {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new GatewayError('BAD_REQUEST', 400, 'The body needs a "url" string, e.g. {"url": "https://example.com/"}.');
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new GatewayError('BAD_REQUEST', 400, `"url" is not an absolute URL: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('BAD_REQUEST', 400, '"url" must start with http:// or https://.');
  }
  if (!gw.allowlist.allows(url)) {
    throw new GatewayError('SITE_NOT_ALLOWED', 403, gw.allowlist.refusal(url));
  }
  return url;
}

/** Compares two secrets in constant time. */
function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** What the operational routes need beyond the gateway context. */
export interface OpsOptions {
  lifecycle?: Lifecycle;
  /** METRICS_TOKEN: when set, GET /metrics needs it as a bearer token. */
  metricsToken?: string | null;
}

/** Builds the Hono app that serves the gateway host. */
export function createGatewayApp(gw: GatewayContext, ops: OpsOptions = {}): Hono {
  const app = new Hono();

  const requireApiKey = (c: Context): void => {
    if (gw.apiKey && bearer(c) !== gw.apiKey) {
      throw new GatewayError('UNAUTHORIZED', 401, 'This gateway needs an API key: send "Authorization: Bearer <key>".');
    }
  };
  const sessionForAdmin = async (c: Context): Promise<Session> => {
    const session = await gw.registry.load(c.req.param('id') ?? '');
    const token = bearer(c);
    if (!session) throw new GatewayError('SESSION_NOT_FOUND', 404, 'No live session has this id.');
    if (!token || (token !== session.adminToken && token !== gw.apiKey)) {
      throw new GatewayError('UNAUTHORIZED', 401, 'Send the session\'s adminToken (or the API key) as "Authorization: Bearer <token>".');
    }
    return session;
  };

  // Live while the process runs; `sessions` counts every node's sessions, `state` says whether the session store answers.
  app.get('/healthz', async (c) => {
    c.header('Cache-Control', 'no-store');
    const problem = await gw.stateHealth();
    const sessions = problem ? gw.registry.size : await gw.registry.count().catch(() => gw.registry.size);
    return c.json({ status: problem ? 'degraded' : 'ok', sessions, state: problem ?? 'ok' });
  });

  // Ready to take traffic: not while draining, nor while a dependency check (e.g. Redis) fails.
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (!ops.lifecycle) return c.json({ status: 'ready', checks: {} });
    const r = await ops.lifecycle.readiness();
    return c.json({ status: r.ready ? 'ready' : r.state === 'running' ? 'not-ready' : r.state, checks: r.checks }, r.ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    if (!gw.metrics) throw new GatewayError('NOT_FOUND', 404, 'Metrics are turned off (metrics.enabled: false).');
    if (ops.metricsToken && !sameSecret(bearer(c), ops.metricsToken)) {
      gw.metrics.rejected('UNAUTHORIZED');
      const error = { code: 'UNAUTHORIZED', message: 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".' };
      return c.json({ error }, 401, { 'WWW-Authenticate': 'Bearer realm="metrics"', 'Cache-Control': 'no-store' });
    }
    const { contentType, body } = await gw.metrics.render();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });

  app.get('/', (c) => {
    const nonce = crypto.randomUUID();
    c.header(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    c.header('Cache-Control', 'no-store');
    return c.html(landingPage(gw.sites, Boolean(gw.apiKey), nonce));
  });

  app.post('/api/sessions', async (c) => {
    requireApiKey(c);
    if (ops.lifecycle?.draining) {
      gw.metrics?.rejected('DRAINING');
      c.header('Retry-After', '5');
      return c.json({ error: { code: 'DRAINING', message: 'This gateway is shutting down and takes no new sessions: try again in a few seconds.' } }, 503);
    }
    const text = await c.req.text();
    if (text.length > MAX_API_BODY) throw new GatewayError('PAYLOAD_TOO_LARGE', 413, `The body is larger than ${MAX_API_BODY} bytes.`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new GatewayError('BAD_REQUEST', 400, 'The body must be JSON like {"url": "https://example.com/"}.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new GatewayError('BAD_REQUEST', 400, 'The body must be a JSON object like {"url": "https://example.com/"}.');
    }
    const url = parseStartUrl(gw, (body as Record<string, unknown>).url);
    const session = await gw.registry.create(url);
    gw.log.info('session created', { sessionId: session.id, origin: url.origin });
    gw.metrics?.sessionCreated();
    return c.json({ id: session.id, ...inviteLinks(gw, session), expiresAt: new Date(session.expiresAt).toISOString(), adminToken: session.adminToken }, 201);
  });

  app.get('/api/sessions/:id', async (c) => {
    const session = await sessionForAdmin(c);
    await gw.registry.refresh(session);
    return c.json(sessionView(gw, session));
  });

  // The audit log: joins, leaves, control changes, navigations, blocked actions (never a masked value).
  app.get('/api/sessions/:id/audit', async (c) => c.json({ entries: await gw.registry.auditOf(await sessionForAdmin(c)) }));

  // New join links (controller and observer): the old ones stop on every node at once.
  app.post('/api/sessions/:id/invites/rotate', async (c) => {
    const session = await sessionForAdmin(c);
    await gw.registry.members.rotateInvites(session, null);
    gw.log.info('join links replaced by API', { sessionId: session.id });
    return c.json(inviteLinks(gw, session));
  });

  // A new host link (the current one opens once): the old one stops on every node at once; the
  // hosts who came in through it stay. The answer is the only place the new link is shown.
  app.post('/api/sessions/:id/host-link', async (c) => {
    const session = await sessionForAdmin(c);
    await gw.registry.members.rotateHostInvite(session, null);
    c.header('Cache-Control', 'no-store');
    return c.json({ hostUrl: inviteLinks(gw, session).hostUrl });
  });

  // Removes a participant, a host too (one a leaked host link made): its cookies stop working, its
  // sockets close with the reason. A new host link (above) then brings the real host back in.
  app.delete('/api/sessions/:id/participants/:pid', async (c) => {
    const session = await sessionForAdmin(c);
    const reason = (target: Participant) => (target.role === 'host' ? HOST_REMOVED_REASON : REMOVED_REASON);
    await gw.registry.members.removeParticipant(session, c.req.param('pid') ?? '', reason, null, { detail: 'removed through the API', hosts: true });
    return c.body(null, 204);
  });

  app.delete('/api/sessions/:id', async (c) => {
    const session = await sessionForAdmin(c);
    await gw.registry.end(session.id, 'The host ended the session.');
    gw.log.info('session ended by API', { sessionId: session.id });
    return c.body(null, 204);
  });

  // Join link: makes (or finds) this browser's participant, then hands it to the proxied host.
  app.get('/j/:invite', async (c) => {
    const invite = c.req.param('invite');
    await refuseRemovedParticipant(gw, invite, c.req.header('cookie'));
    const existing = await findInvitedParticipant(gw, invite, c.req.header('cookie'));
    let joined: { session: Session; participant: Participant };
    try {
      joined = existing ?? (await gw.registry.members.join(invite));
    } catch (err) {
      if (!(err instanceof GatewayError) || err.code !== 'HOST_LINK_USED') throw err;
      gw.metrics?.rejected(err.code);
      c.header('Cache-Control', 'no-store');
      if ((c.req.header('accept') ?? '').includes('application/json')) {
        return c.body(errorBody(err), 409, { 'content-type': 'application/json; charset=utf-8' });
      }
      return c.html(errorPage(err).replace('</body>', `${HOST_LINK_USED_HELP}</body>`), 409);
    }
    const { session, participant } = joined;
    if (!existing) gw.log.info('participant joined', { sessionId: session.id, participantId: participant.id, role: participant.role });
    const secure = gw.mapper.scheme === 'https:' ? '; Secure' : '';
    c.header('Set-Cookie', `${gatewayCookieName(session.id)}=${participant.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=604800${secure}`);
    c.header('Cache-Control', 'no-store');
    const current = new URL(session.currentUrl);
    const label = session.origins.labelFor(current.origin) ?? 'o1';
    const to = participant.role === 'host' ? `${current.pathname}${current.search}` : '/__cobrowse/view';
    return c.redirect(await enterUrl(gw, session, participant, label, to), 302);
  });

  // The session's join links for its host (the panel's "Invite…" button opens this page): never
  // sent to a proxied page, whose scripts are the sites'. The host is known by its cookie on this
  // host only (set by /j/ when it opened the host link); anyone else gets a 403 page. No CORS
  // header, no framing, no no-cors embedding: a proxied page can open it, never read it.
  app.get('/s/:sessionId/invite', async (c) => {
    const nonce = crypto.randomUUID();
    const headers = invitePageHeaders(nonce);
    const host = await inviteHost(c, headers);
    if (host instanceof Response) return host;
    const { session, participant } = host;
    const { joinUrl, observeUrl } = inviteLinks(gw, session);
    const people = invitePagePeople(session, participant);
    const done = c.req.query('done');
    const notice: InvitePageNotice = done === 'rotated' || done === 'removed' ? done : null;
    const csrf = invitePageCsrf(session.id, participant.token);
    return c.html(
      invitePage(session.id, { joinUrl, observeUrl }, nonce, csrf, people, notice, { hostLinkOpened: session.hostLinkOpened, current: hostLinkTag(session) }),
      200,
      headers,
    );
  });

  // The invite page's forms: same origin only (Sec-Fetch-Site, else Origin), the host's
  // cookie (SameSite=Lax: a proxied host is same-site and would send it, hence the Origin check)
  // and the page's token. Then back to the page (303), which shows the outcome.
  app.post('/s/:sessionId/invite/rotate', async (c) => {
    const headers = invitePageHeaders(crypto.randomUUID());
    const host = await inviteForm(c, headers);
    if (host instanceof Response) return host;
    await gw.registry.members.rotateInvites(host.session, host.participant);
    gw.log.info('join links replaced by the host', { sessionId: host.session.id, participantId: host.participant.id });
    return c.redirect(`/s/${host.session.id}/invite?done=rotated`, 303);
  });

  // "New host link": the new link is shown once, in this POST's own answer (no-store), never in a
  // URL (a redirect's query would end up in logs and history).
  app.post('/s/:sessionId/invite/host-link', async (c) => {
    const nonce = crypto.randomUUID();
    const headers = invitePageHeaders(nonce);
    const host = await inviteForm(c, headers);
    if (host instanceof Response) return host;
    const { session, participant } = host;
    const csrf = invitePageCsrf(session.id, participant.token);
    // Only the link the page was shown with is replaced: the same form sent again must not take
    // away the link its first answer gave (the host may have sent it to someone already).
    if (!sameSecret(host.form.get('current'), hostLinkTag(session))) {
      gw.log.info('new host link not made: the form named another link', { sessionId: session.id, participantId: participant.id });
      const { joinUrl, observeUrl } = inviteLinks(gw, session);
      const page = invitePage(session.id, { joinUrl, observeUrl }, nonce, csrf, invitePagePeople(session, participant), 'host-link-stale', {
        hostLinkOpened: session.hostLinkOpened,
        current: hostLinkTag(session),
      });
      return c.html(page, 409, headers);
    }
    await gw.registry.members.rotateHostInvite(session, participant);
    const { hostUrl, joinUrl, observeUrl } = inviteLinks(gw, session);
    const people = invitePagePeople(session, participant);
    return c.html(
      invitePage(session.id, { joinUrl, observeUrl }, nonce, csrf, people, 'host-link', {
        hostLinkOpened: false,
        newHostUrl: hostUrl,
        current: hostLinkTag(session),
      }),
      200,
      headers,
    );
  });

  app.post('/s/:sessionId/invite/remove', async (c) => {
    const headers = invitePageHeaders(crypto.randomUUID());
    const host = await inviteForm(c, headers);
    if (host instanceof Response) return host;
    const target = host.form.get('participant') ?? '';
    try {
      await gw.registry.members.removeParticipant(host.session, target, REMOVED_REASON, host.participant);
    } catch (err) {
      const gerr = toGatewayError(err);
      gw.metrics?.rejected(gerr.code);
      return c.html(
        errorPage(gerr).replace('</body>', `<p><a href="/s/${host.session.id}/invite">Back to the invite page</a></p></body>`),
        gerr.status as 400,
        headers,
      );
    }
    return c.redirect(`/s/${host.session.id}/invite?done=removed`, 303);
  });

  /** The session and its host behind an invite page request, or the refusal page to send. */
  async function inviteHost(c: Context, headers: Record<string, string>): Promise<{ session: Session; participant: Participant } | Response> {
    const id = c.req.param('sessionId') ?? '';
    const session = SESSION_ID_PATTERN.test(id) ? await gw.registry.load(id) : undefined;
    if (!session || session.ended) {
      const err = new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
      gw.metrics?.rejected(err.code);
      return c.html(errorPage(err), 404, headers);
    }
    // The host role may have passed on through another node a moment ago.
    await gw.registry.refresh(session);
    const token = readCookie(c.req.header('cookie'), gatewayCookieName(session.id));
    const found = token ? await gw.registry.members.participantByToken(token, session.id) : null;
    if (found?.participant.role !== 'host') {
      gw.metrics?.rejected('NOT_HOST');
      gw.log.info('invite page refused', { sessionId: session.id, participantId: found?.participant.id, role: found?.participant.role });
      const err = new GatewayError('NOT_HOST', 403, "Only the session's host can see its join links.");
      const help =
        '<p>Open this page from the browser that runs the session as its host: the "Invite…" button in its cobrowsing panel. If you were sent here to join, ask the host for a join link.</p>';
      return c.html(errorPage(err).replace('</body>', `${help}</body>`), 403, headers);
    }
    return found;
  }

  /** `inviteHost` for one of the page's forms: same origin, the form's token, a small urlencoded body. */
  async function inviteForm(
    c: Context,
    headers: Record<string, string>,
  ): Promise<{ session: Session; participant: Participant; form: URLSearchParams } | Response> {
    const refuse = (err: GatewayError) => {
      gw.metrics?.rejected(err.code);
      gw.log.warn('invite page form refused', { sessionId: c.req.param('sessionId'), code: err.code });
      return c.html(errorPage(err), err.status as 403, headers);
    };
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    // The page's no-referrer policy makes the browser send `Origin: null` with its forms; the
    // browser's own Sec-Fetch-Site (no script can set it) then says where the form was.
    const sameOrigin =
      site === undefined
        ? origin === gw.mapper.gatewayOrigin
        : site === 'same-origin' && (origin === undefined || origin === 'null' || origin === gw.mapper.gatewayOrigin);
    if (!sameOrigin) {
      return refuse(
        new GatewayError(
          'BAD_ORIGIN',
          403,
          `This form works only from the session's invite page on ${gw.mapper.gatewayOrigin} (the request came from ${origin ? origin.slice(0, 200) : 'no origin'}${site ? `, ${site.slice(0, 40)}` : ''}).`,
        ),
      );
    }
    const host = await inviteHost(c, headers);
    if (host instanceof Response) return host;
    const text = await c.req.text();
    if (text.length > MAX_FORM_BODY) return refuse(new GatewayError('PAYLOAD_TOO_LARGE', 413, `The form is larger than ${MAX_FORM_BODY} bytes.`));
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return refuse(new GatewayError('BAD_REQUEST', 400, 'The invite page sends its forms as application/x-www-form-urlencoded.'));
    }
    const form = new URLSearchParams(text);
    if (!sameSecret(form.get('csrf'), invitePageCsrf(host.session.id, host.participant.token))) {
      return refuse(new GatewayError('FORBIDDEN', 403, 'This form is out of date or not from the invite page: open the invite page again and retry.'));
    }
    return { ...host, form };
  }

  // A proxied host without the participant cookie sends the browser here for a fresh ticket.
  app.get('/t/:sessionId', async (c) => {
    const session = await gw.registry.load(c.req.param('sessionId'));
    if (!session) throw new GatewayError('SESSION_NOT_FOUND', 404, 'This cobrowsing session has ended or never existed.');
    const token = readCookie(c.req.header('cookie'), gatewayCookieName(session.id));
    const found = token ? await gw.registry.members.participantByToken(token, session.id) : null;
    if (!found) throw new GatewayError('NOT_A_PARTICIPANT', 403, 'You are not a participant of this session. Ask the host for a join link.');
    const label = c.req.query('host') ?? '';
    const to = c.req.query('to') ?? '/';
    if (!(await gw.registry.originOf(session, label))) throw new GatewayError('NOT_FOUND', 404, 'This session has no such site.');
    if (!isSafeLocalPath(to)) throw new GatewayError('BAD_REQUEST', 400, 'The "to" parameter must be a path on the proxied site.');
    c.header('Cache-Control', 'no-store');
    return c.redirect(await enterUrl(gw, session, found.participant, label, to), 302);
  });

  app.get('/blocked', (c) => {
    const target = c.req.query('url') ?? '';
    const err = new GatewayError('SITE_NOT_ALLOWED', 403, 'This site is not allowed on this cobrowsing gateway.');
    return c.html(errorPage(err).replace('</body>', `<p>The page tried to open <code>${escapeHtml(target.slice(0, 500))}</code>.</p></body>`), 403);
  });

  app.notFound((c) => {
    throw new GatewayError('NOT_FOUND', 404, `Nothing is served at ${c.req.path}.`);
  });

  app.onError((err, c) => {
    const gerr = toGatewayError(err);
    gw.metrics?.rejected(gerr.code);
    if (gerr.status >= 500)
      gw.log.error('gateway route failed', {
        path: c.req.path.startsWith('/j/') ? '/j/:invite' : c.req.path,
        code: gerr.code,
        cause: String(gerr.cause ?? err),
      });
    const wantsJson = c.req.path.startsWith('/api/') || (c.req.header('accept') ?? '').includes('application/json');
    return new Response(wantsJson ? errorBody(gerr) : errorPage(gerr), {
      status: gerr.status,
      headers: { 'content-type': wantsJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });
  });

  return app;
}

/** A browser whose cookie belongs to a participant the host removed does not come back through a link of that session. */
async function refuseRemovedParticipant(gw: GatewayContext, invite: string, cookieHeader: string | undefined): Promise<void> {
  const granted = await gw.registry.members.invite(invite);
  if (!granted) return;
  const token = readCookie(cookieHeader, gatewayCookieName(granted.session.id));
  if (token && (await gw.registry.members.wasRemoved(token, granted.session.id))) {
    throw new GatewayError('REMOVED', 403, 'The host removed you from this session.');
  }
}

async function findInvitedParticipant(
  gw: GatewayContext,
  invite: string,
  cookieHeader: string | undefined,
): Promise<{ session: Session; participant: Participant } | null> {
  const granted = await gw.registry.members.invite(invite);
  if (!granted) return null;
  const token = readCookie(cookieHeader, gatewayCookieName(granted.session.id));
  const found = token ? await gw.registry.members.participantByToken(token, granted.session.id) : null;
  if (!found) return null;
  // The browser that opened the host link goes back in as the participant it made, whatever its
  // role now (the host role may have passed on); any other participant only with the link's role.
  const opener = granted.role === 'host' && found.session.hostLinkOpenedBy === found.participant.id;
  return opener || found.participant.role === granted.role ? found : null;
}

async function enterUrl(gw: GatewayContext, session: Session, participant: Participant, label: string, to: string): Promise<string> {
  const ticket = await gw.registry.members.issueTicket(session, participant, label);
  return `${gw.mapper.proxiedOrigin({ label, sessionId: session.id })}/__cobrowse/enter?ticket=${encodeURIComponent(ticket)}&to=${encodeURIComponent(to)}`;
}
