// Sessions and their participants, invites and one-time tickets, held in memory.

import type { Role } from '../protocol/messages.js';
import { Checkpoint } from './checkpoint.js';
import { type JarLimits, SessionCookieJar } from './cookie-jar.js';
import { GatewayError } from './errors.js';
import { newParticipantId, newSecret, newSessionId } from './tokens.js';
import { OriginTable } from './url-mapper.js';

/** One person in a session (one browser profile that used a join link). */
export interface Participant {
  id: string;
  name: string;
  role: Role;
  /** Secret carried in the participant's host-only cookie; never sent upstream. */
  token: string;
  joinedAt: number;
  /** Open WebSocket connections of this participant. */
  connections: number;
  /** Origin labels whose proxied host holds this participant's cookie. */
  enteredLabels: Set<string>;
  /** Color of the participant's cursor and name. */
  color: string;
}

/** One chat message, kept for the session's life (bounded). */
export interface ChatEntry {
  from: string;
  name: string;
  text: string;
  at: number;
}

/** What the audit log records; never a masked value, a cookie or a token. */
export interface AuditEntry {
  at: string;
  event: 'join' | 'leave' | 'control' | 'navigate' | 'blocked' | 'handoff' | 'end';
  participantId?: string;
  role?: Role;
  detail?: string;
}

/** Colors given to participants in turn. */
const COLORS = ['#e8590c', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#d6336c', '#5c7cfa'];

/** Most chat messages and audit entries a session keeps. */
export const MAX_CHAT_ENTRIES = 500;
export const MAX_AUDIT_ENTRIES = 2000;

/** A cobrowsing session: who is in it, which origins it reaches, its cookies and live state. */
export class Session {
  readonly createdAt = Date.now();
  readonly adminToken = newSecret();
  readonly invites: Record<Role, string> = { host: newSecret(), controller: newSecret(), observer: newSecret() };
  readonly origins = new OriginTable();
  readonly jar: SessionCookieJar;
  /** The host's User-Agent and Accept-Language: every participant's requests go upstream with them. */
  upstreamIdentity: { userAgent?: string; acceptLanguage?: string } = {};
  readonly checkpoint = new Checkpoint();
  readonly participants = new Map<string, Participant>();
  lastActivity = Date.now();
  /** Real URL of the host's page, as last reported. */
  currentUrl: string;
  /** Participant (not the host) who holds control under the request policy, or who took it last. */
  controlHolder: string | null = null;
  readonly chat: ChatEntry[] = [];
  readonly auditLog: AuditEntry[] = [];
  ended = false;

  constructor(
    readonly id: string,
    readonly startUrl: URL,
    readonly idleTimeoutMs: number,
    jar?: SessionCookieJar,
  ) {
    this.jar = jar ?? new SessionCookieJar();
    this.currentUrl = startUrl.href;
    this.origins.labelFor(startUrl.origin);
  }

  /** Records an audit event (bounded: the oldest entries go first). */
  audit(entry: Omit<AuditEntry, 'at'>): void {
    this.auditLog.push({ at: new Date().toISOString(), ...entry });
    if (this.auditLog.length > MAX_AUDIT_ENTRIES) this.auditLog.splice(0, this.auditLog.length - MAX_AUDIT_ENTRIES);
  }

  /** Adds a chat message (bounded). */
  addChat(entry: ChatEntry): void {
    this.chat.push(entry);
    if (this.chat.length > MAX_CHAT_ENTRIES) this.chat.splice(0, this.chat.length - MAX_CHAT_ENTRIES);
  }

  /** Marks the session as used now, postponing its idle expiry. */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /** When the session expires if nothing happens in it. */
  get expiresAt(): number {
    return this.lastActivity + this.idleTimeoutMs;
  }
}

/** What a Session's end is reported with. */
export type SessionEndListener = (session: Session, reason: string) => void;
/** Called when a session's cookie jar changed. */
export type JarChangeListener = (session: Session) => void;
/** Called when a session's jar evicted cookies to stay within its limits. */
export type JarLimitListener = (session: Session, evicted: number, limits: JarLimits) => void;

interface Ticket {
  sessionId: string;
  participantId: string;
  label: string;
  expires: number;
}

/** Limits the registry enforces. */
export interface RegistryLimits {
  idleTimeoutMs: number;
  maxSessions: number;
  maxParticipants: number;
  ticketTtlMs: number;
  jar?: JarLimits;
}

/** Every live session of this gateway process, with lookups by invite, participant token and ticket. */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly invites = new Map<string, { sessionId: string; role: Role }>();
  private readonly tokens = new Map<string, { sessionId: string; participantId: string }>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly endListeners: SessionEndListener[] = [];
  private readonly jarListeners: JarChangeListener[] = [];
  private readonly jarLimitListeners: JarLimitListener[] = [];

  constructor(private readonly limits: RegistryLimits) {}

  /** Number of live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Calls `listener` whenever a session ends (deleted, expired or shut down). */
  onEnd(listener: SessionEndListener): void {
    this.endListeners.push(listener);
  }

  /** Calls `listener` whenever a session's cookie jar changes. */
  onJarChange(listener: JarChangeListener): void {
    this.jarListeners.push(listener);
  }

  /** Calls `listener` whenever a session's jar evicts cookies to stay within its limits. */
  onJarLimit(listener: JarLimitListener): void {
    this.jarLimitListeners.push(listener);
  }

  /** Creates a session starting at `url` (already checked against the allowlist). */
  create(url: URL): Session {
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new GatewayError('SESSION_LIMIT', 503, `This gateway already runs its maximum of ${this.limits.maxSessions} sessions.`);
    }
    let session: Session | undefined;
    const jar = new SessionCookieJar(
      this.limits.jar,
      () => {
        if (session) for (const l of this.jarListeners) l(session);
      },
      (evicted, limits) => {
        if (session) for (const l of this.jarLimitListeners) l(session, evicted, limits);
      },
    );
    session = new Session(newSessionId(), url, this.limits.idleTimeoutMs, jar);
    this.sessions.set(session.id, session);
    for (const role of ['host', 'controller', 'observer'] as const) {
      this.invites.set(session.invites[role], { sessionId: session.id, role });
    }
    return session;
  }

  /** The live session with this id, if any. */
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Every live session. */
  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** The live session and role an invite token grants, if any. */
  invite(token: string): { session: Session; role: Role } | null {
    const invite = this.invites.get(token);
    const session = invite && this.sessions.get(invite.sessionId);
    return invite && session ? { session, role: invite.role } : null;
  }

  /** Adds a participant through an invite token; throws when the invite is unknown or the session full. */
  join(inviteToken: string): { session: Session; participant: Participant } {
    const invite = this.invites.get(inviteToken);
    const session = invite && this.sessions.get(invite.sessionId);
    if (!invite || !session) {
      throw new GatewayError('SESSION_NOT_FOUND', 404, 'This join link is not valid, or its session has ended.');
    }
    if (session.participants.size >= this.limits.maxParticipants) {
      throw new GatewayError('PARTICIPANT_LIMIT', 403, `This session already has its maximum of ${this.limits.maxParticipants} participants.`);
    }
    const n = session.participants.size + 1;
    const participant: Participant = {
      id: newParticipantId(),
      name: invite.role === 'host' ? 'Host' : `Guest ${n}`,
      role: invite.role,
      token: newSecret(),
      joinedAt: Date.now(),
      connections: 0,
      enteredLabels: new Set(),
      color: COLORS[(n - 1) % COLORS.length] ?? '#1c7ed6',
    };
    session.participants.set(participant.id, participant);
    this.tokens.set(participant.token, { sessionId: session.id, participantId: participant.id });
    session.audit({ event: 'join', participantId: participant.id, role: participant.role });
    session.touch();
    return { session, participant };
  }

  /** The participant a token belongs to, only within the given session. */
  participantByToken(token: string, sessionId: string): { session: Session; participant: Participant } | null {
    const entry = this.tokens.get(token);
    if (!entry || entry.sessionId !== sessionId) return null;
    const session = this.sessions.get(entry.sessionId);
    const participant = session?.participants.get(entry.participantId);
    return session && participant ? { session, participant } : null;
  }

  /** A one-time ticket that lets `participant` set its cookie on the proxied host `label`. */
  issueTicket(session: Session, participant: Participant, label: string): string {
    const ticket = newSecret();
    this.tickets.set(ticket, { sessionId: session.id, participantId: participant.id, label, expires: Date.now() + this.limits.ticketTtlMs });
    return ticket;
  }

  /** Redeems a ticket for the host it was issued for; each ticket works once. */
  redeemTicket(ticket: string, sessionId: string, label: string): { session: Session; participant: Participant } | null {
    const entry = this.tickets.get(ticket);
    if (!entry) return null;
    this.tickets.delete(ticket);
    if (entry.expires < Date.now() || entry.sessionId !== sessionId || entry.label !== label) return null;
    const session = this.sessions.get(sessionId);
    const participant = session?.participants.get(entry.participantId);
    return session && participant ? { session, participant } : null;
  }

  /** Ends a session: forgets its invites, tokens and tickets, clears its jar, tells listeners. */
  end(id: string, reason: string): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    session.ended = true;
    this.sessions.delete(id);
    for (const token of Object.values(session.invites)) this.invites.delete(token);
    for (const p of session.participants.values()) this.tokens.delete(p.token);
    for (const [t, entry] of this.tickets) if (entry.sessionId === id) this.tickets.delete(t);
    void session.jar.clear();
    for (const listener of this.endListeners) listener(session, reason);
    return true;
  }

  /** Ends sessions idle past their timeout and drops expired tickets; returns how many ended. */
  sweep(now = Date.now()): number {
    let ended = 0;
    for (const session of [...this.sessions.values()]) {
      const live = [...session.participants.values()].some((p) => p.connections > 0);
      if (live) session.touch();
      else if (session.expiresAt <= now && this.end(session.id, 'The session ended after being idle.')) ended++;
    }
    for (const [t, entry] of this.tickets) if (entry.expires < now) this.tickets.delete(t);
    return ended;
  }
}
