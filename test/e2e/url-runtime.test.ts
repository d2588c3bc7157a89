// The client runtime of the rewriting proxy: URLs built by the site's script at run time go
// through the gateway, to allowed origins only; nothing reaches a real origin from the browser.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let browser: Browser;
let api: Server;
let apiOrigin: string;
let forbidden: Server;
let forbiddenOrigin: string;
const apiRequests: IncomingMessage[] = [];
const forbiddenRequests: IncomingMessage[] = [];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  api = createServer((req, res) => {
    apiRequests.push(req);
    const origin = req.headers.origin;
    const cors: Record<string, string> = origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...cors });
    res.end(JSON.stringify({ path: req.url, origin: origin ?? null }));
  });
  forbidden = createServer((req, res) => {
    forbiddenRequests.push(req);
    res.end('should never be reached');
  });
  apiOrigin = await listen(api);
  forbiddenOrigin = await listen(forbidden);
  t = await startTestGateway({ sites: [{ url: apiOrigin, name: 'API' }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  api?.close();
  forbidden?.close();
});

describe('URL runtime in the host page', () => {
  it('maps fetch, XHR and element URLs to another allowed origin, and refuses origins outside the allowlist', async () => {
    const session = await createSession(t, `${t.demoOrigin}/`);
    const host = await newParticipant(browser);
    const requested: string[] = [];
    host.page.on('request', (r) => requested.push(r.url()));
    if (process.env.DEBUG_RUNTIME) {
      host.page.on('response', (r) => console.log('RESP', r.status(), r.url(), JSON.stringify(r.headers())));
      host.page.on('console', (m) => console.log('CONSOLE', m.text()));
      host.page.on('requestfailed', (r) => console.log('FAILED', r.url(), r.failure()?.errorText));
    }
    await host.page.goto(session.hostUrl);

    const result = await host.page.evaluate(
      async ([apiUrl, badUrl]) => {
        const viaFetch = await (await fetch(`${apiUrl}/data?x=1`)).json();
        const viaXhr = await new Promise((resolve) => {
          const xhr = new XMLHttpRequest();
          xhr.open('GET', `${apiUrl}/xhr`);
          xhr.onload = () => resolve(JSON.parse(xhr.responseText));
          xhr.send();
        });
        const img = document.createElement('img');
        img.src = `${apiUrl}/pixel`;
        document.body.appendChild(img);
        const refused = await fetch(`${badUrl}/secret`);
        const blocked = `${refused.status} ${((await refused.json()) as { error: { code: string } }).error.code}`;
        return { viaFetch, viaXhr, imgSrc: img.src, blocked };
      },
      [apiOrigin, forbiddenOrigin],
    );
    expect(result.viaFetch).toEqual({ path: '/data?x=1', origin: t.demoOrigin });
    expect(result.viaXhr).toEqual({ path: '/xhr', origin: t.demoOrigin });
    expect(result.imgSrc).toMatch(new RegExp(`^http://o2--${session.id}\\.cobrowse\\.localhost:${t.gateway.port}/pixel$`));
    expect(result.blocked).toBe('403 SITE_NOT_ALLOWED');
    await expect.poll(() => apiRequests.some((r) => r.url === '/pixel')).toBe(true);
    expect(forbiddenRequests).toHaveLength(0);
    // Upstream saw the real origin and no gateway cookie.
    for (const r of apiRequests) expect(r.headers.cookie ?? '').not.toContain('__cobrowse');

    const gatewayHost = new RegExp(`^https?://([a-z0-9-]+\\.)*localhost:${t.gateway.port}/`);
    expect(requested.filter((u) => !gatewayHost.test(u) && !u.startsWith('data:'))).toEqual([]);
    await host.context.close();
  });

  it('maps URLs in markup written by script (innerHTML, insertAdjacentHTML) before the browser loads them', async () => {
    const session = await createSession(t, `${t.demoOrigin}/`);
    const host = await newParticipant(browser);
    const requested: string[] = [];
    host.page.on('request', (r) => requested.push(r.url()));
    await host.page.goto(session.hostUrl);
    const before = forbiddenRequests.length;
    const result = await host.page.evaluate(
      ([apiUrl, badUrl]) => {
        const box = document.createElement('div');
        document.body.appendChild(box);
        box.innerHTML = `<img id="ih" src="${apiUrl}/pixel?ih"><a id="ia" href="${apiUrl}/x">x</a><img id="bad" src="${badUrl}/leak">`;
        box.insertAdjacentHTML('beforeend', `<img id="adj" srcset="${apiUrl}/pixel?adj 1x, ${apiUrl}/pixel?adj2 2x">`);
        return {
          ih: (document.getElementById('ih') as HTMLImageElement).getAttribute('src'),
          ia: (document.getElementById('ia') as HTMLAnchorElement).getAttribute('href'),
          bad: (document.getElementById('bad') as HTMLImageElement).getAttribute('src'),
          adj: (document.getElementById('adj') as HTMLImageElement).getAttribute('srcset'),
        };
      },
      [apiOrigin, forbiddenOrigin],
    );
    const o2 = `http://o2--${session.id}.cobrowse.localhost:${t.gateway.port}`;
    expect(result.ih).toBe(`${o2}/pixel?ih`);
    expect(result.ia).toBe(`${o2}/x`);
    expect(result.adj).toBe(`${o2}/pixel?adj 1x, ${o2}/pixel?adj2 2x`);
    expect(result.bad).toMatch(/\/__cobrowse\/blocked-origin\//);
    await expect.poll(() => apiRequests.some((r) => r.url === '/pixel?ih')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(forbiddenRequests.length).toBe(before);
    const gatewayHost = new RegExp(`^https?://([a-z0-9-]+\\.)*localhost:${t.gateway.port}/`);
    expect(requested.filter((u) => !gatewayHost.test(u) && !u.startsWith('data:'))).toEqual([]);
    await host.context.close();
  });

  it('keeps postMessage origins working, and does not let the site register a service worker', async () => {
    const session = await createSession(t, `${t.demoOrigin}/`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const result = await host.page.evaluate(async (realOrigin) => {
      const received = new Promise<string>((resolve) => addEventListener('message', (ev) => resolve(ev.origin), { once: true }));
      window.postMessage('hello', realOrigin);
      const origin = await received;
      let sw = 'registered';
      try {
        await navigator.serviceWorker.register('/sw.js');
      } catch (err) {
        sw = (err as Error).name;
      }
      return { origin, sw };
    }, t.demoOrigin);
    expect(result).toEqual({ origin: t.demoOrigin, sw: 'SecurityError' });
    await host.context.close();
  });
});
