// Sessions as this node sees them: a replica of each session it serves, built from the state
// store and kept current by the bus. Changes are made on the replica at once and written to the
// store; other nodes reload their replica when told.

import type { Role } from '../protocol/messages.js';
import { Checkpoint } from './checkpoint.js';
import type { JarLimits, SessionCookieJar } from './cookie-jar.js';
import { type AuditEntry, hostLinkOpened, type ParticipantRecord, type SessionFields, type SessionRecord, type SessionState } from './state/store.js';
import type { OriginTable } from './url-mapper.js';

export type { AuditEntry, ChatEntry } from './state/store.js';

/** One person in a session (one browser profile that used a join link). */
export class Participant {
  /** Open WebSocket connections of this participant on this node. */
  localConnections = 0;
  /** Open connections on the other live nodes, as last loaded. */
  remoteConnections = 0;

  constructor(
    readonly id: string,
    public name: string,
    public role: Role,
    /** Secret carried in the participant's host-only cookie; never sent upstream. */
    readonly token: string,
    readonly joinedAt: number,
    /** Color of the participant's cursor and name. */
    public color: string,
    /** Origin labels whose proxied host holds this participant's cookie. */
    readonly enteredLabels: Set<string> = new Set(),
  ) {}

  static fromRecord(r: ParticipantRecord): Participant {
    return new Participant(r.id, r.name, r.role, r.token, r.joinedAt, r.color, new Set(r.enteredLabels));
  }

  /** Open connections over every node. */
  get connections(): number {
    return this.localConnections + this.remoteConnections;
  }

  toRecord(): ParticipantRecord {
    return {
      id: this.id,
      name: this.name,
      role: this.role,
      token: this.token,
      joinedAt: this.joinedAt,
      color: this.color,
      enteredLabels: [...this.enteredLabels],
    };
  }
}

/** How a session's replica writes its changes (the registry). */
export interface SessionWriter {
  saveFields(session: Session, fields: Partial<SessionFields>): void;
  saveParticipant(session: Session, participant: Participant): void;
  audit(session: Session, entry: AuditEntry): void;
  touch(session: Session): void;
}

/** A cobrowsing session as this node knows it: who is in it, which origins it reaches, its cookies and live state. */
export class Session {
  readonly id: string;
  readonly startUrl: URL;
  readonly createdAt: number;
  readonly adminToken: string;
  /** The join links' secrets; they change when the host asks for new links (or a new host link). */
  invites: Record<Role, string>;
  /** Who opened the current host link (it opens once), `''` for nobody, undefined in a session stored before that was kept (see SessionRecord). */
  hostLinkOpenedBy: string | undefined;
  readonly idleTimeoutMs: number;
  readonly origins: OriginTable;
  readonly participants = new Map<string, Participant>();
  /** Ids of participants the host removed: they never come back into this replica. */
  readonly removed = new Set<string>();
  /** This node's replica of the session's stream (snapshot + tail), fed by the hub in seq order. */
  readonly checkpoint = new Checkpoint();
  /** The host's User-Agent and Accept-Language: every participant's requests go upstream with them. */
  upstreamIdentity: { userAgent?: string; acceptLanguage?: string } = {};
  lastActivity: number;
  /** Real URL of the host's page, as last reported. */
  currentUrl: string;
  /** Participant (not the host) who holds control under the request policy, or who took it last. */
  controlHolder: string | null = null;
  /** The connection (`<node>/<n>`) that runs the host's live page, or null. */
  live: string | null = null;
  ended = false;

  constructor(
    record: SessionRecord,
    readonly jar: SessionCookieJar,
    private readonly writer: SessionWriter,
    origins: OriginTable,
  ) {
    this.id = record.id;
    this.startUrl = new URL(record.startUrl);
    this.createdAt = record.createdAt;
    this.adminToken = record.adminToken;
    this.invites = { ...record.invites };
    this.hostLinkOpenedBy = record.hostLinkOpenedBy;
    this.idleTimeoutMs = record.idleTimeoutMs;
    this.origins = origins;
    this.currentUrl = record.startUrl;
    this.lastActivity = record.createdAt;
  }

  /** Writes this replica has sent to the store and not heard back from. */
  writesInFlight = 0;
  /** Counts the writes this replica started (a reload that overlapped one may hold older values). */
  writeEpoch = 0;

  /**
   * Takes the stored state into this replica, keeping the Participant objects sockets hold. With
   * `additionsOnly`, only what cannot conflict with this node's own writes is taken: new origins,
   * new participants and the other nodes' connection counts.
   */
  applyState(state: SessionState, additionsOnly = false): void {
    for (const [label, origin] of state.origins) this.origins.register(label, origin);
    // A removal never conflicts with anything: it is taken in either mode.
    for (const id of state.removed ?? []) this.dropParticipant(id);
    for (const p of this.participants.values()) p.remoteConnections = state.connections[p.id] ?? 0;
    for (const r of state.participants) {
      if (this.participants.has(r.id) || this.removed.has(r.id)) continue;
      const added = Participant.fromRecord(r);
      added.remoteConnections = state.connections[r.id] ?? 0;
      this.participants.set(r.id, added);
    }
    if (additionsOnly) return;
    this.invites = { ...state.record.invites };
    this.hostLinkOpenedBy = state.record.hostLinkOpenedBy;
    const f = state.fields;
    this.currentUrl = f.currentUrl;
    this.controlHolder = f.controlHolder;
    this.lastActivity = Math.max(this.lastActivity, f.lastActivity);
    this.live = f.live;
    this.upstreamIdentity = { ...(f.userAgent ? { userAgent: f.userAgent } : {}), ...(f.acceptLanguage ? { acceptLanguage: f.acceptLanguage } : {}) };
    for (const r of state.participants) {
      const known = this.participants.get(r.id);
      if (!known) continue;
      known.name = r.name;
      known.role = r.role;
      known.color = r.color;
      for (const label of r.enteredLabels) known.enteredLabels.add(label);
    }
  }

  /** Takes a removed participant out of this replica (for good); the participant it was, if it was here. */
  dropParticipant(id: string): Participant | undefined {
    this.removed.add(id);
    const known = this.participants.get(id);
    this.participants.delete(id);
    if (this.controlHolder === id) this.controlHolder = null;
    return known;
  }

  /** Changes fields of the session and writes them. */
  set(fields: Partial<Pick<Session, 'currentUrl' | 'controlHolder' | 'live'>>): void {
    Object.assign(this, fields);
    this.writer.saveFields(this, fields);
  }

  /** Remembers the host's browser identity for upstream requests. */
  setUpstreamIdentity(userAgent: string | undefined, acceptLanguage: string | undefined): void {
    if (this.upstreamIdentity.userAgent === userAgent && this.upstreamIdentity.acceptLanguage === acceptLanguage) return;
    this.upstreamIdentity = { userAgent, acceptLanguage };
    this.writer.saveFields(this, { userAgent: userAgent ?? null, acceptLanguage: acceptLanguage ?? null });
  }

  /** Writes a participant after its name, role or entered hosts changed. */
  saveParticipant(participant: Participant): void {
    this.writer.saveParticipant(this, participant);
  }

  /** Records an audit event (bounded: the oldest entries go first). */
  audit(entry: Omit<AuditEntry, 'at'>): void {
    this.writer.audit(this, { at: new Date().toISOString(), ...entry });
  }

  /** Marks the session as used now, postponing its idle expiry. */
  touch(): void {
    this.lastActivity = Date.now();
    this.writer.touch(this);
  }

  /** True once the current host link was opened: from then on it only re-enters the participant who opened it. */
  get hostLinkOpened(): boolean {
    return hostLinkOpened(this.hostLinkOpenedBy, this.participants.values());
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
/** Called on every node when the host removed a participant (`reason` is shown to it). */
export type RemovalListener = (session: Session, participant: Participant, reason: string, here: boolean) => void;
/** Called after a replica took changes made on another node. */
export type ReplicaListener = (session: Session) => void;

/** Limits the registry enforces. */
export interface RegistryLimits {
  idleTimeoutMs: number;
  maxSessions: number;
  maxParticipants: number;
  ticketTtlMs: number;
  jar?: JarLimits;
}

/** Most chat messages and audit entries a session keeps. */
export const MAX_CHAT_ENTRIES = 500;
export const MAX_AUDIT_ENTRIES = 2000;
