// Speculation rule sets and web app manifests through a real gateway and origin: their URLs are
// mapped whatever way the body comes (with the gateway's integrity marker, served as text/html,
// in JSON that only Blink's lenient reader takes), and never reach the browser unmapped.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OriginBehindGateway, originBehindGateway } from './helpers/gateway.js';

const RULES = JSON.stringify({ prefetch: [{ source: 'list', urls: ['https://elsewhere.example/x', '/relative'] }] });
let ob: OriginBehindGateway;

function serve(req: IncomingMessage, res: ServerResponse): void {
  const self = `http://127.0.0.1:${req.socket.localPort}`;
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const manifest = JSON.stringify({ name: 'Shop', start_url: `${self}/app/`, icons: [{ src: `${self}/i.png` }] });
  const bodies: Record<string, [string, string]> = {
    '/rules.json': ['application/speculationrules+json', RULES],
    '/vtab-rules.json': ['application/speculationrules+json', RULES.replace('"/relative"', '"/rel\\vative"')],
    '/broken-rules.json': ['application/speculationrules+json', `${RULES.slice(0, -1)} ,`],
    '/manifest.php': ['text/html; charset=UTF-8', manifest],
    '/commented.webmanifest': ['application/manifest+json', `/* the app */ ${manifest.replace('{', '{ // name first\n')}`],
    '/deep.webmanifest': ['application/manifest+json', `{"start_url":"${self}/app/","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
  };
  const [type, body] = bodies[path] ?? ['text/plain', 'none'];
  res.writeHead(200, { 'content-type': type }).end(body);
}

beforeAll(async () => {
  ob = await originBehindGateway(serve, '/');
});
afterAll(async () => {
  await ob?.close();
});

async function get(path: string, dest: string): Promise<{ status: number; type: string; text: string }> {
  const res = await request(`http://127.0.0.1:${ob.t.gateway.port}${path}`, {
    headers: {
      host: new URL(ob.host.proxiedOrigin).host,
      cookie: ob.host.cookie,
      'sec-fetch-dest': dest,
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'cors',
    },
  });
  return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
}

const sri = (text: string) => `__cobrowse_sri=${encodeURIComponent(`sha384-${createHash('sha384').update(text).digest('base64')}`)}`;

describe('rule sets and manifests through the gateway', () => {
  it('maps a rule set the gateway checked against its integrity marker', async () => {
    const plain = await get('/rules.json', 'speculationrules');
    const marked = await get(`/rules.json?${sri(RULES)}`, 'speculationrules');
    expect(plain.text).not.toContain('https://elsewhere.example');
    expect(JSON.parse(plain.text).prefetch[0].urls[0]).toMatch(/\/blocked\?url=/);
    expect(marked.status).toBe(200);
    expect(marked.text).toBe(plain.text);
  });

  it('reads rule sets as Blink does, and gives none for one it cannot read', async () => {
    const vtab = await get('/vtab-rules.json', 'speculationrules');
    expect(JSON.parse(vtab.text).prefetch[0].urls).toEqual([expect.stringMatching(/\/blocked\?url=/), '/rel\u000bative']);
    expect((await get('/broken-rules.json', 'speculationrules')).text).toBe('{}');
  });

  it('maps a manifest whatever its type, comments and all', async () => {
    for (const path of ['/manifest.php', '/commented.webmanifest']) {
      const res = await get(path, 'manifest');
      expect(res.status, path).toBe(200);
      const manifest = JSON.parse(res.text);
      expect(manifest.name, path).toBe('Shop');
      expect(manifest.start_url, path).toBe(`${ob.host.proxiedOrigin}/app/`);
      expect(manifest.icons[0].src, path).toBe(`${ob.host.proxiedOrigin}/i.png`);
      expect(res.text, path).not.toContain('__cobrowse/inject.js');
    }
  });

  it('gives no manifest for one too deep to write back (not an error page)', async () => {
    const res = await get('/deep.webmanifest', 'manifest');
    expect(res.status).toBe(200);
    expect(res.text).toBe('{}');
  });
});
