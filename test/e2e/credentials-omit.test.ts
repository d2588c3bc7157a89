// A page's fetch to its own origin that omits credentials (`credentials: 'omit'`) reaches the real
// site without cookies. Through the gateway the browser sent no participant cookie either, and the
// request was a 401 "not a participant". It goes upstream now without the session's jar, as a
// cookie-less CORS request does. The same page in Chromium directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const site = useOneSite((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/api') {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, cookie: req.headers.cookie ?? '', body })),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'sid=signed-in; path=/' }).end('<!doctype html><p>page</p>');
});

/** What the page's fetches to its own origin get, by credentials mode and request mode. */
async function fetches(url: string): Promise<string[]> {
  const { context, page } = await newParticipant(site.browser);
  try {
    await page.goto(url);
    return await page.evaluate(async () => {
      const out: string[] = [];
      const cases: [RequestCredentials, RequestMode, string][] = [
        ['omit', 'cors', 'GET'],
        ['omit', 'cors', 'POST'],
        ['omit', 'same-origin', 'GET'],
        ['omit', 'same-origin', 'POST'],
        ['same-origin', 'cors', 'GET'],
      ];
      for (const [credentials, mode, method] of cases) {
        const res = await fetch('/api', { credentials, mode, method, ...(method === 'POST' ? { body: 'b' } : {}) });
        out.push(`${credentials} ${mode} ${method}: ${res.status} ${await res.text()}`);
      }
      return out;
    });
  } finally {
    await context.close();
  }
}

describe('a fetch of a page to its own origin that omits credentials', () => {
  it('reaches the site without cookies, as it does directly', async () => {
    const direct = await fetches(`${site.origin}/`);
    expect(direct[0]).toBe(`omit cors GET: 200 ${JSON.stringify({ method: 'GET', cookie: '', body: '' })}`);
    expect(direct[4]).toContain('sid=signed-in');
    const session = await createSession(site.t, `${site.origin}/`);
    expect(await fetches(session.hostUrl)).toEqual(direct);
  });
});
