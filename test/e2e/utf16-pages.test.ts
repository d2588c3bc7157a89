// A UTF-16 page (BOM or header) through the gateway: the rewriters read ASCII-compatible bytes,
// so the page is sent on as UTF-8 with its URLs mapped and the sync script in it; the text is
// the same. Real Chromium compares it with the page loaded directly.

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
  } else if (url.pathname === '/echo') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`q=${url.searchParams.get('q')}`);
  } else res.writeHead(404).end();
}

const sites = useTwoSites(serveA, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('b'));

describe('UTF-16 pages through the gateway', () => {
  it.each(['/bom-le', '/bom-be', '/header'])('%s: same text, URLs mapped, the sync script runs, the form submits the same value', async (path) => {
    const direct = await sites.browser.newPage();
    await direct.goto(`${sites.aOrigin}${path}`);
    const directText = await direct.textContent('#t');
    expect(directText).toBe(TEXT);
    expect(await direct.evaluate(() => document.characterSet)).toMatch(/^UTF-16/);
    await Promise.all([direct.waitForURL(/\/echo/), direct.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
    const directEcho = await direct.textContent('body');
    await direct.close();

    const session = await createSession(sites.t, `${sites.aOrigin}${path}`);
    const host = await newParticipant(sites.browser);
    try {
      await host.page.goto(session.hostUrl);
      expect(await host.page.textContent('#t')).toBe(TEXT);
      expect(await host.page.evaluate(() => document.characterSet)).toBe('UTF-8');
      const href = await host.page.getAttribute('#l', 'href');
      expect(new URL(href ?? '').hostname.endsWith('cobrowse.localhost')).toBe(true);
      expect(href?.endsWith('/x?q=é')).toBe(true);
      expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
      await Promise.all([host.page.waitForURL(/\/echo/), host.page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
      expect(await host.page.textContent('body')).toBe(directEcho);
    } finally {
      await host.context.close();
    }
  });
});
