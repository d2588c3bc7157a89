// Speculation rules: the browser itself fetches the URLs of their list rules (prefetch, prerender),
// outside CSP and outside the page's script. Through the gateway, an absolute URL of the real site
// in a page's rules (or in rules its script made or wrote with document.write) was fetched from the
// real site straight from the browser, and a Speculation-Rules header's rule sets were not relayed
// (nothing they name was prefetched). Now the rules' URLs are mapped (in pages by the rewriter, in
// elements the script makes by the runtime), and the header's rule sets are fetched through the
// gateway, which maps the URLs in them (same-origin and CORS ones, compressed ones; a data: one in
// the header itself).

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** What the origins were asked for: site, path and Sec-Purpose. */
const hits: string[] = [];
const RULES_TYPE = 'application/speculationrules+json';

const sites = useTwoSites(
  (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`A${url.pathname} ${req.headers['sec-purpose'] ?? '-'}`);
    const self = sites.aOrigin;
    if (url.pathname === '/rules.json') {
      // Compressed: the gateway decodes it to map it.
      const body = gzipSync(JSON.stringify({ prefetch: [{ source: 'list', urls: [`${self}/pf-header`, 'pf-header-relative'] }] }));
      return res.writeHead(200, { 'content-type': RULES_TYPE, 'content-encoding': 'gzip' }).end(body);
    }
    if (url.pathname !== '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><p>${url.pathname}</p>`);
    const inline = {
      prefetch: [{ source: 'list', urls: [`${self}/pf-inline`, '/pf-relative'] }],
      prerender: [{ source: 'list', urls: [`${self}/pr-inline`] }],
    };
    const scripted = { prefetch: [{ source: 'list', urls: [`${self}/pf-script`] }] };
    const written = { prefetch: [{ source: 'list', urls: [`${self}/pf-write`] }] };
    const dataRules = `data:${RULES_TYPE},${encodeURIComponent(JSON.stringify({ prefetch: [{ source: 'list', urls: [`${self}/pf-data`] }] }))}`;
    res.writeHead(200, { 'content-type': 'text/html', 'speculation-rules': `"${self}/rules.json", "${sites.bOrigin}/cors-rules.json", "${dataRules}"` });
    res.end(
      `<!doctype html><html><head><script type="speculationrules">${JSON.stringify(inline)}</script></head><body><p>top</p>` +
        `<script>const s = document.createElement('script'); s.type = 'speculationrules'; s.textContent = ${JSON.stringify(JSON.stringify(scripted))}; document.head.append(s);</script>` +
        `<script>document.write(${JSON.stringify(`<script type="speculationrules">${JSON.stringify(written)}</scr`)} + 'ipt>');</script></body></html>`,
    );
  },
  (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`B${url.pathname} ${req.headers['sec-purpose'] ?? '-'}`);
    // Another origin's rule set (fetched with CORS), naming a URL of the page's origin.
    const body = JSON.stringify({ prefetch: [{ source: 'list', urls: [`${sites.aOrigin}/pf-cors`] }] });
    res.writeHead(200, { 'content-type': RULES_TYPE, 'access-control-allow-origin': req.headers.origin ?? '*' }).end(body);
  },
);

const SPECULATED = [
  'A/pf-inline prefetch',
  'A/pf-relative prefetch',
  'A/pr-inline prefetch;prerender',
  'A/pf-script prefetch',
  'A/pf-write prefetch',
  'A/pf-header prefetch',
  'A/pf-header-relative prefetch',
  'A/pf-cors prefetch',
  'A/pf-data prefetch',
];

describe('speculation rules', () => {
  it('fetch their URLs through the gateway, never from the real site', async () => {
    const direct = await newParticipant(sites.browser);
    hits.length = 0;
    await direct.page.goto(`${sites.aOrigin}/`);
    // The real site's page: every rule's URL fetched, the header's rule sets too (the check below is not vacuous).
    await expect
      .poll(() => [...hits].sort(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([...SPECULATED, 'A/rules.json -', 'B/cors-rules.json -'].sort()));
    await direct.context.close();

    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const proxied = await newParticipant(sites.browser);
    hits.length = 0;
    const logged = sites.t.logs.length;
    await proxied.page.goto(session.hostUrl);
    await expect.poll(() => hits.filter((h) => SPECULATED.includes(h)).sort(), { timeout: 10_000 }).toEqual([...SPECULATED].sort());
    await new Promise((r) => setTimeout(r, 500));
    // Every request the origins got came through the gateway.
    const through = sites.t.logs.slice(logged).map((l) => l.path);
    for (const hit of hits) expect(through, hit).toContain(hit.slice(1).split(' ')[0]);
    expect(proxied.errors).toEqual([]);
    await proxied.context.close();
  });
});
