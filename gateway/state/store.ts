// Where session state lives: one interface, two back ends. The embedded one keeps everything in
// this process; the Redis one shares it between gateway nodes (gateway/state/redis-store.ts).
// Every node keeps replicas of the sessions it serves (gateway/session.ts) and hears of changes
// made elsewhere through the bus.

import type { Store } from 'tough-cookie';
import type { Mutation, Role, SerializedNode, Viewport } from '../../protocol/messages.js';

/** What never changes in a session after it is created (but its invites, which the host may replace, and whether its host link was opened). */
export interface SessionRecord {
  id: string;
  startUrl: string;
  createdAt: number;
  adminToken: string;
  invites: Record<Role, string>;
  idleTimeoutMs: number;
  /**
   * Who opened the current host link (it opens once): the participant id, `''` while nobody has.
   * Absent in sessions stored before host links opened once: such a link counts as opened when
   * the session has a host participant (see `hostLinkOpened`). Written only by the store, in the
   * step that admits the host (`addParticipant`) or replaces the link (`rotateHostInvite`).
   */
  hostLinkOpenedBy?: string;
}

/** Whether a session's current host link was opened (a record without `hostLinkOpenedBy`: whether it has a host). */
export function hostLinkOpened(hostLinkOpenedBy: string | undefined, participants: Iterable<{ role: Role }>): boolean {
  if (hostLinkOpenedBy !== undefined) return hostLinkOpenedBy !== '';
  for (const p of participants) if (p.role === 'host') return true;
  return false;
}

/** One participant as stored (its open connections are counted apart, per node). */
export interface ParticipantRecord {
  id: string;
  name: string;
  role: Role;
  token: string;
  joinedAt: number;
  color: string;
  /** Origin labels whose proxied host holds this participant's cookie. */
  enteredLabels: string[];
}

/** The parts of a session that change, each written on its own so that nodes never overwrite each other's changes. */
export interface SessionFields {
  currentUrl: string;
  controlHolder: string | null;
  lastActivity: number;
  userAgent: string | null;
  acceptLanguage: string | null;
  /** The connection that runs the host's live page (`<node>/<n>`), or null. */
  live: string | null;
}

/** Everything a node needs to build its replica of a session. */
export interface SessionState {
  record: SessionRecord;
  fields: SessionFields;
  participants: ParticipantRecord[];
  /** (label, origin) pairs of the session's origin table. */
  origins: [string, string][];
  /** Open connections per participant id on the other live nodes (the loading node counts its own). */
  connections: Record<string, number>;
  /** Ids of participants the host removed (never back, whatever a late write of a node says). */
  removed?: string[];
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
  event: 'join' | 'leave' | 'control' | 'navigate' | 'blocked' | 'handoff' | 'end' | 'remove' | 'invites';
  participantId?: string;
  role?: Role;
  detail?: string;
}

/** A one-time ticket that lets a participant set its cookie on one proxied host. */
export interface TicketData {
  sessionId: string;
  participantId: string;
  label: string;
}

/** A session's replayable stream as stored: the latest snapshot and the encoded batches after it. */
export interface CheckpointData {
  /** The encoded snapshot message, or null before the first one. */
  snapshot: string | null;
  snapSeq: number;
  lastSeq: number;
  /** Encoded mutation messages with seq snapSeq+1 .. lastSeq, in order. */
  tail: string[];
}

/** The host's snapshot as the hub received it (the store stamps the seq). */
export interface SnapshotInput {
  url: string;
  title: string;
  viewport: Viewport;
  tree: SerializedNode;
}

/** What recording a mutation batch gave. */
export interface RecordedMutations {
  seq: number;
  /** The tail has grown past its limits: the host should send a fresh snapshot. */
  wantsSnapshot: boolean;
}

/** Limits the store keeps a session's tail to before it asks for a snapshot. */
export interface TailLimits {
  maxTailBatches: number;
  maxTailBytes: number;
}

/** The state back end. Every method may fail (Redis unreachable): callers turn that into a clear error. */
export interface StateStore {
  /** `memory` (this process only) or `redis` (shared by every node). */
  readonly kind: 'memory' | 'redis';
  /** Creates a session; false when `maxSessions` sessions already exist. */
  createSession(state: SessionState, maxSessions: number): Promise<boolean>;
  loadSession(id: string): Promise<SessionState | null>;
  /** The session and role an invite token grants. */
  inviteOf(token: string): Promise<{ sessionId: string; role: Role } | null>;
  /** The session and participant a participant token belongs to; `removed` when the host removed that participant. */
  participantOf(token: string): Promise<{ sessionId: string; participantId: string; removed?: true } | null>;
  /** Replaces the controller and observer invites (the old ones stop at once); false when the session is gone. */
  rotateInvites(sessionId: string, invites: { controller: string; observer: string }): Promise<boolean>;
  /** Replaces the host invite (the old one stops at once) with one nobody opened yet; false when the session is gone. */
  rotateHostInvite(sessionId: string, host: string): Promise<boolean>;
  /** Removes a participant: its token stops, its record and connection counts go; false when it (or the session) is unknown. */
  removeParticipant(sessionId: string, participantId: string): Promise<boolean>;
  /**
   * Adds a participant admitted by `invite` unless the session is full or gone, checked in one
   * step with the write: `gone` too when `invite` is no longer the session's invite for the
   * participant's role (the host replaced the links after the lookup), so no old link gets in.
   * A host link opens once: `used` when it was opened already (by anyone); otherwise the same step
   * marks it opened by this participant, so of two joins at once exactly one becomes the host.
   */
  addParticipant(sessionId: string, participant: ParticipantRecord, maxParticipants: number, invite: string): Promise<'ok' | 'full' | 'gone' | 'used'>;
  saveParticipant(sessionId: string, participant: ParticipantRecord): Promise<void>;
  saveFields(sessionId: string, fields: Partial<SessionFields>): Promise<void>;
  /** Clears `live` only while it still names `connection`; true when it did. */
  releaseLive(sessionId: string, connection: string): Promise<boolean>;
  addOrigin(sessionId: string, label: string, origin: string): Promise<void>;
  /** Records activity: the session expires `idleTimeoutMs` after `at`. */
  touch(sessionId: string, at: number, idleTimeoutMs: number): Promise<void>;
  /** This node's count of open connections of one participant. */
  setConnections(sessionId: string, participantId: string, count: number): Promise<void>;
  issueTicket(ticket: string, data: TicketData, ttlMs: number): Promise<void>;
  /** Takes a ticket (each works once). */
  redeemTicket(ticket: string): Promise<TicketData | null>;
  appendChat(sessionId: string, entry: ChatEntry, max: number): Promise<void>;
  readChat(sessionId: string): Promise<ChatEntry[]>;
  appendAudit(sessionId: string, entry: AuditEntry, max: number): Promise<void>;
  readAudit(sessionId: string): Promise<AuditEntry[]>;
  /** The tough-cookie Store that holds the session's jar. */
  cookieStore(sessionId: string): Store;
  /** Stamps the next seq on a snapshot, makes it the checkpoint (the tail restarts) and fans it out on the bus. */
  recordSnapshot(sessionId: string, snapshot: SnapshotInput): Promise<number>;
  /** Stamps the next seq on a batch, appends it to the tail and fans it out; null (not recorded) when there is no snapshot yet or the tail is far past its limits. */
  recordMutations(sessionId: string, batch: Mutation[]): Promise<RecordedMutations | null>;
  readCheckpoint(sessionId: string): Promise<CheckpointData>;
  /** Deletes the session; true only for the one caller that removed it. */
  endSession(sessionId: string): Promise<boolean>;
  /** Sessions whose idle expiry has passed. */
  expiredSessions(now: number): Promise<string[]>;
  sessionCount(): Promise<number>;
  /** Null when the back end answers, or what is wrong with it. */
  health(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Messages between nodes. On a session's channel: sequenced hub messages (`S<seq>\n<encoded>`)
 * and addressed ones (`T<target>\n<encoded>`, see hub-fanout.ts). On the event channel: session
 * changes and ends.
 */
export interface SessionBus {
  /** This node's id, unique per process start. */
  readonly nodeId: string;
  /** Sends `message` to every node subscribed to the session, this one included. */
  publish(sessionId: string, message: string): Promise<void>;
  /** Starts receiving a session's channel; resolves once the subscription is in place. */
  subscribe(sessionId: string, handler: (message: string) => void): Promise<void>;
  unsubscribe(sessionId: string): Promise<void>;
  /** Tells every node (this one included) of an event. */
  publishEvent(event: BusEvent): Promise<void>;
  onEvent(handler: (event: BusEvent) => void): void;
  /** Called after the bus lost its subscriptions and got them back: messages may have been missed. */
  onResubscribed(handler: () => void): void;
}

/** A cluster-wide event. */
export type BusEvent =
  | { kind: 'changed'; sessionId: string; node: string }
  | { kind: 'ended'; sessionId: string; reason: string; node: string }
  /** The host removed a participant: every node drops it from its replica and closes its sockets at once. */
  | { kind: 'removed'; sessionId: string; participantId: string; reason: string; node: string };

/** A back end: the store and the bus that go together. */
export interface StateBackend {
  store: StateStore;
  bus: SessionBus;
}
