// The hub's messages on a session's bus channel. Sequenced ones (snapshots and mutations, stamped
// by the state store) go to every mirror; addressed ones go to some of the session's sockets on
// whichever node holds them.

/** Who an addressed message is for. */
export type FanoutTarget =
  | { to: 'all'; except?: string }
  | { to: 'participant'; id: string }
  /** The socket running the host's live page. */
  | { to: 'live' }
  /** Every socket in live mode (a former host page included). */
  | { to: 'live-pages' };

/** A message read off the channel. */
export type BusMessage =
  | { kind: 'sequenced'; seq: number; encoded: string; isSnapshot: boolean }
  | { kind: 'addressed'; target: FanoutTarget; encoded: string };

function targetText(target: FanoutTarget): string {
  switch (target.to) {
    case 'all':
      return target.except ? `*!${target.except}` : '*';
    case 'participant':
      return `@${target.id}`;
    case 'live':
      return 'L';
    case 'live-pages':
      return 'LP';
    default: {
      const unknown: never = target;
      throw new Error(`unknown fanout target ${JSON.stringify(unknown)}`);
    }
  }
}

function parseTarget(text: string): FanoutTarget | null {
  if (text === '*') return { to: 'all' };
  if (text.startsWith('*!')) return { to: 'all', except: text.slice(2) };
  if (text.startsWith('@')) return { to: 'participant', id: text.slice(1) };
  if (text === 'L') return { to: 'live' };
  if (text === 'LP') return { to: 'live-pages' };
  return null;
}

/** An addressed message as it goes on the channel. */
export function addressed(target: FanoutTarget, encoded: string): string {
  return `T${targetText(target)}\n${encoded}`;
}

/** Reads a channel message; null for anything else. */
export function parseBusMessage(message: string): BusMessage | null {
  const nl = message.indexOf('\n');
  if (nl < 2) return null;
  const head = message.slice(1, nl);
  const encoded = message.slice(nl + 1);
  if (message[0] === 'S') {
    const seq = Number(head);
    if (!Number.isSafeInteger(seq) || seq < 1) return null;
    return { kind: 'sequenced', seq, encoded, isSnapshot: encoded.startsWith('{"type":"snapshot"') };
  }
  if (message[0] === 'T') {
    const target = parseTarget(head);
    return target ? { kind: 'addressed', target, encoded } : null;
  }
  return null;
}
