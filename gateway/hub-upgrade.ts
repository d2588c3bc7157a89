// Opening a hub socket: the upgrade request must come from a page of the proxied host it is made
// on and carry a participant's cookie; the socket then starts with its state.

import type { WebSocketBehavior } from 'uWebSockets.js';
import type { GatewayContext } from './context.js';
import { fullBudgets } from './hub-limits.js';
import type { SocketData } from './hub-socket.js';

/** Finds the participant an upgrade on `host` with `cookie` is for; null when it is none. */
export type HubAuthenticate = (host: string, cookie: string) => Promise<Pick<SocketData, 'session' | 'participant' | 'label'> | null>;

/** The uWS upgrade handler of the hub's route; `nextConn` names each accepted connection. */
export function hubUpgrade(gw: GatewayContext, authenticate: HubAuthenticate, nextConn: () => string): NonNullable<WebSocketBehavior<SocketData>['upgrade']> {
  return (res, req, context) => {
    // Lifetime rule: req is only valid synchronously; read every header before anything else.
    const host = req.getHeader('host');
    const origin = req.getHeader('origin');
    const cookie = req.getHeader('cookie');
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    let aborted = false;
    // Lifetime rule: onAborted before the first await; after an abort, res must not be touched.
    res.onAborted(() => {
      aborted = true;
    });
    const refuse = (status: string, body: string) =>
      res.cork(() => {
        res.writeStatus(status).writeHeader('content-type', 'application/json').end(body);
      });
    // Only a page of this very proxied host may open its hub socket: the cookie goes with any
    // same-site WebSocket (every proxied host of every session is one site), so a page of another
    // session or another origin of this one must not ride on it. Browsers always send Origin on a
    // WebSocket upgrade; a request without one is refused too.
    const proxied = gw.mapper.parseHost(host);
    if (proxied && origin !== gw.mapper.proxiedOrigin(proxied)) {
      gw.metrics?.rejected('BAD_ORIGIN');
      gw.log.warn('hub connection refused: foreign origin', { sessionId: proxied.sessionId, origin: origin.slice(0, 200) || null });
      refuse('403 Forbidden', '{"error":{"code":"BAD_ORIGIN","message":"The hub accepts connections from pages of its own host only."}}');
      return;
    }
    authenticate(host, cookie).then(
      (auth) => {
        if (aborted) return;
        if (!auth) {
          refuse('401 Unauthorized', '{"error":{"code":"NOT_A_PARTICIPANT","message":"Join the session first."}}');
          return;
        }
        const data: SocketData = {
          ...auth,
          mode: null,
          conn: nextConn(),
          ...fullBudgets(Date.now()),
          queue: Promise.resolve(),
          closed: false,
          early: [],
          withheld: false,
          admitted: false,
          saidLive: false,
        };
        res.cork(() => res.upgrade(data, key, protocol, extensions, context));
      },
      (err: unknown) => {
        gw.log.warn('hub connection refused: the session store failed', { error: (err as Error).message });
        if (!aborted) refuse('503 Service Unavailable', '{"error":{"code":"STATE_UNAVAILABLE","message":"Try again in a moment."}}');
      },
    );
  };
}
