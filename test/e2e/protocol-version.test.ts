// A page whose script speaks another protocol version than the hub (a page loaded before the
// gateway was updated, or a node of another version during a rolling update), in Chromium through
// a real gateway: the page tells its user to reload and stops, instead of a mirror that breaks or
// a socket that reconnects to be refused again. The other version is made by rewriting the
// page's hello (the real hub refuses it) or the hub's welcome on the way.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CDPSession, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, RELOAD_NOTICE } from '../../protocol/messages.js';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const env = useOneSite((_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<!DOCTYPE html><html><head><title>site</title></head><body><p id="p">Hello</p></body></html>');
});

const OTHER = PROTOCOL_VERSION + 1;

/** Routes the page's hub sockets through the test, rewriting what `change` rewrites; returns how many the page opened. */
async function rewriteHub(page: Page, change: { hello?: true; welcome?: true }): Promise<{ opened: () => number; closedBy: string[] }> {
  let opened = 0;
  const closedBy: string[] = [];
  await page.routeWebSocket(/\/__cobrowse\/ws$/, (ws) => {
    opened++;
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const message = JSON.parse(String(m)) as { type: string; v?: number };
      server.send(change.hello && message.type === 'hello' ? JSON.stringify({ ...message, v: OTHER }) : String(m));
    });
    server.onMessage((m) => {
      const message = JSON.parse(String(m)) as { type: string; v?: number };
      ws.send(change.welcome && message.type === 'welcome' ? JSON.stringify({ ...message, v: OTHER }) : String(m));
    });
    ws.onClose((code, reason) => {
      closedBy.push(`page ${code ?? ''}`);
      void server.close({ code, reason });
    });
    server.onClose((code, reason) => {
      closedBy.push(`hub ${code ?? ''}`);
      void ws.close({ code, reason });
    });
  });
  return { opened: () => opened, closedBy };
}

/** The text of every text node in the page, closed shadow roots included (the host's panel is in one). */
async function allText(cdp: CDPSession): Promise<string> {
  interface DomNode {
    nodeType: number;
    nodeValue: string;
    children?: DomNode[];
    shadowRoots?: DomNode[];
  }
  const { root } = (await cdp.send('DOM.getDocument', { depth: -1, pierce: true })) as { root: DomNode };
  const out: string[] = [];
  const walk = (n: DomNode) => {
    if (n.nodeType === 3) out.push(n.nodeValue);
    for (const c of [...(n.shadowRoots ?? []), ...(n.children ?? [])]) walk(c);
  };
  walk(root);
  return out.join(' ');
}

describe('a page and a hub of different protocol versions', () => {
  it('a view page whose hello the hub refuses for its version says to reload, keeps saying it, and does not reconnect', async () => {
    const session = await createSession(env.t, `${env.origin}/`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    const follower = await newParticipant(env.browser);
    const hub = await rewriteHub(follower.page, { hello: true });
    await follower.page.goto(session.joinUrl);
    await expect.poll(() => follower.page.locator('#cobrowse-status').textContent()).toBe(RELOAD_NOTICE);
    // The panel says it too, and still after its other notices would have gone (6 s).
    const notice = follower.page.locator('cobrowse-ui #notice');
    await expect.poll(() => notice.textContent()).toBe(RELOAD_NOTICE);
    await new Promise((r) => setTimeout(r, 7000));
    expect(await notice.isVisible()).toBe(true);
    expect(await follower.page.locator('#cobrowse-status').textContent()).toBe(RELOAD_NOTICE);
    expect(hub.opened()).toBe(1);
    // The hub refused it (and closed the socket).
    expect(env.t.logs.some((l) => l.msg === 'hub message rejected' && String(l.message).includes(`protocol ${OTHER}`))).toBe(true);
    await Promise.all([host.context.close(), follower.context.close()]);
  }, 30_000);

  it('a view page welcomed by a hub of another version closes the socket itself and says to reload', async () => {
    const session = await createSession(env.t, `${env.origin}/`);
    const host = await newParticipant(env.browser);
    await host.page.goto(session.hostUrl);
    const follower = await newParticipant(env.browser);
    const hub = await rewriteHub(follower.page, { welcome: true });
    await follower.page.goto(session.joinUrl);
    await expect.poll(() => follower.page.locator('#cobrowse-status').textContent()).toBe(RELOAD_NOTICE);
    await expect.poll(() => hub.closedBy[0]).toMatch(/^page/);
    await new Promise((r) => setTimeout(r, 2000));
    expect(hub.opened()).toBe(1);
    expect(await follower.page.locator('#cobrowse-status').textContent()).toBe(RELOAD_NOTICE);
    // Nothing of the session was shown.
    expect(await follower.page.evaluate(() => document.getElementById('cobrowse-mirror')?.getAttribute('srcdoc') ?? '')).toBe('');
    await Promise.all([host.context.close(), follower.context.close()]);
  }, 30_000);

  it("the host's page refused for its version says to reload in its panel, and does not reconnect", async () => {
    const session = await createSession(env.t, `${env.origin}/`);
    const host = await newParticipant(env.browser);
    const hub = await rewriteHub(host.page, { hello: true });
    await host.page.goto(session.hostUrl);
    await host.page.locator('#p').waitFor();
    const cdp = await host.context.newCDPSession(host.page);
    await expect.poll(() => allText(cdp)).toContain(RELOAD_NOTICE);
    await new Promise((r) => setTimeout(r, 2000));
    expect(hub.opened()).toBe(1);
    await host.context.close();
  }, 30_000);
});
