// Link types the browser acts on by itself, outside CSP: a compression dictionary it fetches, a
// preconnect or dns-prefetch it opens a connection for (not observable in headless Chromium here:
// no connection was made even directly). In pages their href was left pointing at the real site
// (only stylesheets, preloads, icons and the manifest were mapped), so the dictionary was asked of
// the real origin by the browser itself, or refused by the containment policy. Now mapped as the
// others; the same page directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** What B was asked for. */
const hits: string[] = [];

const sites = useTwoSites(
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><head><link rel=compression-dictionary href="${sites.bOrigin}/dict"><link rel=preconnect href="${sites.bOrigin}/"></head><p>top`);
  },
  (req, res) => {
    hits.push(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(200, { 'content-type': 'text/plain', 'use-as-dictionary': 'match="/*"', 'access-control-allow-origin': '*' }).end('dictionary');
  },
);

describe('link hints', () => {
  it('a compression dictionary is fetched through the gateway, as directly from the site', async () => {
    const direct = await newParticipant(sites.browser);
    await direct.page.goto(`${sites.aOrigin}/`);
    await expect.poll(() => hits, { timeout: 10_000 }).toContain('/dict');
    await direct.context.close();

    hits.length = 0;
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const proxied = await newParticipant(sites.browser);
    const logged = sites.t.logs.length;
    await proxied.page.goto(session.hostUrl);
    await expect.poll(() => hits, { timeout: 10_000 }).toContain('/dict');
    expect(sites.t.logs.slice(logged).map((l) => l.path)).toContain('/dict');
    expect(proxied.errors).toEqual([]);
    await proxied.context.close();
  });
});
