// The site's own Content-Security-Policy keeps refusing through the gateway what it refuses
// directly, in real Chromium: a host source with a path allows only that path, and a wildcard
// host allows only the session's origins it matches, not every proxied host. A policy in
// <meta http-equiv> is mapped as the header's: what it allows loads, and the session's own
// connections (after it in the page) still work.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** A page whose policy is `policy` (in a header, or in <meta> when `meta`), loading B's /safe/ok.js and /other/evil.js; each marks itself in <body data-ran>. */
function page(policy: string, meta = false): [string, string] {
  const tag = meta ? `<meta http-equiv="Content-Security-Policy" content="${policy}">` : '';
  return [
    meta ? '' : policy,
    `<!DOCTYPE html><html><head>${tag}<title>CSP</title></head><body data-ran="">
<script src="${sites.bOrigin}/safe/ok.js"></script>
<script src="${sites.bOrigin}/other/evil.js"></script>
</body></html>`,
  ];
}

const PAGES: Record<string, () => [string, string]> = {
  '/path': () => page(`script-src 'self' 'unsafe-inline' ${sites.bOrigin}/safe/`),
  '/wildcard': () => page(`script-src 'self' 'unsafe-inline' *.unrelated.example`),
  '/meta': () => page(`default-src 'self'; script-src 'self' 'unsafe-inline' ${sites.bOrigin}/safe/`, true),
};

function serveA(req: IncomingMessage, res: ServerResponse): void {
  const make = PAGES[req.url ?? ''];
  if (!make) {
    res.writeHead(404).end();
    return;
  }
  const [policy, html] = make();
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(policy ? { 'content-security-policy': policy } : {}) });
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
    ['/meta', 'ok;'],
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

  it("a policy in <meta http-equiv> (default-src 'self') leaves the session working: a follower sees the page the host has", async () => {
    const session = await createSession(sites.t, `${sites.aOrigin}/meta`);
    const host = await newParticipant(sites.browser);
    const follower = await newParticipant(sites.browser);
    try {
      await host.page.goto(session.hostUrl);
      expect(await ran(host.page)).toBe('ok;');
      await follower.page.goto(session.joinUrl);
      const mirrored = () =>
        follower.page.evaluate(() => (document.getElementById('cobrowse-mirror') as HTMLIFrameElement | null)?.contentDocument?.title ?? '');
      await expect.poll(mirrored, { timeout: 10_000 }).toBe('CSP');
      await host.page.evaluate(() => {
        document.title = 'changed';
      });
      await expect.poll(mirrored, { timeout: 10_000 }).toBe('changed');
    } finally {
      await host.context.close();
      await follower.context.close();
    }
  });
});
