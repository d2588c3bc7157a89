// The gateway's own answers on a proxied host (error pages, /__cobrowse/entered, /map, /cookies,
// its scripts, the follower's view page) are documents of the host's origin without the cookie
// shim: a frame or popup the site's page had navigated to one of them gave the page the
// browser's own Document.prototype.cookie, and real cookies on the gateway's parent domain. They
// now have an opaque origin (the sandbox), and the view page, which needs its origin, cannot be
// framed and leaves its opener's browsing context group.

import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const site = useOneSite((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p id="a">page a</p>'));

/**
 * Opens /a.html in a frame (reached as window[i], the one reference the runtime cannot wrap) or a
 * popup, navigates it to `url`, and as soon as the new document is there writes cookies through
 * its own Document.prototype.cookie: 'written', 'closed' (the popup left this browsing context
 * group), or the error (SecurityError: another origin).
 */
const REACH = `async (how, url, parent) => {
  const index = window.length;
  let w = null;
  if (how === 'popup') w = window.open('/a.html');
  else {
    const frame = document.createElement('iframe');
    frame.src = '/a.html';
    document.body.append(frame);
  }
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  for (let i = 0; i < 1000; i++) {
    w ??= window[index] ?? null;
    if (w && w.location.pathname === '/a.html' && w.document.readyState === 'complete') break;
    await pause();
  }
  const before = w.document;
  w.location.href = url;
  const tag = url.replace(/\\W/g, '_');
  for (let i = 0; i < 1000; i++) {
    if (w.closed) return 'closed';
    try {
      if (w.document !== before && w.location.pathname + w.location.search === url) {
        const setter = Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie').set;
        setter.call(w.document, tag + '_parent=1; domain=' + parent + '; path=/');
        setter.call(w.document, tag + '_host=1; path=/');
        return 'written';
      }
    } catch (err) {
      return err.name;
    }
    await pause();
  }
  return 'never shown';
}`;

/** The cookies the browser itself holds, other than the gateway's own. */
async function realSiteCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies()).filter((c) => !(c.httpOnly && (c.name === '__cobrowse' || c.name.startsWith('cobrowse_')))).map((c) => c.name);
}

describe("the gateway's own answers on a proxied host", () => {
  it("a frame or popup navigated to one cannot write the browser's cookies", async () => {
    const session = await createSession(site.t, `${site.origin}/a.html`);
    const { context, page } = await newParticipant(site.browser);
    await page.goto(session.hostUrl);
    await page.waitForSelector('#a');
    await page.waitForFunction('window.__cobrowse !== undefined');
    await page.evaluate(`window.reachUrl = ${REACH}`);
    const parent = new URL(session.hostUrl).hostname;
    const reach = (how: 'frame' | 'popup', url: string) =>
      page.evaluate(
        ([how, url, parent]) => (window as unknown as { reachUrl(how: string, url: string, parent: string): Promise<string> }).reachUrl(how, url, parent),
        [how, url, parent] as const,
      );
    const answers = [
      '/__cobrowse/entered',
      '/__cobrowse/blocked-origin/x',
      '/__cobrowse/no-such-page',
      '/__cobrowse/inject.js',
      '/__cobrowse/inject-worker.js',
      '/__cobrowse/map?origin=x',
      '/__cobrowse/cookies?path=/',
    ];
    for (const url of answers) expect(await reach('frame', url), url).toBe('SecurityError');
    expect(await reach('popup', '/__cobrowse/entered')).toBe('SecurityError');
    // The view page: not framed (the frame shows Chromium's error page), and out of the opener's reach.
    expect(await reach('frame', '/__cobrowse/view')).toBe('SecurityError');
    // COOP same-origin: the popup went to a browsing context group of its own (Chromium 156 hands the opener a cross-origin window).
    expect(['closed', 'SecurityError']).toContain(await reach('popup', '/__cobrowse/view'));
    expect(context.pages().some((p) => new URL(p.url()).pathname === '/__cobrowse/view')).toBe(true);
    expect(await realSiteCookies(context)).toEqual([]);
    await context.close();
  });

  it('the answers still do their work: the view page shows the host page, the scripts load, the error page shows', async () => {
    const session = await createSession(site.t, `${site.origin}/a.html`);
    const host = await newParticipant(site.browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForSelector('#a');
    const follower = await newParticipant(site.browser);
    await follower.page.goto(session.joinUrl);
    expect(new URL(follower.page.url()).pathname).toBe('/__cobrowse/view');
    await expect
      .poll(
        () =>
          follower.page.evaluate(
            () => (document.getElementById('cobrowse-mirror') as HTMLIFrameElement | null)?.contentDocument?.getElementById('a')?.textContent ?? '',
          ),
        {
          timeout: 10_000,
        },
      )
      .toBe('page a');
    const proxied = new URL(host.page.url()).origin;
    await host.page.goto(`${proxied}/__cobrowse/no-such-page`);
    expect(await host.page.title()).toContain('Nothing is served at /__cobrowse/no-such-page');
    await host.context.close();
    await follower.context.close();
  });
});
