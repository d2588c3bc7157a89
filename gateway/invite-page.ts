// The invite page on the gateway host (GET /s/<sessionId>/invite): the session's two join links
// with copy buttons, for its host only. The links are never sent to a proxied page (its scripts
// are the sites'); this page is on another origin, answered without CORS and never framed.

import { escapeHtml } from './errors.js';

/** Headers of the invite page and its refusals: not readable nor frameable from a proxied host. */
export function invitePageHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
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
`;

const SCRIPT = `
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

/** The page with the two join links; `nonce` allows its one inline script. */
export function invitePage(sessionId: string, links: { joinUrl: string; observeUrl: string }, nonce: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Invite people · Cobrowse</title><style>${STYLE}</style></head><body><main>
<h1>Invite people to this session</h1>
<section class="card" id="links" aria-label="Join links" data-session="${escapeHtml(sessionId)}">
${linkRow('joinUrl', 'Link with control', links.joinUrl, 'People with this link can click, type and navigate with you.')}
${linkRow('observeUrl', 'Watch-only link', links.observeUrl, 'People with this link can only watch.')}
<p class="muted">Anyone who has a link can join until the session ends: send them only to the people you want to browse with. Do not open them in this browser: it is the host's, and would join a second time.</p>
</section></main><script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}
