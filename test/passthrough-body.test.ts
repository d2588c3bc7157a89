// How bodies the gateway does not rewrite leave it when the origin streams them without a
// Content-Length, with a real gateway and a real origin: a small answer goes out whole (head,
// body and end in one write), a stream that comes in parts goes out part by part as it comes
// (nothing held back waiting for the next part), a large download arrives byte for byte through
// backpressure, and a client that goes away closes the upstream response.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OriginBehindGateway, originBehindGateway, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;
let host: { cookie: string; proxiedOrigin: string };
let nextEvent: () => void = () => {};
let streamClosed: Promise<void> = Promise.resolve();

const JSON_BODY = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item ${i}` })) });
const PAGE = '<!doctype html><html><head><title>page</title></head><body><a href="/sized">sized</a></body></html>';
const BIG = Buffer.alloc(6 * 1024 * 1024);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7919) & 0xff;

function serve(req: IncomingMessage, res: ServerResponse): void {
  switch (req.url) {
    case '/api/items':
      // No Content-Length: node:http sends it chunked.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON_BODY);
      return;
    case '/events': {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      let n = 0;
      const send = (): void => {
        n++;
        res.write(`data: event ${n}\n\n`);
        if (n === 3) res.end();
      };
      send();
      nextEvent = send;
      streamClosed = new Promise((resolve) => res.on('close', () => resolve()));
      return;
    }
    case '/download': {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let at = 0;
      const writeMore = (): void => {
        while (at < BIG.length) {
          const part = BIG.subarray(at, at + 64 * 1024);
          at += part.length;
          if (!res.write(part)) {
            res.once('drain', writeMore);
            return;
          }
        }
        res.end();
      };
      writeMore();
      return;
    }
    case '/negotiated': {
      // Compresses as the request allows, preferring br, as sites do; what it was offered is echoed.
      const offered = String(req.headers['accept-encoding'] ?? '');
      const coding = /\bbr\b/.test(offered) ? 'br' : /\bgzip\b/.test(offered) ? 'gzip' : 'identity';
      const body = coding === 'br' ? brotliCompressSync(JSON_BODY) : coding === 'gzip' ? gzipSync(JSON_BODY) : Buffer.from(JSON_BODY);
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-offered': offered,
        vary: 'Accept-Encoding',
        ...(coding === 'identity' ? {} : { 'content-encoding': coding }),
      });
      res.end(body);
      return;
    }
    case '/empty':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    case '/early-hints':
      // An interim answer first: the gateway passes on the final one (its status, headers and body).
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'after=hints; Path=/', 'x-final': 'yes' });
      res.end('final answer');
      return;
    case '/upload': {
      let received = 0;
      req.on('data', (c: Buffer) => {
        received += c.length;
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`received ${received} bytes, expect: ${req.headers.expect ?? 'none'}`);
      });
      return;
    }
    case '/large-head':
    case '/huge-head': {
      // 48 KB of headers (a site's large policy and cookies), or 320 KB (more than browsers take).
      const count = req.url === '/large-head' ? 96 : 640;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      for (let i = 0; i < count; i++) headers[`x-policy-${i}`] = 'p'.repeat(500);
      res.writeHead(200, headers);
      res.end('head read');
      return;
    }
    case '/reason':
      res.writeHead(299, 'Everything Fine', { 'content-type': 'text/plain' });
      res.end('custom');
      return;
    case '/reason-page':
      res.writeHead(404, 'Gone Fishing', { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><head><title>gone</title></head><body>gone</body></html>');
      return;
    case '/sized':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(JSON_BODY)) });
      res.end(req.method === 'HEAD' ? undefined : JSON_BODY);
      return;
    case '/page-gz.html': {
      const gz = gzipSync(PAGE);
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
      res.end(req.method === 'HEAD' ? undefined : gz);
      return;
    }
    case '/page.html':
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(PAGE)), etag: '"p1"' });
      res.end(req.method === 'HEAD' ? undefined : PAGE);
      return;
    default:
      res.writeHead(404).end();
  }
}

let running: OriginBehindGateway;

beforeAll(async () => {
  running = await originBehindGateway(serve, '/api/items');
  ({ t, host } = running);
});

afterAll(async () => {
  await running?.close();
});

function open(path: string, signal?: AbortSignal, headers: Record<string, string> = {}) {
  return request(`http://127.0.0.1:${t.gateway.port}${path}`, {
    headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie, ...headers },
    signal,
  });
}

/** One raw HTTP/1.1 request to the gateway (methods undici will not send); the answer's status line. */
function rawStatusLine(method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(t.gateway.port, '127.0.0.1', () => {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${new URL(host.proxiedOrigin).host}\r\nCookie: ${host.cookie}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve('no answer');
    }, 5000);
  });
}

/** An answer read off a raw socket: its head, and its body as framed by Content-Length or chunks (none for HEAD). */
interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * Requests sent one after the other on one keep-alive connection, each when the answer before it
 * is complete, as a browser reuses a connection; an answer that does not come (the gateway closed
 * the connection instead) ends the list with `null`.
 */
async function onOneConnection(requests: { method: string; path: string }[]): Promise<(RawAnswer | null)[]> {
  const socket = connect(t.gateway.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  let closed = false;
  let wake = (): void => {};
  socket.on('data', (d) => {
    text += d.toString('latin1');
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  const complete = (method: string): { answer: RawAnswer; rest: string } | null => {
    const headEnd = text.indexOf('\r\n\r\n');
    if (headEnd === -1) return null;
    const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const status = Number(statusLine!.split(' ')[1]);
    let at = headEnd + 4;
    let body = '';
    if (method !== 'HEAD' && headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      if (text.length < at + length) return null;
      body = text.slice(at, at + length);
      at += length;
    } else if (method !== 'HEAD' && headers.get('transfer-encoding') === 'chunked') {
      for (;;) {
        const lineEnd = text.indexOf('\r\n', at);
        if (lineEnd === -1) return null;
        const size = Number.parseInt(text.slice(at, lineEnd), 16);
        if (text.length < lineEnd + 2 + size + 2) return null;
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
    }
    return { answer: { status, headers, body }, rest: text.slice(at) };
  };
  const answers: (RawAnswer | null)[] = [];
  try {
    for (const { method, path } of requests) {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${new URL(host.proxiedOrigin).host}\r\nCookie: ${host.cookie}\r\nAccept: text/html,*/*\r\nAccept-Encoding: gzip, br\r\n\r\n`,
      );
      const deadline = Date.now() + 5000;
      let done = complete(method);
      while (!done && !closed && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
        done = complete(method);
      }
      if (!done) {
        answers.push(null);
        break;
      }
      answers.push(done.answer);
      text = done.rest;
    }
  } finally {
    socket.destroy();
  }
  return answers;
}

describe('HEAD requests', () => {
  it("answer with a GET's head and no body, and leave the connection open for the next request", async () => {
    const answers = await onOneConnection([
      { method: 'HEAD', path: '/sized' },
      { method: 'GET', path: '/sized' },
      { method: 'HEAD', path: '/api/items' },
      { method: 'GET', path: '/sized' },
      { method: 'HEAD', path: '/page.html' },
      { method: 'GET', path: '/page.html' },
      { method: 'HEAD', path: '/__cobrowse/no-such-endpoint' },
      { method: 'GET', path: '/sized' },
      { method: 'HEAD', path: '/page-gz.html' },
      { method: 'GET', path: '/page-gz.html' },
    ]);
    expect(answers.map((a) => a?.status ?? 'connection closed')).toEqual([200, 200, 200, 200, 200, 200, 404, 200, 200, 200]);
    const [headSized, getSized, headStreamed, , headPage, getPage, headOwn, , headGz, getGz] = answers as RawAnswer[];
    // A compressed page: the HEAD names the coding and Vary the GET comes with (the gateway compresses it again).
    expect(getGz!.headers.get('content-encoding')).toBeDefined();
    expect(headGz!.headers.get('content-encoding')).toBe(getGz!.headers.get('content-encoding'));
    expect(headGz!.headers.get('vary')).toBe(getGz!.headers.get('vary'));
    // A body passed on as it is: the site's length, the one a GET gets.
    expect(headSized!.headers.get('content-length')).toBe(String(Buffer.byteLength(JSON_BODY)));
    expect(getSized!.body).toBe(JSON_BODY);
    // A length the site did not give is not claimed (Content-Length: 0 would say the body is empty).
    expect(headStreamed!.headers.has('content-length')).toBe(false);
    // A page the gateway rewrites: not the site's length (the GET's body is longer, the script
    // injected), and the validator a GET gets.
    expect(getPage!.body).toContain('<title>page</title>');
    expect(Number(getPage!.headers.get('content-length') ?? getPage!.body.length)).toBeGreaterThan(Buffer.byteLength(PAGE));
    expect(headPage!.headers.has('content-length')).toBe(false);
    expect(headPage!.headers.get('etag')).toBe(getPage!.headers.get('etag'));
    // The gateway's own answers (an error page here) say the length of the body a GET would get.
    expect(Number(headOwn!.headers.get('content-length'))).toBeGreaterThan(0);
  });
});

describe('request bodies', () => {
  it('an upload that asks for 100-continue (as curl does above 1 KB) gets it, then the site gets the body without the header', async () => {
    const body = Buffer.alloc(200 * 1024, 97);
    const socket = connect(t.gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST /upload HTTP/1.1\r\nHost: ${new URL(host.proxiedOrigin).host}\r\nCookie: ${host.cookie}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      );
      await expect.poll(() => text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      socket.write(body);
      await expect.poll(() => text, { timeout: 5000 }).toContain('bytes, expect: ');
      expect(text).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      expect(text).toContain(`received ${body.length} bytes, expect: none`);
    } finally {
      socket.destroy();
    }
  });
});

describe('streamed bodies the gateway passes through', () => {
  it('passes on the final answer after an interim 103 Early Hints', async () => {
    const res = await open('/early-hints');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-final']).toBe('yes');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await res.body.text()).toBe('final answer');
  });

  it('takes a response head as large as browsers do (256 KB), and says so when a site sends more', async () => {
    // undici, as a client, takes 16 KB of head by default; browsers take 256 KB.
    const client = new Agent({ maxHeaderSize: 300 * 1024 });
    const large = await request(`http://127.0.0.1:${t.gateway.port}/large-head`, {
      headers: { host: new URL(host.proxiedOrigin).host, cookie: host.cookie },
      dispatcher: client,
    });
    expect(large.statusCode).toBe(200);
    expect(large.headers['x-policy-95']).toBe('p'.repeat(500));
    expect(await large.body.text()).toBe('head read');
    await client.close();
    const huge = await open('/huge-head', undefined, { accept: 'application/json' });
    expect(huge.statusCode).toBe(502);
    expect(await huge.body.json()).toEqual({
      error: { code: 'UPSTREAM_FAILED', message: `${running.originUrl} sent response headers larger than 256 KB.` },
    });
  });

  it("passes the site's reason phrase on (a page reads it as statusText), rewritten pages too; the gateway's own answers keep theirs", async () => {
    expect(await rawStatusLine('GET', '/reason')).toBe('HTTP/1.1 299 Everything Fine');
    expect(await rawStatusLine('GET', '/reason-page')).toBe('HTTP/1.1 404 Gone Fishing');
    expect(await rawStatusLine('TRACE', '/reason')).toBe('HTTP/1.1 405 Method Not Allowed');
  });

  it('answers CONNECT with 405 at once instead of opening a tunnel, and TRACE with 405 (its echo would show the jar)', async () => {
    expect(await rawStatusLine('CONNECT', '/x')).toMatch(/^HTTP\/1\.1 405 /);
    expect(await rawStatusLine('TRACE', '/x')).toMatch(/^HTTP\/1\.1 405 /);
    // The gateway goes on serving.
    expect((await open('/api/items')).statusCode).toBe(200);
  });

  it('sends a small answer without a Content-Length whole and chunked', async () => {
    const res = await open('/api/items');
    expect(res.statusCode).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(await res.body.text()).toBe(JSON_BODY);
  });

  it.each<[string | null, string, string]>([
    [null, 'identity', 'identity'],
    ['gzip, deflate', 'gzip, deflate', 'gzip'],
    ['gzip, deflate, br, zstd', 'gzip, deflate, br', 'br'],
    ['br;q=0, *', 'gzip, deflate', 'gzip'],
    ['zstd', 'identity', 'identity'],
  ])('a passed-on body comes in a coding the client accepts (Accept-Encoding %j: the site is offered %j, sends %s)', async (accept, offered, coding) => {
    const res = await open('/negotiated', undefined, accept === null ? {} : { 'accept-encoding': accept });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-offered']).toBe(offered);
    expect(res.headers['content-encoding']).toBe(coding === 'identity' ? undefined : coding);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const plain = coding === 'br' ? brotliDecompressSync(bytes) : coding === 'gzip' ? gunzipSync(bytes) : bytes;
    expect(plain.toString()).toBe(JSON_BODY);
  });

  it('ends an empty streamed answer', async () => {
    const res = await open('/empty');
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('');
  });

  it('hands each part of a stream on as it comes, not when the next one does', async () => {
    const res = await open('/events');
    expect(res.headers['content-type']).toBe('text/event-stream');
    const reader = res.body[Symbol.asyncIterator]();
    const readUntil = async (text: string): Promise<string> => {
      let got = '';
      while (!got.includes(text)) {
        const r = await Promise.race([reader.next(), new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 3000))]);
        if (r === 'late') return `${got} (nothing more within 3 s)`;
        if (r.done) break;
        got += String(r.value);
      }
      return got;
    };
    // The origin sends the second event only once the first has come through.
    expect(await readUntil('event 1')).toContain('data: event 1');
    nextEvent();
    expect(await readUntil('event 2')).toContain('data: event 2');
    nextEvent();
    expect(await readUntil('event 3')).toContain('data: event 3');
    expect((await reader.next()).done).toBe(true);
  });

  it('passes a 6 MB streamed download through byte for byte', async () => {
    const res = await open('/download');
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of res.body) {
      hash.update(chunk);
      length += chunk.length;
    }
    expect(length).toBe(BIG.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(BIG).digest('hex'));
  });

  it('closes the upstream response when the client goes away mid-stream', async () => {
    const controller = new AbortController();
    const res = await open('/events', controller.signal);
    const reader = res.body[Symbol.asyncIterator]();
    expect(String((await reader.next()).value)).toContain('event 1');
    const before = t.logs.length;
    controller.abort();
    await expect(Promise.race([streamClosed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still open'), 3000))])).resolves.toBe(
      'closed',
    );
    // A client that leaves is not a failure of the gateway: the access log says it was aborted, no warning.
    await expect.poll(() => t.logs.slice(before).find((l) => l.msg === 'proxied' && l.aborted === true)).toBeTruthy();
    expect(t.logs.slice(before).filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });
});
