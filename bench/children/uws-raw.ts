// The ceiling for the hub: a bare uWS app that publishes whatever the host socket sends to every
// other socket, with the same WebSocket settings as the gateway's hub and nothing else (no
// validation, no sequence numbers, no checkpoint, no rate limit).

import uWS from 'uWebSockets.js';
import { serveRpc, settledUsage, usage } from '../lib/child-rpc.js';

interface Data {
  host: boolean;
}

const TOPIC = 'room';
const app = uWS.App();
let sockets = 0;
app.ws<Data>('/*', {
  maxPayloadLength: 8 * 1024 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  closeOnBackpressureLimit: 1,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  upgrade: (res, req, context) => {
    const host = req.getQuery('role') === 'host';
    res.upgrade<Data>(
      { host },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    sockets++;
    ws.send('{"type":"welcome"}');
    if (!ws.getUserData().host) ws.subscribe(TOPIC);
  },
  message: (ws, message, isBinary) => {
    if (ws.getUserData().host) app.publish(TOPIC, message, isBinary);
  },
  close: () => {
    sockets--;
  },
});
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) throw new Error('uws-raw: could not listen');
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  serveRpc({ port }, { usage, settledUsage, stats: () => ({ sockets }) });
});
