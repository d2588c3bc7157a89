// gateway/upstream.ts against a real node:http origin through a real undici Agent: a body read
// slowly pauses the upstream socket (bounded memory), stopping early aborts the request, a body
// cut by the origin fails the reader, and a client gone before the answer aborts it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AbortSource, ClientGoneError, sendUpstream } from '../gateway/upstream.js';

const MB = 1024 * 1024;
let server: Server;
let origin: string;
const agent = new Agent({ connections: 8 });
/** What the origin saw of each request, by path: how much it wrote, and whether the client closed before the end. */
const seen = new Map<string, { written: number; closedEarly: boolean }>();
/** The client port each small request came from (the same port: the connection was kept). */
const ports = new Map<string, number>();

function streamBody(req: IncomingMessage, res: ServerResponse, total: number, cutAt: number | null): void {
  const record = { written: 0, closedEarly: false };
  seen.set(req.url ?? '', record);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  res.on('close', () => {
    if (!res.writableFinished) record.closedEarly = true;
  });
  const chunk = Buffer.alloc(64 * 1024, 120);
  const pump = (): void => {
    while (record.written < total) {
      if (cutAt !== null && record.written >= cutAt) {
        res.destroy();
        return;
      }
      const ok = res.write(chunk);
      record.written += chunk.length;
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/big')) streamBody(req, res, 8 * MB, null);
    else if (req.url?.startsWith('/cut')) streamBody(req, res, 2 * MB, 512 * 1024);
    else if (req.url?.startsWith('/slow')) setTimeout(() => res.end('late'), 300);
    else if (req.url?.startsWith('/hints')) {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      res.writeHead(201, { 'x-final': '1' });
      res.end('done');
    } else {
      ports.set(req.url ?? '', req.socket.remotePort ?? 0);
      res.end('ok');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((r) => server.close(r));
});

const neverGone: AbortSource = { aborted: false, onAbort: () => {} };
const get = (path: string, client: AbortSource = neverGone) => sendUpstream(agent, { origin, path, method: 'GET', headers: {}, body: null }, client);

describe('sendUpstream', () => {
  it('pauses the upstream socket while nobody reads: the queue stays bounded, then the whole body arrives', async () => {
    const res = await get('/big?pause');
    expect(res.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    // Not read for 400 ms: the queue holds about the high-water mark (256 KiB), far from 8 MB.
    expect(res.body.queuedBytes).toBeGreaterThan(0);
    expect(res.body.queuedBytes).toBeLessThan(1 * MB);
    expect(seen.get('/big?pause')!.written).toBeLessThan(8 * MB);
    let total = 0;
    for await (const chunk of res.body) total += chunk.length;
    expect(total).toBe(8 * MB);
    expect(res.body.complete).toBe(true);
  });

  it('aborts the request when the reader stops early, so the origin sees the connection close', async () => {
    const res = await get('/big?stop');
    let total = 0;
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > 300 * 1024) break;
    }
    await expect.poll(() => seen.get('/big?stop')?.closedEarly).toBe(true);
    expect(seen.get('/big?stop')!.written).toBeLessThan(8 * MB);
  });

  it('fails the reader when the origin cuts the body short', async () => {
    const res = await get('/cut');
    let total = 0;
    await expect(
      (async () => {
        for await (const chunk of res.body) total += chunk.length;
      })(),
    ).rejects.toThrow();
    expect(total).toBeLessThan(2 * MB);
  });

  it('rejects with ClientGoneError when the client went away before the answer came', async () => {
    let listener: (() => void) | null = null;
    const client = {
      aborted: false,
      onAbort: (fn: () => void) => {
        listener = fn;
      },
    };
    const pending = get('/slow', client);
    setTimeout(() => {
      client.aborted = true;
      listener?.();
    }, 50);
    await expect(pending).rejects.toBeInstanceOf(ClientGoneError);
    // Already gone when the request is made: aborted before anything is sent.
    await expect(get('/slow', { aborted: true, onAbort: (fn) => fn() })).rejects.toBeInstanceOf(ClientGoneError);
  });

  it('resolves with the final answer, not an interim 103', async () => {
    const res = await get('/hints');
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-final']).toBe('1');
    let text = '';
    for await (const chunk of res.body) text += chunk.toString();
    expect(text).toBe('done');
  });

  it('refuses to send CONNECT (undici would take any answer for a tunnel)', async () => {
    await expect(sendUpstream(agent, { origin, path: '/x', method: 'CONNECT', headers: {}, body: null }, neverGone)).rejects.toThrow(/CONNECT/);
  });

  it('keeps the connection for the next request once a body was read to its end', async () => {
    const single = new Agent({ connections: 1 });
    const once = (path: string) => sendUpstream(single, { origin, path, method: 'GET', headers: {}, body: null }, neverGone);
    const one = await once('/a');
    for await (const _ of one.body);
    const two = await once('/b');
    let text = '';
    for await (const chunk of two.body) text += chunk.toString();
    expect(text).toBe('ok');
    expect(ports.get('/b')).toBe(ports.get('/a'));
    await single.close();
  });
});
