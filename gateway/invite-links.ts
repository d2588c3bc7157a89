// What the gateway's routes on its base host share about join links: the links of a session, the
// cookie that remembers a browser's participant there, and how secrets are compared.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayContext } from './context.js';
import type { Session } from './session.js';

/** What a removed participant's page shows. */
export const REMOVED_REASON = 'The host removed you from this session.';

/** Name of the gateway-host cookie that remembers a browser's participant in one session. */
export function gatewayCookieName(sessionId: string): string {
  return `cobrowse_${sessionId}`;
}

/** The session's three links. */
export function inviteLinks(gw: GatewayContext, session: Session): { hostUrl: string; joinUrl: string; observeUrl: string } {
  const base = gw.mapper.gatewayOrigin;
  return {
    hostUrl: `${base}/j/${session.invites.host}`,
    joinUrl: `${base}/j/${session.invites.controller}`,
    observeUrl: `${base}/j/${session.invites.observer}`,
  };
}

/** Compares two secrets in constant time. */
export function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
