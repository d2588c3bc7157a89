// The sessions this node serves: replicas loaded from the state store on first use, written
// through to it, reloaded when another node reports a change, and ended everywhere at once.

import { SessionCookieJar } from './cookie-jar.js';
import { GatewayError, stateUnavailable } from './errors.js';
import type { Logger } from './log.js';
import {
  type JarChangeListener,
  type JarLimitListener,
  MAX_AUDIT_ENTRIES,
  MAX_CHAT_ENTRIES,
  type Participant,
  type RegistryLimits,
  type ReplicaListener,
  Session,
  type SessionEndListener,
  type SessionWriter,
} from './session.js';
import { SessionMembers } from './session-members.js';
import type { AuditEntry, ChatEntry, SessionFields, SessionRecord, SessionState, StateBackend } from './state/store.js';
import { newSecret, newSessionId } from './tokens.js';
import { OriginTable } from './url-mapper.js';

/** Every session this node serves; who is in them is `members`. */
export class SessionRegistry implements SessionWriter {
  private readonly sessions = new Map<string, Session>();
  private readonly loading = new Map<string, Promise<Session | undefined>>();
  private readonly reloads = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly touchedAt = new Map<string, number>();
  /** Sessions whose reload overlapped a write of this node: read again once the writes are in. */
  private readonly reloadAfterWrites = new Set<string>();
  private readonly endListeners: SessionEndListener[] = [];
  private readonly jarListeners: JarChangeListener[] = [];
  private readonly jarLimitListeners: JarLimitListener[] = [];
  private readonly replicaListeners: ReplicaListener[] = [];
  /** Who is in each session: joining by invite, new links, removal, tokens and tickets. */
  readonly members: SessionMembers;

  constructor(
    private readonly limits: RegistryLimits,
    private readonly backend: StateBackend,
    private readonly log: Logger,
  ) {
    this.members = new SessionMembers(this, limits, backend, log);
    backend.bus.onEvent((event) => {
      if (event.node === backend.bus.nodeId) return;
      if (event.kind === 'changed') this.scheduleReload(event.sessionId);
      else if (event.kind === 'ended') this.forget(event.sessionId, event.reason);
      else if (event.kind === 'removed') this.members.removedElsewhere(event.sessionId, event.participantId, event.reason);
    });
    // Changes announced while the bus was away are unknown: every replica is reloaded.
    backend.bus.onResubscribed(() => {
      for (const id of this.sessions.keys()) this.scheduleReload(id);
    });
  }

  /** True when several nodes share the state (Redis). */
  get shared(): boolean {
    return this.backend.store.kind !== 'memory';
  }

  /** This node's id on the bus. */
  get nodeId(): string {
    return this.backend.bus.nodeId;
  }

  /** Sessions this node holds a replica of. */
  get size(): number {
    return this.sessions.size;
  }

  /** Live sessions over every node. */
  count(): Promise<number> {
    return this.backend.store.sessionCount();
  }

  onEnd(listener: SessionEndListener): void {
    this.endListeners.push(listener);
  }

  onJarChange(listener: JarChangeListener): void {
    this.jarListeners.push(listener);
  }

  onJarLimit(listener: JarLimitListener): void {
    this.jarLimitListeners.push(listener);
  }

  /** Calls `listener` after a replica took changes another node made. */
  onReplicaChange(listener: ReplicaListener): void {
    this.replicaListeners.push(listener);
  }

  private build(record: SessionRecord, state: SessionState | null): Session {
    let session: Session | undefined;
    const jar = new SessionCookieJar(
      this.limits.jar,
      () => {
        if (session) for (const l of this.jarListeners) l(session);
      },
      (evicted, limits) => {
        if (session) for (const l of this.jarLimitListeners) l(session, evicted, limits);
      },
      this.backend.store.cookieStore(record.id),
    );
    const origins = new OriginTable(this.shared ? 'hashed' : 'sequential', (label, origin) => {
      if (session) this.write(session, () => this.backend.store.addOrigin(record.id, label, origin));
    });
    session = new Session(record, jar, this, origins);
    if (state) session.applyState(state);
    return session;
  }

  /** Creates a session starting at `url` (already checked against the allowlist). */
  async create(url: URL): Promise<Session> {
    const now = Date.now();
    const record: SessionRecord = {
      id: newSessionId(),
      startUrl: url.href,
      createdAt: now,
      adminToken: newSecret(),
      invites: { host: newSecret(), controller: newSecret(), observer: newSecret() },
      idleTimeoutMs: this.limits.idleTimeoutMs,
      hostLinkOpenedBy: '',
    };
    const probe = new OriginTable(this.shared ? 'hashed' : 'sequential');
    const label = probe.labelFor(url.origin) ?? '';
    const state: SessionState = {
      record,
      fields: { currentUrl: url.href, controlHolder: null, lastActivity: now, userAgent: null, acceptLanguage: null, live: null },
      participants: [],
      origins: [[label, url.origin]],
      connections: {},
    };
    let created: boolean;
    try {
      created = await this.backend.store.createSession(state, this.limits.maxSessions);
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (!created) {
      throw new GatewayError('SESSION_LIMIT', 503, `This gateway already runs its maximum of ${this.limits.maxSessions} sessions.`);
    }
    const session = this.build(record, state);
    this.sessions.set(record.id, session);
    return session;
  }

  /** The replica of a session this node already holds, if any. */
  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Every session this node holds. */
  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** The session with this id, loaded from the store when this node has no replica yet. */
  async load(id: string): Promise<Session | undefined> {
    const known = this.sessions.get(id);
    if (known) return known;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = (async () => {
        try {
          const state = await this.backend.store.loadSession(id);
          if (!state) return undefined;
          const session = this.sessions.get(id) ?? this.build(state.record, state);
          this.sessions.set(id, session);
          return session;
        } catch (err) {
          throw stateUnavailable(err);
        } finally {
          this.loading.delete(id);
        }
      })();
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Reloads a replica from the store now (another node changed it, or a lookup missed). */
  async refresh(session: Session): Promise<void> {
    if (!this.shared || session.ended) return;
    const epoch = session.writeEpoch;
    let state: SessionState | null;
    try {
      state = await this.backend.store.loadSession(session.id);
    } catch (err) {
      throw stateUnavailable(err);
    }
    if (!state) {
      this.forget(session.id, 'The session has ended.');
      return;
    }
    if (session.writesInFlight > 0 || session.writeEpoch !== epoch) {
      // The read may predate a write of ours: take only what cannot undo it, and read again once our writes are in.
      session.applyState(state, true);
      this.reloadAfterWrites.add(session.id);
      if (session.writesInFlight === 0) this.settled(session);
      return;
    }
    session.applyState(state);
    for (const l of this.replicaListeners) l(session);
  }

  private scheduleReload(id: string): void {
    const session = this.sessions.get(id);
    if (!session || this.reloads.has(id)) return;
    // Changes come in bursts (a join writes the participant, its connection, the roster): one reload for all.
    const timer = setTimeout(() => {
      this.reloads.delete(id);
      this.refresh(session).catch((err: unknown) => this.log.warn('session reload failed', { sessionId: id, error: (err as Error).message }));
    }, 5);
    this.reloads.set(id, timer);
  }

  /** The origin a label stands for in the session, reloading the replica once when another node may have added it. */
  async originOf(session: Session, label: string): Promise<string | undefined> {
    const known = session.origins.originOf(label);
    if (known || !this.shared) return known;
    await this.refresh(session);
    return session.origins.originOf(label);
  }

  /** Counts one connection of a participant on this node opening (+1) or closing (-1); 0 writes the count again. */
  connectionChanged(session: Session, participant: Participant, delta: 1 | 0 | -1): void {
    participant.localConnections = Math.max(0, participant.localConnections + delta);
    const count = participant.localConnections;
    this.write(session, () => this.backend.store.setConnections(session.id, participant.id, count));
  }

  /** Adds a chat message; resolves once it is stored (only then is it shown to anyone). */
  async addChat(session: Session, entry: ChatEntry): Promise<void> {
    try {
      await this.backend.store.appendChat(session.id, entry, MAX_CHAT_ENTRIES);
    } catch (err) {
      throw stateUnavailable(err);
    }
  }

  /** The session's chat history, oldest first. */
  chatOf(session: Session): Promise<ChatEntry[]> {
    return this.backend.store.readChat(session.id);
  }

  /** The session's audit log, oldest first. */
  async auditOf(session: Session): Promise<AuditEntry[]> {
    try {
      return await this.backend.store.readAudit(session.id);
    } catch (err) {
      throw stateUnavailable(err);
    }
  }

  /** Ends a session on every node: forgets it, clears its jar, tells listeners. */
  async end(id: string, reason: string): Promise<boolean> {
    const session = this.sessions.get(id);
    let removed: boolean;
    try {
      removed = await this.backend.store.endSession(id);
    } catch (err) {
      throw stateUnavailable(err);
    }
    this.forget(id, reason);
    if (removed) await this.backend.bus.publishEvent({ kind: 'ended', sessionId: id, reason, node: this.nodeId }).catch(() => {});
    return removed || session !== undefined;
  }

  /** Drops this node's replica of an ended session and tells the listeners. */
  private forget(id: string, reason: string): void {
    const session = this.sessions.get(id);
    if (!session || session.ended) return;
    session.ended = true;
    this.sessions.delete(id);
    this.touchedAt.delete(id);
    this.reloadAfterWrites.delete(id);
    const reload = this.reloads.get(id);
    if (reload) clearTimeout(reload);
    this.reloads.delete(id);
    for (const listener of this.endListeners) listener(session, reason);
  }

  /** Ends sessions idle past their timeout (anywhere: a session with a connection on any node is kept); returns how many ended. */
  async sweep(now = Date.now()): Promise<number> {
    let ended = 0;
    for (const id of await this.backend.store.expiredSessions(now)) {
      try {
        if (await this.sweepOne(id, now)) ended++;
      } catch (err) {
        this.log.warn('idle check of a session failed', { sessionId: id, error: (err as Error).message });
      }
    }
    // Replicas of sessions other nodes serve stay current even when a change notice was missed.
    if (this.shared) for (const session of this.sessions.values()) this.scheduleReload(session.id);
    return ended;
  }

  /** Ends one session past its idle expiry unless someone is connected to it on some node; true when it ended. */
  private async sweepOne(id: string, now: number): Promise<boolean> {
    const state = await this.backend.store.loadSession(id);
    const known = this.sessions.get(id);
    const localLive = known ? [...known.participants.values()].some((p) => p.localConnections > 0) : false;
    const remoteLive = state ? Object.values(state.connections).some((n) => n > 0) : false;
    if (state && (localLive || remoteLive)) {
      await this.backend.store.touch(id, now, state.record.idleTimeoutMs);
      return false;
    }
    return this.end(id, 'The session ended after being idle.');
  }

  // SessionWriter: how replicas write their changes.

  saveFields(session: Session, fields: Partial<SessionFields>): void {
    this.write(session, () => this.backend.store.saveFields(session.id, fields));
  }

  saveParticipant(session: Session, participant: Participant): void {
    this.write(session, () => this.backend.store.saveParticipant(session.id, participant.toRecord()));
  }

  audit(session: Session, entry: AuditEntry): void {
    this.backend.store
      .appendAudit(session.id, entry, MAX_AUDIT_ENTRIES)
      .catch((err: unknown) => this.log.warn('audit entry not stored', { sessionId: session.id, event: entry.event, error: (err as Error).message }));
  }

  touch(session: Session): void {
    // Shared stores are told at most every few seconds per session and node; the embedded one every time.
    const every = this.shared ? Math.min(5000, session.idleTimeoutMs / 4) : 0;
    const last = this.touchedAt.get(session.id) ?? 0;
    if (session.lastActivity - last < every) return;
    this.touchedAt.set(session.id, session.lastActivity);
    this.backend.store
      .touch(session.id, session.lastActivity, session.idleTimeoutMs)
      .catch((err: unknown) => this.log.warn('session activity not stored', { sessionId: session.id, error: (err as Error).message }));
  }

  /** Writes a change, then tells the other nodes to reload; a failed write is logged with the session. */
  private write(session: Session, change: () => Promise<void>): void {
    session.writeEpoch++;
    session.writesInFlight++;
    change()
      .then(() => this.announce(session))
      .catch((err: unknown) => this.log.warn('session change not stored', { sessionId: session.id, error: (err as Error).message }))
      .finally(() => {
        session.writesInFlight--;
        if (session.writesInFlight === 0) this.settled(session);
      });
  }

  /** Every write of a replica is in: a reload that was held back for them runs now. */
  private settled(session: Session): void {
    if (this.reloadAfterWrites.delete(session.id)) this.scheduleReload(session.id);
  }

  /** Tells the other nodes to reload their replica of `session`. */
  announce(session: Session): void {
    if (!this.shared) return;
    this.backend.bus
      .publishEvent({ kind: 'changed', sessionId: session.id, node: this.nodeId })
      .catch((err: unknown) => this.log.warn('session change not announced', { sessionId: session.id, error: (err as Error).message }));
  }
}
