// Wraps the hub's uWS WebSocket behavior so that an error in one socket's handler is logged with
// its session and closes that socket only, never the process; counts bytes and closes on the way.

import type { HttpResponse, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { GatewayContext } from './context.js';
import type { SocketData } from './hub-socket.js';
import { errorFields, type LogFields } from './log.js';

/** Session, participant and role of a socket, for its log lines. */
function socketFields(ws: WebSocket<SocketData>): LogFields {
  try {
    const { session, participant } = ws.getUserData();
    return { sessionId: session.id, participantId: participant.id, role: participant.role };
  } catch {
    return {};
  }
}

/** Runs a handler; a throw or a rejected promise goes to `onError` instead of up the stack. */
function contain(run: () => void | Promise<void>, onError: (err: unknown) => void): void {
  try {
    const result = run();
    if (result instanceof Promise) result.catch(onError);
  } catch (err) {
    onError(err);
  }
}

/** Closes a socket after a handler failed; it may already be closed. */
function endQuietly(ws: WebSocket<SocketData>): void {
  try {
    ws.end(1011, 'internal error');
  } catch {
    // Already closed.
  }
}

function answer500(res: HttpResponse): void {
  try {
    res.cork(() => {
      res
        .writeStatus('500 Internal Server Error')
        .writeHeader('content-type', 'application/json')
        .end('{"error":{"code":"INTERNAL","message":"The gateway failed."}}');
    });
  } catch {
    // Already answered or upgraded.
  }
}

/** The hub's behavior with every handler guarded, plus byte and close-code metrics and connect/disconnect logs. */
export function guardSocketBehavior(gw: GatewayContext, behavior: WebSocketBehavior<SocketData>): WebSocketBehavior<SocketData> {
  const { upgrade, open, message, close } = behavior;
  const failed = (what: string, fields: LogFields) => (err: unknown) => gw.log.error(`hub ${what} failed`, { ...fields, ...errorFields(err, true) });
  return {
    ...behavior,
    upgrade: (res, req, context) => {
      // Lifetime rule: `req` is valid only in this call; the hub reads it synchronously.
      contain(
        () => upgrade?.(res, req, context),
        (err) => {
          failed('upgrade', {})(err);
          answer500(res);
        },
      );
    },
    open: (ws) => {
      const fields = socketFields(ws);
      contain(
        () => open?.(ws),
        (err) => {
          failed('open', fields)(err);
          endQuietly(ws);
        },
      );
      gw.log.debug('participant connected', fields);
    },
    message: (ws, data, isBinary) => {
      gw.metrics?.wsReceivedBytes(data.byteLength);
      contain(
        () => message?.(ws, data, isBinary),
        (err) => {
          failed('message', socketFields(ws))(err);
          endQuietly(ws);
        },
      );
    },
    close: (ws, code, reason) => {
      gw.metrics?.wsClosedWith(code);
      const fields = socketFields(ws);
      contain(() => close?.(ws, code, reason), failed('close', fields));
      gw.log.debug('participant disconnected', { ...fields, code });
    },
  };
}
