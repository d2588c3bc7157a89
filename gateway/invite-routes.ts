// The invite page's routes on the gateway host: the page (GET /s/<sessionId>/invite) and its
// forms ("New links", "New host link", "Remove"), for the session's host only (invite-page.ts
// writes the page).

import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { GatewayContext } from './context.js';
import { readCookie } from './cookie-header.js';
import { errorPage, GatewayError, toGatewayError } from './errors.js';
import { gatewayCookieName, inviteLinks, REMOVED_REASON, sameSecret } from './invite-links.js';
import { type InvitePageNotice, type InvitePageParticipant, invitePage, invitePageHeaders } from './invite-page.js';
import type { Participant, Session } from './session.js';
import { SESSION_ID_PATTERN } from './url-mapper.js';

/** Largest form body the invite page's forms send. */
const MAX_FORM_BODY = 4 * 1024;

/**
 * The token the invite page's forms carry: bound to the host's participant token (which only its
 * gateway-host cookie holds) and the session, so that only a page that read the invite page (same
 * origin, no CORS) can send one.
 */
function invitePageCsrf(sessionId: string, participantToken: string): string {
  return createHash('sha256').update(`cobrowse invite page\n${sessionId}\n${participantToken}`).digest('base64url');
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

/** Adds the invite page and its forms to the gateway host's app. */
export function addInviteRoutes(app: Hono, gw: GatewayContext): void {
  /** The invite page as the host `participant` sees it, with `notice`, and a new host link to show once. */
  const pageFor = (session: Session, participant: Participant, nonce: string, notice: InvitePageNotice, newHostUrl?: string): string => {
    const { joinUrl, observeUrl } = inviteLinks(gw, session);
    const csrf = invitePageCsrf(session.id, participant.token);
    const hostLink = { hostLinkOpened: newHostUrl === undefined && session.hostLinkOpened, newHostUrl, current: hostLinkTag(session) };
    return invitePage(session.id, { joinUrl, observeUrl }, nonce, csrf, invitePagePeople(session, participant), notice, hostLink);
  };

  // The session's join links for its host (the panel's "Invite…" button opens this page): never
  // sent to a proxied page, whose scripts are the sites'. The host is known by its cookie on this
  // host only (set by /j/ when it opened the host link); anyone else gets a 403 page. No CORS
  // header, no framing, no no-cors embedding: a proxied page can open it, never read it.
  app.get('/s/:sessionId/invite', async (c) => {
    const nonce = crypto.randomUUID();
    const headers = invitePageHeaders(nonce);
    const host = await inviteHost(c, headers);
    if (host instanceof Response) return host;
    const done = c.req.query('done');
    const notice: InvitePageNotice = done === 'rotated' || done === 'removed' || done === 'removed-rotated' ? done : null;
    return c.html(pageFor(host.session, host.participant, nonce, notice), 200, headers);
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
    // Only the link the page was shown with is replaced: the same form sent again must not take
    // away the link its first answer gave (the host may have sent it to someone already).
    if (!sameSecret(host.form.get('current'), hostLinkTag(session))) {
      gw.log.info('new host link not made: the form named another link', { sessionId: session.id, participantId: participant.id });
      return c.html(pageFor(session, participant, nonce, 'host-link-stale'), 409, headers);
    }
    await gw.registry.members.rotateHostInvite(session, participant);
    return c.html(pageFor(session, participant, nonce, 'host-link', inviteLinks(gw, session).hostUrl), 200, headers);
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
    // The links they had stop too: nobody comes back with them, from any browser.
    if (host.form.get('rotate') !== '1') return c.redirect(`/s/${host.session.id}/invite?done=removed`, 303);
    await gw.registry.members.rotateInvites(host.session, host.participant);
    gw.log.info('join links replaced by the host with a removal', { sessionId: host.session.id, participantId: host.participant.id });
    return c.redirect(`/s/${host.session.id}/invite?done=removed-rotated`, 303);
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
}
