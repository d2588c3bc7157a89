// UTF-16 pages (BOM or header) and ISO-2022-JP pages through the gateway: the rewriters read
// ASCII-compatible, stateless bytes, so the page is sent on as UTF-8 with its URLs mapped and the
// sync script in it; the text is the same, and forms submit what they submit directly. Real
// Chromium compares it with the page loaded directly.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const TEXT = 'Grüße, 日本語, emoji 😀';

function page(other: string): string {
  return `<!DOCTYPE html><html><head><title>utf16</title></head><body><p id="t">${TEXT}</p><a id="l" href="${other}/x?q=é">other</a><form id="f" action="/echo"><input name="q" value="é"></form></body></html>`;
}

function serveA(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const body = page(sites.bOrigin);
  if (url.pathname === '/bom-le') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]));
  } else if (url.pathname === '/bom-be') {
    const le = Buffer.from(body, 'utf16le');
    const be = Buffer.alloc(le.length);
    for (let i = 0; i < le.length; i += 2) {
      be[i] = le[i + 1]!;
      be[i + 1] = le[i]!;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
  } else if (url.pathname === '/header') {
    // In small pieces: a character and the byte order are cut between chunks.
    res.writeHead(200, { 'content-type': 'text/html; charset=UTF-16LE' });
    const bytes = Buffer.from(body, 'utf16le');
    for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7));
    res.end();
  } else if (url.pathname === '/jis') {
    // 実 in ISO-2022-JP is ESC $ B "<B" ESC ( B: right before a tag, a byte scanner reads "<B..." as a
    // tag of its own that runs to the real tag's ">" (and leaves its URL as it is).
    const kanji = Buffer.from('1b24423c421b2842', 'hex');
    const ascii = (t: string) => Buffer.from(t, 'latin1');
    res.writeHead(200, { 'content-type': 'text/html; charset=ISO-2022-JP' });
    res.end(
      Buffer.concat([
        ascii('<!DOCTYPE html><html><head><title>jis</title></head><body><p id="t">'),
        kanji,
        ascii(`</p><p>`),
        kanji,
        ascii(`<a id="l" href="${sites.bOrigin}/x">other</a></p><form id="f" action="/echo"><input name="q" value="`),
        kanji,
        ascii('"></form></body></html>'),
      ]),
    );
  } else if (url.pathname === '/jis.css') {
    // 唖 in ISO-2022-JP is ESC $ B "0\"" ESC ( B: read as bytes, the quote opens a string that hides the url().
    res.writeHead(200, { 'content-type': 'text/css; charset=ISO-2022-JP' });
    res.end(
      Buffer.concat([
        Buffer.from('p::before{content:"', 'latin1'),
        Buffer.from('1b244230221b2842', 'hex'),
        Buffer.from(`"}p{background:url(${sites.bOrigin}/bg.png)}`, 'latin1'),
      ]),
    );
  } else if (url.pathname === '/echo') {
    // The query as the browser encoded it.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`query ${url.search}`);
  } else res.writeHead(404).end();
}

const sites = useTwoSites(serveA, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('b'));

describe('UTF-16 and ISO-2022-JP pages through the gateway', () => {
  it.each([
    ['/bom-le', TEXT, /^UTF-16/],
    ['/bom-be', TEXT, /^UTF-16/],
    ['/header', TEXT, /^UTF-16/],
    ['/jis', '実', /^ISO-2022-JP$/],
  ])('%s: same text, URLs mapped, the sync script runs, the form submits the same value', async (path, text, directCharset) => {
    const direct = await sites.browser.newPage();
    await direct.goto(`${sites.aOrigin}${path}`);
    const directText = await direct.textContent('#t');
    expect(directText).toBe(text);
    expect(await direct.evaluate(() => document.characterSet)).toMatch(directCharset);
    await Promise.all([direct.waitForURL(/\/echo/), direct.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
    const directEcho = await direct.textContent('body');
    await direct.close();

    const session = await createSession(sites.t, `${sites.aOrigin}${path}`);
    const host = await newParticipant(sites.browser);
    try {
      await host.page.goto(session.hostUrl);
      expect(await host.page.textContent('#t')).toBe(text);
      const href = await host.page.getAttribute('#l', 'href');
      expect(new URL(href ?? '').hostname.endsWith('cobrowse.localhost')).toBe(true);
      expect(href?.endsWith(path === '/jis' ? '/x' : '/x?q=é')).toBe(true);
      expect(await host.page.evaluate(() => document.characterSet)).toBe('UTF-8');
      expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
      await Promise.all([host.page.waitForURL(/\/echo/), host.page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
      expect(await host.page.textContent('body')).toBe(directEcho);
    } finally {
      await host.context.close();
    }
  });

  it('an ISO-2022-JP stylesheet: its url() after a kanji whose bytes hold a quote is mapped, and it is sent as UTF-8', async () => {
    const session = await createSession(sites.t, `${sites.aOrigin}/jis`);
    const host = await newParticipant(sites.browser);
    try {
      await host.page.goto(session.hostUrl);
      const css = await host.page.evaluate(() => fetch('/jis.css').then(async (r) => [r.headers.get('content-type'), await r.text()]));
      expect(css[0]).toMatch(/charset=utf-8/);
      expect(css[1]).toContain('content:"唖"');
      expect(css[1]).toMatch(/url\(http:\/\/[^/]*cobrowse\.localhost[^)]*\/bg\.png\)/);
    } finally {
      await host.context.close();
    }
  });
});
