// The embedded back end: every session's state in this process, and a bus that delivers to this
// process only. Nothing to install; a restart forgets everything.

import type { Store } from 'tough-cookie';
import type { Mutation, Role } from '../../protocol/messages.js';
import { Checkpoint } from '../checkpoint.js';
import { CountingMemoryStore } from '../cookie-jar.js';
import { newNodeId } from '../tokens.js';
import {
  type AuditEntry,
  type BusEvent,
  type ChatEntry,
  type CheckpointData,
  hostLinkOpened,
  type ParticipantRecord,
  type RecordedMutations,
  type SessionBus,
  type SessionFields,
  type SessionState,
  type SnapshotInput,
  type StateBackend,
  type StateStore,
  type TailLimits,
  type TicketData,
} from './store.js';

interface StoredSession {
  state: SessionState;
  expiresAt: number;
  chat: ChatEntry[];
  audit: AuditEntry[];
  cookies: Store;
  checkpoint: Checkpoint;
}

/** The in-process bus: publish calls the handlers of this process, in order, before it resolves. */
class MemoryBus implements SessionBus {
  readonly nodeId = newNodeId();
  private readonly handlers = new Map<string, (message: string) => void>();
  private readonly eventHandlers: ((event: BusEvent) => void)[] = [];

  async publish(sessionId: string, message: string): Promise<void> {
    this.handlers.get(sessionId)?.(message);
  }

  async subscribe(sessionId: string, handler: (message: string) => void): Promise<void> {
    this.handlers.set(sessionId, handler);
  }

  async unsubscribe(sessionId: string): Promise<void> {
    this.handlers.delete(sessionId);
  }

  async publishEvent(event: BusEvent): Promise<void> {
    for (const handler of this.eventHandlers) handler(event);
  }

  onEvent(handler: (event: BusEvent) => void): void {
    this.eventHandlers.push(handler);
  }

  onResubscribed(): void {
    // An in-process bus never loses its subscriptions.
  }
}

class MemoryStore implements StateStore {
  readonly kind = 'memory';
  private readonly sessions = new Map<string, StoredSession>();
  private readonly invites = new Map<string, { sessionId: string; role: Role }>();
  private readonly tokens = new Map<string, { sessionId: string; participantId: string; removed?: true }>();
  private readonly tickets = new Map<string, TicketData & { expires: number }>();

  constructor(
    private readonly bus: MemoryBus,
    private readonly tailLimits: TailLimits | undefined,
  ) {}

  async createSession(state: SessionState, maxSessions: number): Promise<boolean> {
    if (this.sessions.size >= maxSessions) return false;
    const { record } = state;
    this.sessions.set(record.id, {
      state: structuredClone(state),
      expiresAt: state.fields.lastActivity + record.idleTimeoutMs,
      chat: [],
      audit: [],
      cookies: new CountingMemoryStore(),
      checkpoint: new Checkpoint(this.tailLimits),
    });
    for (const role of ['host', 'controller', 'observer'] as const) this.invites.set(record.invites[role], { sessionId: record.id, role });
    return true;
  }

  async loadSession(id: string): Promise<SessionState | null> {
    const stored = this.sessions.get(id);
    return stored ? structuredClone(stored.state) : null;
  }

  async inviteOf(token: string) {
    const invite = this.invites.get(token);
    return invite && this.sessions.has(invite.sessionId) ? invite : null;
  }

  async participantOf(token: string) {
    return this.tokens.get(token) ?? null;
  }

  async rotateInvites(sessionId: string, invites: { controller: string; observer: string }): Promise<boolean> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return false;
    const current = stored.state.record.invites;
    for (const role of ['controller', 'observer'] as const) {
      this.invites.delete(current[role]);
      this.invites.set(invites[role], { sessionId, role });
    }
    stored.state.record.invites = { ...current, ...invites };
    return true;
  }

  async rotateHostInvite(sessionId: string, host: string): Promise<boolean> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return false;
    const { record } = stored.state;
    this.invites.delete(record.invites.host);
    this.invites.set(host, { sessionId, role: 'host' });
    record.invites = { ...record.invites, host };
    record.hostLinkOpenedBy = '';
    return true;
  }

  async removeParticipant(sessionId: string, participantId: string): Promise<boolean> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return false;
    const i = stored.state.participants.findIndex((p) => p.id === participantId);
    const removed = stored.state.participants[i];
    if (!removed) return false;
    stored.state.participants.splice(i, 1);
    // Kept, marked: a join link opened again with this cookie is refused, not taken as a new guest.
    this.tokens.set(removed.token, { sessionId, participantId, removed: true });
    delete stored.state.connections[participantId];
    (stored.state.removed ??= []).push(participantId);
    return true;
  }

  async addParticipant(sessionId: string, participant: ParticipantRecord, maxParticipants: number, invite: string): Promise<'ok' | 'full' | 'gone' | 'used'> {
    const stored = this.sessions.get(sessionId);
    // A link replaced since it was looked up admits nobody.
    if (!stored || stored.state.record.invites[participant.role] !== invite) return 'gone';
    const { record } = stored.state;
    // A host link opens once; checked and marked with no await in between, so one of two joins at once wins.
    if (participant.role === 'host' && hostLinkOpened(record.hostLinkOpenedBy, stored.state.participants)) return 'used';
    if (stored.state.participants.length >= maxParticipants) return 'full';
    if (participant.role === 'host') record.hostLinkOpenedBy = participant.id;
    stored.state.participants.push(structuredClone(participant));
    this.tokens.set(participant.token, { sessionId, participantId: participant.id });
    return 'ok';
  }

  async saveParticipant(sessionId: string, participant: ParticipantRecord): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (!stored || stored.state.removed?.includes(participant.id)) return;
    const i = stored.state.participants.findIndex((p) => p.id === participant.id);
    if (i >= 0) stored.state.participants[i] = structuredClone(participant);
  }

  async saveFields(sessionId: string, fields: Partial<SessionFields>): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (stored) Object.assign(stored.state.fields, fields);
  }

  async releaseLive(sessionId: string, connection: string): Promise<boolean> {
    const stored = this.sessions.get(sessionId);
    if (!stored || stored.state.fields.live !== connection) return false;
    stored.state.fields.live = null;
    return true;
  }

  async addOrigin(sessionId: string, label: string, origin: string): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (stored && !stored.state.origins.some(([l]) => l === label)) stored.state.origins.push([label, origin]);
  }

  async touch(sessionId: string, at: number, idleTimeoutMs: number): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return;
    stored.state.fields.lastActivity = at;
    stored.expiresAt = at + idleTimeoutMs;
  }

  async setConnections(sessionId: string, participantId: string, count: number): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (!stored || stored.state.removed?.includes(participantId)) return;
    if (count > 0) stored.state.connections[participantId] = count;
    else delete stored.state.connections[participantId];
  }

  async issueTicket(ticket: string, data: TicketData, ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const [t, entry] of this.tickets) if (entry.expires < now) this.tickets.delete(t);
    this.tickets.set(ticket, { ...data, expires: now + ttlMs });
  }

  async redeemTicket(ticket: string): Promise<TicketData | null> {
    const entry = this.tickets.get(ticket);
    if (!entry) return null;
    this.tickets.delete(ticket);
    if (entry.expires < Date.now()) return null;
    return { sessionId: entry.sessionId, participantId: entry.participantId, label: entry.label };
  }

  async appendChat(sessionId: string, entry: ChatEntry, max: number): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return;
    stored.chat.push(entry);
    if (stored.chat.length > max) stored.chat.splice(0, stored.chat.length - max);
  }

  async readChat(sessionId: string): Promise<ChatEntry[]> {
    return [...(this.sessions.get(sessionId)?.chat ?? [])];
  }

  async appendAudit(sessionId: string, entry: AuditEntry, max: number): Promise<void> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return;
    stored.audit.push(entry);
    if (stored.audit.length > max) stored.audit.splice(0, stored.audit.length - max);
  }

  async readAudit(sessionId: string): Promise<AuditEntry[]> {
    return [...(this.sessions.get(sessionId)?.audit ?? [])];
  }

  cookieStore(sessionId: string): Store {
    return this.sessions.get(sessionId)?.cookies ?? new CountingMemoryStore();
  }

  async recordSnapshot(sessionId: string, snapshot: SnapshotInput): Promise<number> {
    const stored = this.mustGet(sessionId);
    const encoded = stored.checkpoint.recordSnapshot(snapshot.url, snapshot.title, snapshot.viewport, snapshot.tree);
    const seq = stored.checkpoint.lastSeq;
    await this.bus.publish(sessionId, `S${seq}\n${encoded}`);
    return seq;
  }

  async recordMutations(sessionId: string, batch: Mutation[]): Promise<RecordedMutations | null> {
    const stored = this.mustGet(sessionId);
    const encoded = stored.checkpoint.recordMutations(batch);
    if (encoded === null) return null;
    const seq = stored.checkpoint.lastSeq;
    await this.bus.publish(sessionId, `S${seq}\n${encoded}`);
    return { seq, wantsSnapshot: stored.checkpoint.wantsSnapshot };
  }

  async readCheckpoint(sessionId: string): Promise<CheckpointData> {
    return this.sessions.get(sessionId)?.checkpoint.data() ?? { snapshot: null, snapSeq: 0, lastSeq: 0, tail: [] };
  }

  async endSession(sessionId: string): Promise<boolean> {
    const stored = this.sessions.get(sessionId);
    if (!stored) return false;
    this.sessions.delete(sessionId);
    for (const token of Object.values(stored.state.record.invites)) this.invites.delete(token);
    for (const p of stored.state.participants) this.tokens.delete(p.token);
    for (const [token, owner] of this.tokens) if (owner.sessionId === sessionId) this.tokens.delete(token);
    for (const [t, entry] of this.tickets) if (entry.sessionId === sessionId) this.tickets.delete(t);
    await stored.cookies.removeAllCookies();
    return true;
  }

  async expiredSessions(now: number): Promise<string[]> {
    return [...this.sessions].filter(([, s]) => s.expiresAt <= now).map(([id]) => id);
  }

  async sessionCount(): Promise<number> {
    return this.sessions.size;
  }

  async health(): Promise<string | null> {
    return null;
  }

  async close(): Promise<void> {}

  private mustGet(sessionId: string): StoredSession {
    const stored = this.sessions.get(sessionId);
    if (!stored) throw new Error(`session ${sessionId} is not stored`);
    return stored;
  }
}

/** The embedded back end (the default when no Redis is configured). */
export function memoryBackend(tailLimits?: TailLimits): StateBackend {
  const bus = new MemoryBus();
  return { store: new MemoryStore(bus, tailLimits), bus };
}
