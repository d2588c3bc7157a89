// The plain reverse proxy users would otherwise deploy in Node: node:http + http-proxy, with a
// keep-alive agent to the origin, in a process of its own.

import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { childArgs, serveRpc, usage } from '../lib/child-rpc.js';

const { origin } = childArgs<{ origin: string }>();
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const proxy = httpProxy.createProxyServer({ target: origin, agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('bad gateway');
});

// http-proxy leaks keep-alive upstream sockets when the client goes away mid-response (the
// upstream response stays paused and its socket is never freed): after a few load runs ending
// with in-flight requests, all 128 agent sockets were stuck and the proxy answered nothing.
// Users of http-proxy need this too; without it this baseline would measure a hung proxy.
proxy.on('proxyReq', (proxyReq, _req, res) => {
  res.on('close', () => {
    if (!res.writableFinished) proxyReq.destroy();
  });
});

const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(0, '127.0.0.1', () => {
  serveRpc({ port: (server.address() as AddressInfo).port }, { usage });
});
