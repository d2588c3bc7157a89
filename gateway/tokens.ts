// Unguessable identifiers: session ids, invite and participant tokens, tickets.

import { randomBytes } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A session id: 26 lowercase base32 characters, 130 random bits, valid in a DNS label. */
export function newSessionId(): string {
  const bytes = randomBytes(17);
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A secret token (invite, participant, ticket, admin): 192 random bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** A short public id for a participant, shown to the other participants. */
export function newParticipantId(): string {
  return `p${randomBytes(6).toString('hex')}`;
}

/** Id of one gateway process (a node), unique per start; names its connections in shared state. */
export function newNodeId(): string {
  return `n${randomBytes(5).toString('hex')}`;
}
