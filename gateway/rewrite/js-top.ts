// The gateway's side of protocol/top-references.ts: scripts held as decoded bytes are searched for
// references to the top window without turning them into strings (only the surroundings of each
// `top` are read).

import { candidateAt, isIdentPart, isMemberStart, isSpace, NAME_BEFORE, TOP_SEAM } from '../../protocol/top-references.js';

/** The same on bytes (a decoded script held as bytes): the first possible reference in bytes[0, to), or -1. */
export function firstTopCandidateInBytes(bytes: Buffer, to = bytes.length): number {
  for (let k = bytes.indexOf('top', 0, 'latin1'); k !== -1 && k + 3 <= to; k = bytes.indexOf('top', k + 3, 'latin1')) {
    if (k > 0 && isIdentPart(bytes[k - 1]!)) continue;
    let j = k + 3;
    while (j < to && isSpace(bytes[j]!)) j++;
    if (j >= to || !isMemberStart(bytes[j]!)) continue;
    const start = Math.max(0, k - NAME_BEFORE);
    const found = candidateAt(bytes.toString('latin1', start, Math.min(to, k + TOP_SEAM)), start, k);
    if (found !== -1) return found;
  }
  return -1;
}

/** Whether a script (its decoded bytes) may hold a reference at all. */
export function bytesMayReferenceTop(bytes: Buffer): boolean {
  return firstTopCandidateInBytes(bytes) !== -1;
}
