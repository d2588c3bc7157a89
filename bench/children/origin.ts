// The bench origin (node:http, one process): a 100 KB image, a 1 KB JSON answer, 50 KB and
// 500 KB HTML pages (the 50 KB one also gzipped), plus cookie endpoints. Everything is built once,
// in memory.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serveRpc, usage } from '../lib/child-rpc.js';
import { htmlPage, imageBytes, jsonBody, sha256 } from '../lib/content.js';

export interface Asset {
  path: string;
  type: string;
  length: number;
  sha256: string;
}

const COOKIE_COUNT = 30;
const PIXEL = imageBytes(64);

const page50k = htmlPage(50 * 1024, 'Bench page 50 KB');
/** `body`: what the client gets once decoded (the manifest's length and hash); `gzip`: sent so, as a site with static compression (level 6) does. */
const assets = new Map<string, { type: string; body: Buffer; gzip?: Buffer }>([
  ['/img/100k.png', { type: 'image/png', body: imageBytes(100 * 1024) }],
  ['/api/1k.json', { type: 'application/json', body: jsonBody(1024) }],
  ['/page/50k.html', { type: 'text/html; charset=utf-8', body: page50k }],
  ['/page/50k-gzip.html', { type: 'text/html; charset=utf-8', body: page50k, gzip: gzipSync(page50k, { level: 6 }) }],
  ['/page/500k.html', { type: 'text/html; charset=utf-8', body: htmlPage(500 * 1024, 'Bench page 500 KB') }],
]);

const setCookies = Array.from(
  { length: COOKIE_COUNT },
  (_, i) => `pref_${i}=${sha256(`cookie${i}`).slice(0, 32)}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax`,
);

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const asset = assets.get(path);
  if (asset) {
    if (asset.gzip) {
      // Always gzip (the bench's clients all accept it), as a static file server with .gz files does.
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.gzip.length,
        'content-encoding': 'gzip',
        vary: 'Accept-Encoding',
        'cache-control': 'no-cache',
      });
      res.end(asset.gzip);
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
    res.end(asset.body);
    return;
  }
  if (path === '/cookies/set') {
    res.writeHead(204, { 'set-cookie': setCookies, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  if (path === '/cookies/count' || path === '/cookies/count.png') {
    const header = req.headers.cookie ?? '';
    const count = header ? header.split(';').filter((c) => c.includes('=')).length : 0;
    if (path === '/cookies/count.png') {
      // The same count as an image (what a follower's view may load: the gateway refuses it the rest), in headers.
      res.writeHead(200, {
        'content-type': 'image/png',
        'content-length': PIXEL.length,
        'cache-control': 'no-store',
        'x-cookie-count': String(count),
        'x-cookie-bytes': String(header.length),
      });
      res.end(PIXEL);
      return;
    }
    const body = JSON.stringify({ count, bytes: header.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
  res.end('not found');
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  const manifest: Asset[] = [...assets].map(([path, a]) => ({ path, type: a.type, length: a.body.length, sha256: sha256(a.body) }));
  serveRpc({ port, manifest, cookieCount: COOKIE_COUNT }, { usage });
});
