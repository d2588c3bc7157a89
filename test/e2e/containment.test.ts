// The gateway's containment policy (gateway/csp.ts containmentPolicy) in real Chromium: requests
// the rewriter and the URL runtime do not see (import() in eval, new Function, an event handler
// or a string timer, also in a data: frame written in the site's HTML; a data: frame that says
// it was mapped already; a module the lexer misreads) are refused by the browser instead of reaching the real site, while the page's
// mapped URLs keep working and the sync script runs.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

/** Paths of site B that were asked for, by anyone (the gateway's own requests included). */
const bHits: string[] = [];

/** A page whose escapes no rewriting sees; every one of them asks site B for a path starting /esc-. */
function escapes(): string {
  // A data: frame written in the page gets the runtime from the rewriter; an import() in its eval is seen by neither.
  const dataFrame = `<script>eval("import('${sites.bOrigin}/esc-data-frame.js').catch(() => {})")</script>`;
  // One that says it was mapped already is left as it is (no runtime, no mapping): its fetch is refused.
  const forgedFrame = `<script>fetch('${sites.bOrigin}/esc-forged-frame').catch(() => {})</script>`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Escapes</title></head><body>
<h1 id="title">Escapes</h1>
<img id="mapped" src="${sites.bOrigin}/img.png" alt="">
<img id="handler" src="/img.png" onload="import('${sites.bOrigin}/esc-onload.js').catch(() => {})" alt="">
<script>
  eval("import('${sites.bOrigin}/esc-eval.js').catch(() => {})");
  new Function("return import('${sites.bOrigin}/esc-function.js').catch(() => {})")();
  setTimeout("import('${sites.bOrigin}/esc-timeout.js').catch(() => {})", 0);
</script>
<script type="module">label: {}
/'/.test('');
import '${sites.bOrigin}/esc-lexer.js';
//'
</script>
<iframe id="data" src="data:text/html,${encodeURIComponent(dataFrame)}"></iframe>
<iframe id="forged" src="data:text/html;cobrowse=1,${encodeURIComponent(forgedFrame)}"></iframe>
<script>
  // The gateway's own documents on this host: an import() in their realm would be seen by no
  // rewriting, but they have an opaque origin (document-sandbox.ts), out of the page's reach.
  // (Tried from the frames' onload attributes: a listener added by a later script could come
  // after a quick frame's load, when the parser yields in between.)
  window.tryRealm = (id) => {
    const frame = document.getElementById(id);
    let seen = 'reached';
    try {
      frame.contentWindow.eval("import('${sites.bOrigin}/esc-" + id + "-realm.js').catch(() => {})");
    } catch (err) {
      seen = err.name;
    }
    window.ownFrames = [...(window.ownFrames ?? []), id + ' ' + seen];
  };
</script>
<iframe id="own" src="/__cobrowse/entered" onload="tryRealm('own')"></iframe>
<iframe id="error" src="/__cobrowse/no-such-page" onload="tryRealm('error')"></iframe>
</body></html>`;
}

function serveA(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/escapes') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(escapes());
  } else if (req.url === '/img.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PNG);
  } else res.writeHead(404).end();
}

function serveB(req: IncomingMessage, res: ServerResponse): void {
  bHits.push(req.url ?? '');
  if (req.url === '/img.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PNG);
    return;
  }
  res.writeHead(200, { 'content-type': req.url?.endsWith('.js') ? 'text/javascript' : 'text/plain', 'access-control-allow-origin': '*' });
  res.end(req.url?.endsWith('.js') ? 'export default 1;' : 'ok');
}

const sites = useTwoSites(serveA, serveB);

describe('containment policy', () => {
  it('refuses what no rewriting saw, before it leaves the browser, and keeps the mapped page working', async () => {
    const session = await createSession(sites.t, `${sites.aOrigin}/escapes`);
    const host = await newParticipant(sites.browser);
    // Requests that got an answer (Playwright also reports the ones the policy stopped, as failed).
    const requested: string[] = [];
    host.context.on('response', (r) => requested.push(r.url()));
    const refused: string[] = [];
    host.page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/.test(m.text())) refused.push(m.text());
    });
    await host.page.goto(session.hostUrl);
    // The mapped image of site B loads through the gateway, and the sync script runs.
    await expect.poll(() => host.page.evaluate(() => (document.getElementById('mapped') as HTMLImageElement).naturalWidth)).toBe(2);
    await expect.poll(() => host.page.evaluate(() => (document.getElementById('handler') as HTMLImageElement).naturalWidth)).toBe(2);
    expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    // Every escape has been tried (and refused) once the policy said so for each of the seven; the
    // gateway's own documents could not even be reached.
    await expect.poll(() => new Set(refused.map((m) => /esc-[a-z-]+/.exec(m)?.[0])).size, { timeout: 10_000 }).toBeGreaterThanOrEqual(7);
    await expect
      .poll(() => host.page.evaluate(() => ((window as unknown as { ownFrames?: string[] }).ownFrames ?? []).sort()))
      .toEqual(['error SecurityError', 'own SecurityError']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bHits.filter((p) => p.startsWith('/esc-'))).toEqual([]);
    const gatewayHost = new RegExp(`^http://([a-z0-9-]+\\.)*localhost:${sites.t.gateway.port}/`);
    expect(requested.filter((u) => !gatewayHost.test(u) && !u.startsWith('data:'))).toEqual([]);
    await host.context.close();
  });

  it("sends the policy with every answer of a proxied host: the site's, and the gateway's own pages and errors", async () => {
    const session = await createSession(sites.t, `${sites.aOrigin}/escapes`);
    const joined = await sites.t.join(session.hostUrl);
    const headers = { cookie: joined.cookie };
    const page = await sites.t.call('GET', `${joined.proxiedOrigin}/escapes`, { headers: { ...headers, 'sec-fetch-dest': 'document' } });
    const policies = ([] as string[]).concat(page.headers['content-security-policy'] ?? []);
    expect(policies.join(',')).toContain(
      `default-src 'self' http://cobrowse.localhost:${sites.t.gateway.port} http://*.cobrowse.localhost:${sites.t.gateway.port}`,
    );
    for (const path of ['/img.png', '/__cobrowse/view', '/__cobrowse/entered', '/__cobrowse/map?origin=x', '/__cobrowse/no-such-page', '/missing']) {
      const res = await sites.t.call('GET', `${joined.proxiedOrigin}${path}`, { headers: { ...headers, accept: 'text/html' } });
      expect(String(res.headers['content-security-policy']), path).toContain(`form-action 'self' http://cobrowse.localhost:${sites.t.gateway.port}`);
    }
    // Also without the participant cookie (the 401 page).
    const stranger = await sites.t.call('GET', `${joined.proxiedOrigin}/escapes`, {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'cors', origin: 'http://x.test' },
    });
    expect(stranger.status).toBe(401);
    expect(String(stranger.headers['content-security-policy'])).toContain('default-src');
  });
});
