// Documents whose type the site leaves to the browser (no Content-Type, or one saying it does not
// know) and XHTML documents: through the gateway they are what they are directly (the browser's
// sniffing decides HTML or not), and the HTML ones are rewritten and cobrowsed like any page
// (nothing of them reaches the real site); a document that does not sniff as HTML, or one with
// nosniff, passes as it came.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { newParticipant, readMirror } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const page = (origin: string) =>
  `\n  <!DOCTYPE html><html><head><title>t</title></head><body><a id="abs" href="${origin}/next">next</a><img src="${origin}/i.png"><script>window.__seen = [document.contentType, typeof window.__cobrowse, document.getElementById('abs').href]</script></body></html>`;
const xhtml = (origin: string) =>
  `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><p id="p">XHTML TEXT</p><button id="b" onclick="document.getElementById('p').textContent = 'CLICKED'">b</button><a id="abs" href="${origin}/next">next</a><img src="${origin}/i.png"/><script>window.__seen = [document.contentType, typeof window.__cobrowse, document.getElementById('abs').href]</script></body></html>`;

function serve(req: IncomingMessage, res: ServerResponse): void {
  const origin = `http://${req.headers.host}`;
  const untyped = (body: string, headers: Record<string, string> = {}) => {
    res.removeHeader('content-type');
    res.writeHead(200, headers);
    res.end(body);
  };
  if (req.url === '/untyped') untyped(page(origin));
  else if (req.url === '/unknown') untyped(page(origin), { 'content-type': 'unknown/unknown' });
  else if (req.url === '/untyped-nosniff') untyped(page(origin), { 'x-content-type-options': 'nosniff' });
  else if (req.url === '/untyped-text') untyped('just text, <html> later');
  else if (req.url === '/unknown-charset') untyped(page(origin), { 'content-type': 'unknown/unknown; charset=windows-1252' });
  else if (req.url === '/untyped-slow') {
    // The page's first bytes, then the rest a while later (a page streamed as it is made).
    res.removeHeader('content-type');
    res.writeHead(200, {});
    res.write('<html><head><title>slow</title></head><body><p>first</p>');
    setTimeout(() => res.end('<p>rest</p></body></html>'), 1500);
  } else if (req.url === '/xhtml') {
    res.writeHead(200, { 'content-type': 'application/xhtml+xml' });
    res.end(xhtml(origin));
  } else {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end();
  }
}

const env = useOneSite(serve);

async function open(url: string): Promise<{ seen: unknown; text: string; requests: string[] }> {
  const context = await env.browser.newContext();
  try {
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url);
    await page.waitForLoadState('load');
    const seen = await page.evaluate('window.__seen');
    const text = await page.evaluate('document.body ? document.body.textContent : document.documentElement.textContent');
    return { seen: seen ?? null, text: String(text), requests };
  } finally {
    await context.close();
  }
}

describe('documents the browser sniffs, and XHTML', () => {
  it.each([
    ['/untyped', 'text/html'],
    ['/unknown', 'text/html'],
    ['/xhtml', 'application/xhtml+xml'],
  ])('%s: a page as directly, rewritten and with the sync script through the gateway', async (path, type) => {
    const direct = await open(`${env.origin}${path}`);
    expect(direct.seen).toEqual([type, 'undefined', `${env.origin}/next`]);
    const session = await createSession(env.t, `${env.origin}${path}`);
    const proxied = await open(session.hostUrl);
    const proxiedOrigin = `http://o1--${session.id}.cobrowse.localhost:${env.t.gateway.port}`;
    expect(proxied.seen).toEqual([type, 'object', `${proxiedOrigin}/next`]);
    // Nothing of the page went to the real site: its image came through the gateway.
    expect(proxied.requests.filter((u) => !u.startsWith(proxiedOrigin) && !u.startsWith(env.t.gateway.url))).toEqual([]);
    expect(proxied.requests).toContain(`${proxiedOrigin}/i.png`);
  });

  it("an XHTML page is cobrowsed: a follower's mirror shows it and a controller's click acts on the host's page", async () => {
    const session = await createSession(env.t, `${env.origin}/xhtml`);
    const host = await newParticipant(env.browser);
    const follower = await newParticipant(env.browser);
    try {
      await host.page.goto(session.hostUrl);
      await follower.page.goto(session.joinUrl);
      const text = () => readMirror<string | null>(follower.page, `(doc) => doc.getElementById('p')?.textContent ?? null`);
      await expect.poll(text, { timeout: 10_000 }).toBe('XHTML TEXT');
      await follower.page.frameLocator('#cobrowse-mirror').locator('#b').click();
      await expect.poll(() => host.page.textContent('#p')).toBe('CLICKED');
      await expect.poll(text).toBe('CLICKED');
      expect([...host.errors, ...follower.errors]).toEqual([]);
    } finally {
      await Promise.all([host.context.close(), follower.context.close()]);
    }
  });

  it('decides as soon as the first bytes allow (a streamed untyped page is not held), and keeps the charset the site gave', async () => {
    const session = await createSession(env.t, `${env.origin}/`);
    const host = await env.t.join(session.hostUrl);
    const headers = {
      host: new URL(host.proxiedOrigin).host,
      cookie: host.cookie,
      accept: 'text/html',
      'sec-fetch-dest': 'document',
      'sec-fetch-mode': 'navigate',
    };
    const started = performance.now();
    const slow = await request(`http://127.0.0.1:${env.t.gateway.port}/untyped-slow`, { headers });
    const reader = slow.body[Symbol.asyncIterator]();
    const first = String((await reader.next()).value);
    expect(performance.now() - started).toBeLessThan(1200);
    expect(slow.headers['content-type']).toBe('text/html');
    expect(first).toContain('/__cobrowse/inject.js');
    let rest = '';
    for (let r = await reader.next(); !r.done; r = await reader.next()) rest += String(r.value);
    expect(`${first}${rest}`).toContain('<p>rest</p>');
    const typed = await request(`http://127.0.0.1:${env.t.gateway.port}/unknown-charset`, { headers });
    expect(typed.headers['content-type']).toMatch(/^text\/html; charset=windows-1252$/i);
    expect(await typed.body.text()).toContain('/__cobrowse/inject.js');
  });

  it.each(['/untyped-nosniff', '/untyped-text'])('%s: not HTML to the browser, passed as it came', async (path) => {
    const direct = await open(`${env.origin}${path}`);
    expect(direct.seen).toBeNull();
    const session = await createSession(env.t, `${env.origin}${path}`);
    const proxied = await open(session.hostUrl);
    expect(proxied.seen).toBeNull();
    expect(proxied.text).toBe(direct.text);
  });
});
