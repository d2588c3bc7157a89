// The landing page on the gateway host: pick an allowed site, start a session, share the links.

import type { SiteConfig } from '../config/schema.js';
import { escapeHtml } from './errors.js';

const STYLE = `
*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f6fb}
main{max-width:46rem;margin:0 auto;padding:2rem 1rem}h1{margin:.2rem 0 1rem;font-size:1.7rem}
.card{background:#fff;border-radius:12px;padding:1.2rem 1.4rem;margin:1rem 0;box-shadow:0 1px 3px #0002}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select{width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #b9c0d0;border-radius:8px}
button{font:inherit;padding:.55rem 1rem;border:0;border-radius:8px;background:#3b5bdb;color:#fff;cursor:pointer}
button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #91a7ff;outline-offset:2px}
.row{display:flex;gap:.5rem;align-items:center}.row input{flex:1}.muted{color:#5c6478;font-size:.92rem}
#error{color:#c92a2a;font-weight:600}.links[hidden]{display:none}.links a{word-break:break-all}
`;

const SCRIPT = `
const form = document.getElementById('start');
const out = document.getElementById('links');
const errorEl = document.getElementById('error');
const siteSel = document.getElementById('site');
const urlInput = document.getElementById('url');
siteSel.addEventListener('change', () => { urlInput.value = siteSel.value; });
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  errorEl.textContent = '';
  const headers = { 'content-type': 'application/json' };
  const key = document.getElementById('apikey');
  if (key && key.value) headers.authorization = 'Bearer ' + key.value;
  try {
    const res = await fetch('/api/sessions', { method: 'POST', headers, body: JSON.stringify({ url: urlInput.value }) });
    const data = await res.json();
    if (!res.ok) { errorEl.textContent = data.error ? data.error.message : 'The session could not be started.'; return; }
    for (const name of ['hostUrl', 'joinUrl', 'observeUrl']) {
      const a = document.getElementById(name);
      a.href = data[name];
      a.textContent = data[name];
    }
    document.getElementById('session-id').textContent = data.id;
    out.hidden = false;
  } catch (err) {
    errorEl.textContent = 'The gateway could not be reached: ' + err.message;
  }
});
for (const btn of document.querySelectorAll('button[data-copy]')) {
  btn.addEventListener('click', async () => {
    const href = document.getElementById(btn.dataset.copy).href;
    try { await navigator.clipboard.writeText(href); btn.textContent = 'Copied'; }
    catch { window.prompt('Copy this link', href); }
    setTimeout(() => { btn.textContent = 'Copy'; }, 1500);
  });
}
`;

function linkRow(id: string, label: string, hint: string): string {
  return `<label for="${id}-copy">${label}</label><div class="row"><a id="${id}" href="#" target="_blank" rel="noopener"></a><button type="button" id="${id}-copy" data-copy="${id}">Copy</button></div><p class="muted">${hint}</p>`;
}

/** Renders the landing page; `nonce` allows its one inline script under the page's CSP. */
export function landingPage(sites: readonly SiteConfig[], needsApiKey: boolean, nonce: string): string {
  const exact = sites.filter((s) => !s.pattern.wildcard);
  const wildcards = sites.filter((s) => s.pattern.wildcard);
  const options = exact.map((s) => `<option value="${escapeHtml(s.url)}/">${escapeHtml(s.name)} (${escapeHtml(s.url)})</option>`).join('');
  const first = exact[0] ? `${exact[0].url}/` : '';
  const patterns = wildcards.length
    ? `<p class="muted">Also allowed: ${wildcards.map((s) => `<code>${escapeHtml(s.url)}</code>`).join(', ')} (type a full URL below).</p>`
    : '';
  const apiKey = needsApiKey ? '<label for="apikey">API key</label><input id="apikey" type="password" autocomplete="off" required>' : '';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Cobrowse gateway</title><style>${STYLE}</style></head><body><main>
<h1>Browse a website together</h1>
<p>Start a session on one of the allowed sites, open the host link yourself, and send a join link to the people you want to browse with. Everyone sees the host's page live.</p>
<form class="card" id="start"><label for="site">Allowed sites</label>
<select id="site">${options}</select>${patterns}
<label for="url">Start page</label><input id="url" name="url" type="url" required value="${escapeHtml(first)}" placeholder="https://example.com/">
${apiKey}<p><button type="submit" id="start-button">Start session</button></p><p id="error" role="alert"></p></form>
<section class="card links" id="links" hidden aria-live="polite"><h2>Session <code id="session-id"></code></h2>
${linkRow('hostUrl', 'Host link (open this yourself)', 'Runs the page; it opens once (then only in the browser that opened it): keep it to yourself.')}
${linkRow('joinUrl', 'Join link with control', 'People with this link can click, type and navigate.')}
${linkRow('observeUrl', 'Join link for observers', 'People with this link can only watch.')}
</section></main><script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}
