// The site's own Content-Security-Policy keeps refusing through the gateway what it refuses
// directly, in real Chromium: a host source with a path allows only that path, and a wildcard
// host allows only the session's origins it matches, not every proxied host.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** A page whose policy is `policy`, loading B's /safe/ok.js and /other/evil.js; each marks itself in <body data-ran>. */
function page(policy: string): [string, string] {
  return [
    policy,
    `<!DOCTYPE html><html><head><title>CSP</title></head><body data-ran="">
<script src="${sites.bOrigin}/safe/ok.js"></script>
<script src="${sites.bOrigin}/other/evil.js"></script>
</body></html>`,
  ];
}

const PAGES: Record<string, () => [string, string]> = {
  '/path': () => page(`script-src 'self' 'unsafe-inline' ${sites.bOrigin}/safe/`),
  '/wildcard': () => page(`script-src 'self' 'unsafe-inline' *.unrelated.example`),
};

function serveA(req: IncomingMessage, res: ServerResponse): void {
  const make = PAGES[req.url ?? ''];
  if (!make) {
    res.writeHead(404).end();
    return;
  }
  const [policy, html] = make();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy });
  res.end(html);
}

function serveB(req: IncomingMessage, res: ServerResponse): void {
  const name = req.url === '/safe/ok.js' ? 'ok' : req.url === '/other/evil.js' ? 'evil' : null;
  if (!name) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/javascript' });
  res.end(`document.body.dataset.ran += ${JSON.stringify(`${name};`)};`);
}

const sites = useTwoSites(serveA, serveB);

async function ran(p: Page): Promise<string> {
  await p.waitForLoadState('load');
  return p.evaluate(() => document.body.dataset.ran ?? '');
}

describe("the site's policy through the gateway", () => {
  it.each([
    ['/path', 'ok;'],
    ['/wildcard', ''],
  ])('%s: runs what the site allows directly and refuses the rest (%j)', async (path, expected) => {
    const direct = await sites.browser.newPage();
    await direct.goto(`${sites.aOrigin}${path}`);
    expect(await ran(direct)).toBe(expected);
    await direct.close();

    const session = await createSession(sites.t, `${sites.aOrigin}${path}`);
    const host = await newParticipant(sites.browser);
    await host.page.goto(session.hostUrl);
    expect(await ran(host.page)).toBe(expected);
    expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await host.context.close();
  });
});
