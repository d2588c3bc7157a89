// The rules of every config entry a page's origin matches apply to it, merged: a wildcard entry
// listed before a more specific one no longer hides the specific one's masks, host-only rules and
// control policy. A real gateway and origin; the rules as the host's page gets them.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteRules } from '../gateway/site-rules.js';
import { createSession, startTestGateway, type TestGateway } from './helpers/gateway.js';

let server: Server;
let t: TestGateway;
let port = 0;
const origin = (name: string) => `http://${name}.localhost:${port}`;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><head><title>x</title></head><body><p class="balance">1,234.56</p></body></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  t = await startTestGateway({
    demo: { enabled: false },
    sites: [
      { url: `http://*.shop.localhost:${port}`, mask: ['.promo'], hostOnlyUrls: ['/admin/*'] },
      { url: origin('bank.shop'), mask: ['.balance'], hostOnly: ['#transfer'], control: 'request' },
    ],
  });
});
afterAll(async () => {
  await t?.close();
  server?.close();
});

/** The injected tag's data attributes on the page `url` of a fresh session. */
async function pageRules(url: string): Promise<Record<string, unknown>> {
  const session = await createSession(t, url);
  const host = await t.join(session.hostUrl);
  const res = await t.call('GET', `${host.proxiedOrigin}/`, { headers: { cookie: host.cookie, accept: 'text/html' } });
  const tag = /<script src="\/__cobrowse\/inject\.js"[^>]*>/.exec(res.text)?.[0] ?? '';
  const attr = (name: string) => {
    const m = new RegExp(` data-${name}="([^"]*)"`).exec(tag);
    return m ? JSON.parse(m[1]!.replaceAll('&quot;', '"')) : [];
  };
  return { mask: attr('mask'), hostOnly: attr('host-only'), hostOnlyUrls: attr('host-only-urls') };
}

describe('site rules from every matching entry', () => {
  it("a page of the specific site gets its rules and the wildcard's; another subdomain the wildcard's alone", async () => {
    expect(await pageRules(`${origin('bank.shop')}/`)).toEqual({ mask: ['.promo', '.balance'], hostOnly: ['#transfer'], hostOnlyUrls: ['/admin/*'] });
    expect(await pageRules(`${origin('www.shop')}/`)).toEqual({ mask: ['.promo'], hostOnly: [], hostOnlyUrls: ['/admin/*'] });
  });

  it('takes the strictest control policy of the matching entries, and the lists once each', () => {
    const sites = t.gateway.context.sites;
    expect(siteRules(sites, new URL(`${origin('bank.shop')}/`)).control).toBe('request');
    expect(siteRules(sites, new URL(`${origin('www.shop')}/`)).control).toBe('take');
    expect(siteRules([...sites, ...sites.map((s) => ({ ...s, url: `${s.url}/`, control: 'host-only' as const }))], new URL(`${origin('bank.shop')}/`))).toEqual(
      {
        mask: ['.promo', '.balance'],
        hostOnly: ['#transfer'],
        hostOnlyUrls: ['/admin/*'],
        control: 'host-only',
      },
    );
    expect(siteRules(sites, new URL('http://elsewhere.localhost/'))).toEqual({ mask: [], hostOnly: [], hostOnlyUrls: [], control: 'take' });
  });
});
