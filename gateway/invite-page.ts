// The invite page on the gateway host (GET /s/<sessionId>/invite): the session's two join links
// with copy buttons, "New links" (replaces both), "New host link" (a link that makes one more
// host, once; shown only in the answer of that form), and the participants with "Remove" for each
// follower; for its host only. The links are never sent to a proxied page (its scripts are the
// sites'); this page is on another origin, answered without CORS and never framed. Its forms post
// to the same origin only, with a token only this page carries (see api.ts).

import type { Role } from '../protocol/messages.js';
import { escapeHtml } from './errors.js';

/** A participant as the invite page lists it. */
export interface InvitePageParticipant {
  id: string;
  name: string;
  role: Role;
  connected: boolean;
  self: boolean;
}

/** What the page says after one of its forms did its work. */
export type InvitePageNotice = 'rotated' | 'removed' | 'removed-rotated' | 'host-link' | 'host-link-stale' | null;

/** The host link's part of the page: whether the current one was opened, and a new one to show (once). */
export interface InvitePageHostLink {
  hostLinkOpened: boolean;
  /** Only in the answer of "New host link", never in a URL. */
  newHostUrl?: string;
  /**
   * Names the host link this page was made with (never the link itself): "New host link" sends it,
   * and replaces only that link. The same form sent again (a reload of its answer, an older tab) changes nothing.
   */
  current?: string;
}

/** Headers of the invite page and its refusals: not readable nor frameable from a proxied host. */
export function invitePageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'X-Frame-Options': 'DENY',
    // No opener link to the page that opened it, and no no-cors embedding (<img>, <script>) by the
    // proxied hosts, which are same-site with the gateway host and so send its Lax cookie.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

const STYLE = `
*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f6fb}
main{max-width:46rem;margin:0 auto;padding:2rem 1rem}h1{margin:.2rem 0 1rem;font-size:1.5rem}
.card{background:#fff;border-radius:12px;padding:1.2rem 1.4rem;margin:1rem 0;box-shadow:0 1px 3px #0002}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input{width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #b9c0d0;border-radius:8px;background:#f8f9fc}
button{font:inherit;padding:.55rem 1rem;border:0;border-radius:8px;background:#3b5bdb;color:#fff;cursor:pointer;white-space:nowrap;min-width:6.5rem}
button:focus-visible,input:focus-visible{outline:3px solid #91a7ff;outline-offset:2px}
.row{display:flex;gap:.5rem;align-items:center}.row input{flex:1}.muted{color:#5c6478;font-size:.92rem}
h2{font-size:1.1rem;margin:.2rem 0 .6rem}form{margin:0}button.secondary{background:#e9ecf5;color:#1d2330}button.danger{background:#c92a2a}
.notice{background:#ebfbee;border:1px solid #8ce99a;border-radius:8px;padding:.5rem .8rem;margin:1rem 0}
ul.people{list-style:none;padding:0;margin:0}ul.people li{display:flex;gap:.8rem;align-items:center;padding:.45rem 0;border-top:1px solid #e6e9f2}
ul.people li:first-child{border-top:0}ul.people .who{flex:1}
`;

const SCRIPT = `
// The answer of "New host link" is a POST's: a reload would send the form again. Its entry becomes
// the page's own address, so that a reload shows the page (without the link) instead.
if (document.getElementById('hostUrl')) history.replaceState(null, '', location.pathname.replace(/\\/host-link$/, ''));
for (const input of document.querySelectorAll('input[readonly]')) input.addEventListener('focus', () => input.select());
for (const btn of document.querySelectorAll('button[data-copy]')) {
  btn.addEventListener('click', async () => {
    const value = document.getElementById(btn.dataset.copy).value;
    try { await navigator.clipboard.writeText(value); btn.textContent = 'Copied'; }
    catch { window.prompt('Copy this link', value); }
    setTimeout(() => { btn.textContent = 'Copy'; }, 1500);
  });
}
`;

// Text fields, not links: opening a join link in the host's own browser would make it a second
// participant there and replace the host's cookie on the gateway host.
function linkRow(id: string, label: string, url: string, hint: string): string {
  return `<label for="${id}">${label}</label><div class="row"><input id="${id}" type="text" readonly value="${escapeHtml(url)}"><button type="button" id="${id}-copy" data-copy="${id}">Copy</button></div><p class="muted">${hint}</p>`;
}

const ROLE_NAMES: Record<Role, string> = { host: 'host', controller: 'with control', observer: 'watching' };

function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
}

function personRow(sessionId: string, p: InvitePageParticipant, csrf: string): string {
  const who = `<span class="who"><strong>${escapeHtml(p.name)}</strong>${p.self ? ' (you)' : ''} <span class="muted">· ${ROLE_NAMES[p.role]} · ${p.connected ? 'connected' : 'not connected'}</span></span>`;
  if (p.role === 'host') return `<li data-participant="${escapeHtml(p.id)}">${who}</li>`;
  const id = escapeHtml(p.id);
  const name = escapeHtml(p.name);
  // "Remove and new links": the removed person cannot come back from another browser with the link they had.
  const form = `<form method="post" action="/s/${escapeHtml(sessionId)}/invite/remove">${csrfField(csrf)}<input type="hidden" name="participant" value="${id}"><button type="submit" class="danger" id="remove-${id}" aria-label="Remove ${name}">Remove</button> <button type="submit" class="danger" name="rotate" value="1" id="remove-rotate-${id}" aria-label="Remove ${name} and make new links">Remove and new links</button></form>`;
  return `<li data-participant="${escapeHtml(p.id)}">${who}${form}</li>`;
}

const NOTICES: Record<Exclude<InvitePageNotice, null>, string> = {
  rotated: 'New links are ready: the old ones no longer work. People already in the session stay.',
  removed: 'The participant was removed: their view closed and their entry no longer works.',
  'removed-rotated':
    'The participant was removed and the join links were replaced: their view closed, and the links they had no longer work, in any browser. Send the new links to the people who should still join. People already in the session stay.',
  'host-link': 'A new host link is ready (below): the old host link no longer works. Hosts already in the session stay.',
  'host-link-stale':
    'Nothing changed: this form was sent before, or the host link was replaced since this page was shown, so it did not replace the current one (which may be on its way to someone). To make another one, press "New host link" below.',
};

function hostLinkCard(id: string, csrf: string, hostLink: InvitePageHostLink): string {
  const fresh = hostLink.newHostUrl
    ? `${linkRow('hostUrl', 'New host link', hostLink.newHostUrl, '<strong>Shown this once:</strong> copy it now and send it only to the person who should host with you. This page does not show it again (make another one if it is lost).')}`
    : `<p class="muted" id="host-link-state">${hostLink.hostLinkOpened ? 'The current host link has been opened: it now only takes that browser back in.' : 'The current host link has not been opened yet.'}</p>`;
  return `<section class="card" id="host-link" aria-label="Host link"><h2>Host link</h2>
${fresh}
<p class="muted">A host link lets someone else become a host of this session: they drive the live page and browse with the session's logins, as you do. It opens once: the first browser that opens it becomes a host, and any other browser that opens it is refused. Do not open it in this browser.</p>
<form method="post" action="/s/${id}/invite/host-link">${csrfField(csrf)}${hostLink.current ? `<input type="hidden" name="current" value="${escapeHtml(hostLink.current)}">` : ''}<button type="submit" class="secondary" id="new-host-link">New host link</button> <span class="muted">Makes a new host link: the current one stops working at once. Hosts already in the session stay.</span></form>
</section>`;
}

/** The page with the two join links and the participants; `nonce` allows its one inline script, `csrf` goes with its forms. */
export function invitePage(
  sessionId: string,
  links: { joinUrl: string; observeUrl: string },
  nonce: string,
  csrf = '',
  participants: InvitePageParticipant[] = [],
  notice: InvitePageNotice = null,
  hostLink: InvitePageHostLink = { hostLinkOpened: true },
): string {
  const id = escapeHtml(sessionId);
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Invite people · Cobrowse</title><style>${STYLE}</style></head><body><main>
<h1>Invite people to this session</h1>
${notice ? `<p class="notice" id="notice" role="status">${NOTICES[notice]}</p>` : ''}
<section class="card" id="links" aria-label="Join links" data-session="${id}">
${linkRow('joinUrl', 'Link with control', links.joinUrl, 'People with this link can click, type and navigate with you.')}
${linkRow('observeUrl', 'Watch-only link', links.observeUrl, 'People with this link can only watch.')}
<p class="muted">Anyone who has a link can join until the session ends: send them only to the people you want to browse with. Do not open them in this browser: it is the host's, and would join a second time.</p>
<form method="post" action="/s/${id}/invite/rotate">${csrfField(csrf)}<button type="submit" class="secondary" id="rotate">New links</button> <span class="muted">Replaces both links: the old ones stop working at once, for everyone who has them. People already in the session stay.</span></form>
</section>
${hostLinkCard(id, csrf, hostLink)}
<section class="card" id="people" aria-label="Participants"><h2>In this session</h2>
<ul class="people">${participants.map((p) => personRow(sessionId, p, csrf)).join('')}</ul>
<p class="muted">Removing someone closes their view and stops their entry in that browser. With the link they had they could come back from another browser as a new guest: "Remove and new links" also replaces both join links (the people already in stay).</p>
</section></main><script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}
