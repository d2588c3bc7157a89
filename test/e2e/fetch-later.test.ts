// fetchLater (the Fetch Later API) hands a request to the browser, which sends it when the page
// goes away or after a delay. Its URL was not mapped: an absolute URL of the site (its own origin
// or another of its origins) was refused by the containment policy and never sent, where directly
// the site gets it. The runtime maps it as fetch's (a Request with a body whose URL would change is
// left, see network-hooks.ts). The same page directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** What the sites got: site, method, path and body. */
const hits: string[] = [];

function record(site: string, req: import('node:http').IncomingMessage, done: () => void): void {
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    hits.push(`${site} ${req.method} ${req.url} ${body}`);
    done();
  });
}

const sites = useTwoSites(
  (req, res) => {
    if (req.url !== '/') return record('A', req, () => res.writeHead(204).end());
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><script>
      fetchLater('${sites.aOrigin}/later-absolute', { method: 'POST', body: 'one', activateAfter: 0 });
      fetchLater('/later-relative', { activateAfter: 0 });
      fetchLater(new Request('${sites.bOrigin}/later-other'), { activateAfter: 0 });
      window.done = true;
    </script>`);
  },
  (req, res) => record('B', req, () => res.writeHead(204, { 'access-control-allow-origin': req.headers.origin ?? '*' }).end()),
);

const SENT = ['A POST /later-absolute one', 'A GET /later-relative ', 'B GET /later-other '];

describe('fetchLater', () => {
  it('sends what the page handed it through the gateway, as directly to the site', async () => {
    const direct = await newParticipant(sites.browser);
    hits.length = 0;
    await direct.page.goto(`${sites.aOrigin}/`);
    await expect.poll(() => [...hits].sort(), { timeout: 10_000 }).toEqual(expect.arrayContaining(SENT));
    await direct.context.close();

    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const proxied = await newParticipant(sites.browser);
    hits.length = 0;
    const logged = sites.t.logs.length;
    await proxied.page.goto(session.hostUrl);
    await proxied.page.waitForFunction('window.done');
    await expect.poll(() => hits.filter((h) => SENT.includes(h)).sort(), { timeout: 10_000 }).toEqual([...SENT].sort());
    const through = sites.t.logs.slice(logged).map((l) => l.path);
    for (const path of ['/later-absolute', '/later-relative', '/later-other']) expect(through).toContain(path);
    expect(proxied.errors).toEqual([]);
    await proxied.context.close();
  });
});
