// The gateway's own routes on its base host: landing page, session API, join links, health.

import type { Context } from 'hono';
import { Hono } from 'hono';
import type { GatewayContext } from './context.js';
import { readCookie } from './cookie-header.js';
import { errorBody, errorPage, escapeHtml, GatewayError, toGatewayError } from './errors.js';
import { gatewayCookieName, inviteLinks, REMOVED_REASON, sameSecret } from './invite-links.js';
import { addInviteRoutes } from './invite-routes.js';
import { landingPage } from './landing-page.js';
import type { Lifecycle } from './lifecycle.js';
import type { Participant, Session } from './session.js';

/** Largest JSON body the API reads. */
const MAX_API_BODY = 64 * 1024;

/** What the refusal of a host link that was opened already says to do. */
const HOST_LINK_USED_HELP =
  '<p>A host link opens once: the first browser that opens it becomes a host of the session, and from then on the link only takes that browser back in. If that was you, open the link in the browser where you opened it first.</p>' +
  '<p>To host from this browser, ask the session\'s host for a new host link: they make one on the invite page (the "Invite…" button in the cobrowsing panel, then "New host link"). An integration that holds the session\'s admin token can ask for one with <code>POST /api/sessions/&lt;id&gt;/host-link</code>. A new host link stops this one.</p>' +
  '<p>If you did not open this link before, someone else did: tell the host, whose session it is.</p>';

/** What a host removed through the admin API is shown. */
const HOST_REMOVED_REASON = 'You were removed from this session by its administrator.';

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
  if (url.username !== '' || url.password !== '') {
    // The allowlist refuses them (it said the site was not allowed, which was not why).
    throw new GatewayError('BAD_REQUEST', 400, '"url" must not carry a user name or password: sign in on the site once the session has started.');
  }
  if (!gw.allowlist.allows(url)) {
    throw new GatewayError('SITE_NOT_ALLOWED', 403, gw.allowlist.refusal(url));
  }
  return url;
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
    // The fragment goes along (the enter redirect's Location keeps it): a session started on
    // `/docs#install` opens its host at that anchor, as the link would open directly.
    const to = participant.role === 'host' ? `${current.pathname}${current.search}${current.hash}` : '/__cobrowse/view';
    return c.redirect(await enterUrl(gw, session, participant, label, to), 302);
  });

  addInviteRoutes(app, gw);

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
    c.header(...ENTRY_HOP_TIMING);
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

/**
 * On the hops of a participant's entry to a host (the bounce to /t/, the ticket's redirect): a
 * page may read the timing of what it loads there (Resource Timing) when the site's answer lets
 * it, which the browser checks on every hop of a redirect chain. The chain crosses origins, so
 * the request's origin is then no longer the page's: only a site's `*` passes on these loads.
 */
export const ENTRY_HOP_TIMING: [string, string] = ['timing-allow-origin', '*'];

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
