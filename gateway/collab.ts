// Working together, on the server: presence, chat, names, highlights and who holds control.
// The hub hands these messages here; roles and the site's control policy are enforced here.

import type { ClientMessage, ControlPolicy, RosterEntry, ServerMessage } from '../protocol/messages.js';
import type { GatewayContext } from './context.js';
import type { ChatEntry, Participant, Session } from './session.js';
import { siteRules } from './site-rules.js';

/** How the hub lets this module talk to a session's sockets. */
export interface CollabIo {
  /** To everyone in the session except, when given, one participant. */
  broadcast(message: ServerMessage, except?: Participant): void;
  /** To every socket of one participant. */
  sendTo(participant: Participant, message: ServerMessage): void;
  /** Stores a chat message, then shows it to everyone (or tells `from` it was not sent). */
  chat(entry: ChatEntry, from: Participant): Promise<void>;
  log(msg: string, fields: Record<string, string | number | boolean | null | undefined>): void;
}

type CollabMessage = Extract<ClientMessage, { type: 'presence' | 'chat' | 'name' | 'control' | 'highlight' }>;

/** The control policy of the site a session started on (configured per site; `take` by default). */
export function controlPolicyFor(gw: GatewayContext, session: Session): ControlPolicy {
  return siteRules(gw.sites, session.startUrl).control;
}

/** The roster message everyone gets when someone joins, leaves, is renamed or changes role. */
export function rosterMessage(session: Session, policy: ControlPolicy): ServerMessage {
  const participants: RosterEntry[] = [...session.participants.values()].map((p) => ({
    id: p.id,
    name: p.name,
    color: p.color,
    role: p.role,
    connected: p.connections > 0,
  }));
  return { type: 'roster', participants, controlHolder: session.controlHolder, policy };
}

/** True when `participant` may act on the host's page right now (the hub drops the input otherwise). */
export function mayAct(session: Session, participant: Participant, policy: ControlPolicy): boolean {
  if (participant.role === 'host') return true;
  if (participant.role !== 'controller') return false;
  switch (policy) {
    case 'host-only':
      return false;
    case 'request':
      return session.controlHolder === participant.id;
    case 'take':
      return true;
    default: {
      const unknown: never = policy;
      throw new Error(`unknown control policy ${String(unknown)}`);
    }
  }
}

function findHost(session: Session): Participant | undefined {
  return [...session.participants.values()].find((p) => p.role === 'host');
}

function setHolder(session: Session, holder: Participant | null, by: Participant, io: CollabIo, policy: ControlPolicy): void {
  session.set({ controlHolder: holder?.id ?? null });
  session.audit({ event: 'control', participantId: by.id, role: by.role, detail: holder ? `control to ${holder.id}` : 'control back to the host' });
  io.broadcast(rosterMessage(session, policy));
}

/** A name compared with others: trimmed, compatibility-normalized, case-folded. */
function nameKey(name: string): string {
  return name.trim().normalize('NFKC').toLowerCase();
}

/** True when another participant of the session goes by `name` (anyone but the host by "Host"): nobody poses as someone else. */
function nameTaken(session: Session, from: Participant, name: string): boolean {
  const key = nameKey(name);
  if (key === 'host' && from.role !== 'host') return true;
  for (const p of session.participants.values()) if (p !== from && nameKey(p.name) === key) return true;
  return false;
}

/** Handles one collaboration message from `from`. */
export function handleCollab(session: Session, from: Participant, msg: CollabMessage, policy: ControlPolicy, io: CollabIo): void {
  switch (msg.type) {
    case 'presence':
      io.broadcast({ type: 'presence', from: from.id, cursor: msg.cursor }, from);
      return;
    case 'highlight':
      io.broadcast(
        {
          type: 'highlight',
          from: from.id,
          kind: msg.kind,
          target: msg.target,
          x: msg.x,
          y: msg.y,
          ...(msg.w !== undefined && msg.h !== undefined ? { w: msg.w, h: msg.h } : {}),
        },
        from,
      );
      return;
    case 'chat': {
      void io.chat({ from: from.id, name: from.name, text: msg.text.trim(), at: Date.now() }, from);
      return;
    }
    case 'name': {
      const name = msg.name.trim();
      if (name === from.name) return;
      if (nameTaken(session, from, name)) {
        io.log('name change refused: taken', { sessionId: session.id, participantId: from.id, role: from.role });
        io.sendTo(from, { type: 'notice', text: `Someone in this session is already called "${name}": choose another name.` });
        return;
      }
      from.name = name;
      session.saveParticipant(from);
      io.broadcast(rosterMessage(session, policy));
      return;
    }
    case 'control':
      handleControl(session, from, msg, policy, io);
      return;
    default: {
      const unknown: never = msg;
      throw new Error(`unhandled collaboration message ${JSON.stringify(unknown)}`);
    }
  }
}

function handleControl(session: Session, from: Participant, msg: Extract<ClientMessage, { type: 'control' }>, policy: ControlPolicy, io: CollabIo): void {
  const target = msg.participantId ? session.participants.get(msg.participantId) : undefined;
  const refuse = (why: string) => {
    session.audit({ event: 'blocked', participantId: from.id, role: from.role, detail: `control ${msg.action}: ${why}` });
    io.log('control action refused', { sessionId: session.id, participantId: from.id, role: from.role, action: msg.action, reason: why });
    io.sendTo(from, { type: 'notice', text: why });
  };
  switch (msg.action) {
    case 'request': {
      if (from.role !== 'controller') {
        refuse('Observers cannot take control.');
        return;
      }
      if (policy === 'host-only') {
        refuse('On this site only the host can act.');
        return;
      }
      if (policy === 'take') {
        setHolder(session, from, from, io, policy);
        return;
      }
      const host = findHost(session);
      if (host) io.sendTo(host, { type: 'control-request', from: from.id, name: from.name });
      session.audit({ event: 'control', participantId: from.id, role: from.role, detail: 'requested control' });
      return;
    }
    case 'release':
      if (session.controlHolder === from.id) setHolder(session, null, from, io, policy);
      return;
    case 'grant':
      if (from.role !== 'host') {
        refuse('Only the host grants control.');
        return;
      }
      if (target?.role !== 'controller') {
        refuse('Control can be given to participants with control links only.');
        return;
      }
      setHolder(session, target, from, io, policy);
      return;
    case 'deny':
      if (from.role !== 'host') {
        refuse('Only the host answers control requests.');
        return;
      }
      if (target) io.sendTo(target, { type: 'notice', text: 'The host declined your request for control.' });
      return;
    case 'revoke':
      if (from.role !== 'host') {
        refuse('Only the host revokes control.');
        return;
      }
      setHolder(session, null, from, io, policy);
      return;
    case 'make-host':
      // Handled by the hub, which moves the live page; here only the checks.
      if (from.role !== 'host') {
        refuse('Only the host passes the host role.');
        return;
      }
      if (!target || target.role === 'observer' || target.connections === 0) {
        refuse('The host role goes to a connected participant with control.');
        return;
      }
      return;
    default: {
      const unknown: never = msg.action;
      throw new Error(`unknown control action ${String(unknown)}`);
    }
  }
}
