// The site's own Content-Security-Policy keeps refusing through the gateway what it refuses
// directly, in real Chromium: a host source with a path allows only that path, and a wildcard
// host allows only the session's origins it matches, not every proxied host.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let a: Server;
let b: Server;
let aOrigin = '';
let bOrigin = '';
let t: TestGateway;
let browser: Browser;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** A page whose policy is `policy`, loading B's /safe/ok.js and /other/evil.js; each marks itself in <body data-ran>. */
function page(policy: string): [string, string] {
  return [
    policy,
    `<!DOCTYPE html><html><head><title>CSP</title></head><body data-ran="">
<script src="${bOrigin}/safe/ok.js"></script>
<script src="${bOrigin}/other/evil.js"></script>
</body></html>`,
  ];
}

const PAGES: Record<string, () => [string, string]> = {
  '/path': () => page(`script-src 'self' 'unsafe-inline' ${bOrigin}/safe/`),
  '/wildcard': () => page(`script-src 'self' 'unsafe-inline' *.unrelated.example`),
};

beforeAll(async () => {
  a = createServer((req, res) => {
    const make = PAGES[req.url ?? ''];
    if (!make) {
      res.writeHead(404).end();
      return;
    }
    const [policy, html] = make();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy });
    res.end(html);
  });
  b = createServer((req, res) => {
    const name = req.url === '/safe/ok.js' ? 'ok' : req.url === '/other/evil.js' ? 'evil' : null;
    if (!name) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(`document.body.dataset.ran += ${JSON.stringify(`${name};`)};`);
  });
  aOrigin = await listen(a);
  bOrigin = await listen(b);
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: aOrigin }, { url: bOrigin }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  a?.close();
  b?.close();
});

async function ran(p: Page): Promise<string> {
  await p.waitForLoadState('load');
  return p.evaluate(() => document.body.dataset.ran ?? '');
}

describe("the site's policy through the gateway", () => {
  it.each([
    ['/path', 'ok;'],
    ['/wildcard', ''],
  ])('%s: runs what the site allows directly and refuses the rest (%j)', async (path, expected) => {
    const direct = await browser.newPage();
    await direct.goto(`${aOrigin}${path}`);
    expect(await ran(direct)).toBe(expected);
    await direct.close();

    const session = await createSession(t, `${aOrigin}${path}`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    expect(await ran(host.page)).toBe(expected);
    expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await host.context.close();
  });
});
