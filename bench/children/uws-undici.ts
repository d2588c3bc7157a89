// The floor of the gateway's design: a bare uWS app that passes every request to the origin
// through an undici Agent (dispatch with a raw handler, as gateway/upstream.ts) and streams the
// answer back with tryEnd, with nothing else (no session, cookie jar, header policy, rewriting,
// metrics or logs). What the gateway costs above it is the gateway's own work.

import uWS from 'uWebSockets.js';
import { Agent, type Dispatcher } from 'undici';
import { childArgs, serveRpc, usage } from '../lib/child-rpc.js';

const { origin } = childArgs<{ origin: string }>();
const agent = new Agent({ connections: 128 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

const app = uWS.App();
app.any('/*', (res, req) => {
  const query = req.getQuery();
  const path = query ? `${req.getUrl()}?${query}` : req.getUrl();
  const method = req.getCaseSensitiveMethod().toUpperCase();
  let gone = false;
  let controller: Dispatcher.DispatchController | null = null;
  let status = 0;
  let headers: Record<string, string | string[] | undefined> = {};
  let length = -1;
  const pending: Buffer[] = [];
  let waiting = false;
  res.onAborted(() => {
    gone = true;
    controller?.abort(new Error('client gone'));
  });
  const writeHead = (): void => {
    res.writeStatus(`${status}`);
    for (const [name, value] of Object.entries(headers)) {
      if (HOP.has(name) || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) res.writeHeader(name, v);
    }
  };
  let headWritten = false;
  // Known length: each chunk with tryEnd (the socket is paused while uWS cannot take more).
  const send = (chunk: Buffer): void => {
    if (gone) return;
    if (waiting) {
      pending.push(chunk);
      return;
    }
    const offset = res.getWriteOffset();
    let ok = true;
    res.cork(() => {
      if (!headWritten) writeHead();
      headWritten = true;
      ok = res.tryEnd(chunk, length)[0];
    });
    if (ok) return;
    waiting = true;
    controller?.pause();
    let rest = chunk;
    let start = offset;
    res.onWritable((at) => {
      const [written, done] = res.tryEnd(rest.subarray(at - start), length);
      if (!written && !done) return false;
      waiting = false;
      while (pending.length > 0 && !waiting) {
        rest = pending.shift()!;
        start = res.getWriteOffset();
        const [w, d] = res.tryEnd(rest, length);
        if (!w && !d) waiting = true;
      }
      if (!waiting) controller?.resume();
      return true;
    });
  };
  agent.dispatch(
    { origin, path, method: method as Dispatcher.HttpMethod, headers: { 'user-agent': req.getHeader('user-agent') } },
    {
      onRequestStart: (c) => {
        controller = c;
      },
      onResponseStart: (_c, code, h) => {
        status = code;
        headers = h as Record<string, string | string[] | undefined>;
        length = h['content-length'] === undefined ? -1 : Number(h['content-length']);
      },
      onResponseData: (_c, chunk) => {
        if (length >= 0) send(chunk);
        else pending.push(chunk);
      },
      onResponseEnd: () => {
        if (gone || length >= 0) return;
        // Unknown length (the bench's answers all have one): whole.
        res.cork(() => {
          writeHead();
          res.end(Buffer.concat(pending));
        });
      },
      onResponseError: () => {
        if (!gone && !headWritten) res.cork(() => res.writeStatus('502 Bad Gateway').end('bad gateway'));
        else if (!gone) res.close();
      },
    },
  );
});
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('uws-undici: could not listen');
  serveRpc({ port: uWS.us_socket_local_port(socket) }, { usage });
});
