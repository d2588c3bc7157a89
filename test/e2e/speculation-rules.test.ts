// Speculation rules: the browser itself fetches the URLs of their list rules (prefetch, prerender),
// outside CSP and outside the page's script. Through the gateway, an absolute URL of the real site
// in a page's rules (or in rules its script made or wrote with document.write, or in a Speculation-Rules header's rule set) was
// fetched from the real site straight from the browser. Now the rules' URLs are mapped (in pages
// by the rewriter, in elements the script makes by the runtime) and the header is not relayed.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

/** What the origin was asked for: path and Sec-Purpose. */
const hits: string[] = [];

const site = useOneSite((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  hits.push(`${url.pathname} ${req.headers['sec-purpose'] ?? '-'}`);
  const self = `http://127.0.0.1:${req.socket.localPort}`;
  if (url.pathname === '/rules.json')
    return res
      .writeHead(200, { 'content-type': 'application/speculationrules+json' })
      .end(JSON.stringify({ prefetch: [{ source: 'list', urls: [`${self}/pf-header`] }] }));
  if (url.pathname !== '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><p>${url.pathname}</p>`);
  const inline = { prefetch: [{ source: 'list', urls: [`${self}/pf-inline`, '/pf-relative'] }], prerender: [{ source: 'list', urls: [`${self}/pr-inline`] }] };
  const scripted = { prefetch: [{ source: 'list', urls: [`${self}/pf-script`] }] };
  const written = { prefetch: [{ source: 'list', urls: [`${self}/pf-write`] }] };
  res.writeHead(200, { 'content-type': 'text/html', 'speculation-rules': `"${self}/rules.json"` });
  res.end(
    `<!doctype html><html><head><script type="speculationrules">${JSON.stringify(inline)}</script></head><body><p>top</p>` +
      `<script>const s = document.createElement('script'); s.type = 'speculationrules'; s.textContent = ${JSON.stringify(JSON.stringify(scripted))}; document.head.append(s);</script>` +
      `<script>document.write(${JSON.stringify(`<script type="speculationrules">${JSON.stringify(written)}</scr`)} + 'ipt>');</script></body></html>`,
  );
});

const SPECULATED = ['/pf-inline prefetch', '/pf-relative prefetch', '/pr-inline prefetch;prerender', '/pf-script prefetch', '/pf-write prefetch'];

describe('speculation rules', () => {
  it('fetch their URLs through the gateway, never from the real site', async () => {
    const direct = await newParticipant(site.browser);
    hits.length = 0;
    await direct.page.goto(`${site.origin}/`);
    // The real site's page: every rule's URL fetched, the header's rule set too (the check below is not vacuous).
    await expect
      .poll(() => [...hits].sort(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([...SPECULATED, '/rules.json -', '/pf-header prefetch'].sort()));
    await direct.context.close();

    const session = await createSession(site.t, `${site.origin}/`);
    const proxied = await newParticipant(site.browser);
    hits.length = 0;
    const logged = site.t.logs.length;
    await proxied.page.goto(session.hostUrl);
    await expect.poll(() => hits.filter((h) => SPECULATED.includes(h)).sort(), { timeout: 10_000 }).toEqual([...SPECULATED].sort());
    await new Promise((r) => setTimeout(r, 500));
    // Every request the origin got came through the gateway, and the header's rule set was not fetched.
    const through = site.t.logs.slice(logged).map((l) => l.path);
    for (const hit of hits) expect(through, hit).toContain(hit.split(' ')[0]);
    expect(hits.map((h) => h.split(' ')[0])).not.toContain('/rules.json');
    expect(proxied.errors).toEqual([]);
    await proxied.context.close();
  });
});
