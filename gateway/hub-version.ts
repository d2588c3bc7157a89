// The hub's answer to a hello of another protocol version: a page loaded before the gateway was
// updated (or served by a node of another version). Its script cannot read this hub's messages,
// so the page is told to reload in the ways its own script shows, gets nothing more of the session,
// and is closed with 4400, after which no version of the script reconnects.
//
// What a page of protocol 1 does with each frame (inject/ of f7331e5^): a notice shows in its
// panel for 6 s (the host's page has no other place); of the errors, the view page shows every
// message in its status bar but replaces it with "disconnected" once the socket closes, except
// REMOVED's, which stays until the page is loaded again. Pages of protocol 2 and later close their
// socket at VERSION_MISMATCH and show the reload notice themselves: they never read the REMOVED
// behind it.

import type { WebSocket } from 'uWebSockets.js';
import { RELOAD_NOTICE, VERSION_MISMATCH } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { SocketData, SocketOutput } from './hub-socket.js';

/** Refuses the socket's hello for its protocol version (`reason`: the validator's text, which says to reload) and closes it. */
export function refuseOtherVersion(gw: GatewayContext, out: SocketOutput, ws: WebSocket<SocketData>, reason: string): void {
  const { session, participant } = ws.getUserData();
  gw.log.warn('hub message rejected', {
    sessionId: session.id,
    participantId: participant.id,
    role: participant.role,
    code: VERSION_MISMATCH,
    message: reason,
  });
  // A reason of its own: pages left over from before a deploy, not malformed messages.
  gw.metrics?.rejected(VERSION_MISMATCH);
  ws.cork(() => {
    out.send(ws, { type: 'notice', text: RELOAD_NOTICE });
    out.send(ws, { type: 'error', code: VERSION_MISMATCH, message: reason });
    out.send(ws, { type: 'error', code: 'REMOVED', message: RELOAD_NOTICE });
    ws.end(4400, VERSION_MISMATCH);
  });
}
