// The shared back end: session state in Redis, so that several gateway nodes behind a load
// balancer serve one session and a node's restart loses nothing. Keys carry the session's
// expiry. Sequence numbers are stamped in Redis (one Lua script records and publishes), so every
// node sees one gap-free stream per session.

import type { Redis } from 'ioredis';
import type { Mutation, Role } from '../../protocol/messages.js';
import { RedisCookieStore } from './redis-cookie-store.js';
import { REDIS_SCRIPTS } from './redis-scripts.js';
import type {
  AuditEntry,
  ChatEntry,
  CheckpointData,
  ParticipantRecord,
  RecordedMutations,
  SessionFields,
  SessionRecord,
  SessionState,
  SnapshotInput,
  StateStore,
  TailLimits,
  TicketData,
} from './store.js';

/** How long a node's heartbeat lasts: a node silent for this long counts as gone. */
export const NODE_TTL_MS = 15_000;
/** A tail this many times its limits refuses further batches until a snapshot (a page that ignores the requests cannot fill Redis). */
export const TAIL_HARD_FACTOR = 4;
/** Keys outlive the session's idle timeout by this much (the sweeper normally ends it first). */
const KEY_GRACE_MS = 10 * 60_000;

/** Names of every key and channel, under one prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  sessions = () => `${this.prefix}sessions`;
  session = (id: string) => `${this.prefix}s:{${id}}`;
  part = (id: string, what: 'p' | 'o' | 'c' | 'jar' | 'chat' | 'audit' | 'cp' | 'tail') => `${this.prefix}s:{${id}}:${what}`;
  invite = (token: string) => `${this.prefix}inv:${token}`;
  token = (token: string) => `${this.prefix}tok:${token}`;
  ticket = (ticket: string) => `${this.prefix}tkt:${ticket}`;
  node = (id: string) => `${this.prefix}node:${id}`;
  channel = (id: string) => `${this.prefix}ch:${id}`;
  events = () => `${this.prefix}events`;
  /** The keys of one session that carry its expiry, in the order the Lua scripts expect. */
  sessionKeys(id: string): string[] {
    return [this.session(id), ...(['p', 'o', 'c', 'jar', 'chat', 'audit', 'cp', 'tail'] as const).map((w) => this.part(id, w))];
  }
}

type ScriptName = keyof typeof REDIS_SCRIPTS;
type ScriptRunner = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

const FIELD_NAMES: (keyof SessionFields)[] = ['currentUrl', 'controlHolder', 'lastActivity', 'userAgent', 'acceptLanguage', 'live'];

/** The state store on Redis. `redis` is a connected client (commands); the bus has its own. */
export class RedisStore implements StateStore {
  readonly kind = 'redis';
  private readonly scripts: Record<ScriptName, ScriptRunner>;

  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly tailLimits: TailLimits,
  ) {
    const scripts = {} as Record<ScriptName, ScriptRunner>;
    for (const [name, lua] of Object.entries(REDIS_SCRIPTS) as [ScriptName, string][]) {
      redis.defineCommand(`cobrowse_${name}`, { lua });
      const command = (redis as unknown as Record<string, ScriptRunner>)[`cobrowse_${name}`];
      if (!command) throw new Error(`Redis script ${name} could not be defined`);
      scripts[name] = command.bind(redis);
    }
    this.scripts = scripts;
  }

  private run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.scripts[name](keys.length, ...keys, ...args);
  }

  private ttl(idleTimeoutMs: number): number {
    return idleTimeoutMs + KEY_GRACE_MS;
  }

  /** Tells the others this node is alive (called every few seconds). */
  async heartbeat(): Promise<void> {
    await this.redis.set(this.keys.node(this.nodeId), String(Date.now()), 'PX', NODE_TTL_MS);
  }

  /** Removes this node's heartbeat and connection counts (a graceful stop). */
  async forgetNode(sessionIds: Iterable<string>): Promise<void> {
    const pipeline = this.redis.pipeline();
    const scripted = pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>;
    for (const id of sessionIds) scripted.cobrowse_dropnode?.(1, this.keys.part(id, 'c'), `${this.nodeId}|`);
    pipeline.del(this.keys.node(this.nodeId));
    await pipeline.exec();
  }

  async createSession(state: SessionState, maxSessions: number): Promise<boolean> {
    const { fields } = state;
    // Who opened the host link lives in its own field (hostOpenedBy), which the join script sets.
    const { hostLinkOpenedBy, ...record } = state.record;
    const k = this.keys;
    const ttl = this.ttl(record.idleTimeoutMs);
    const [label, origin] = state.origins[0] ?? ['', ''];
    const created = await this.run(
      'create',
      [
        k.sessions(),
        k.session(record.id),
        k.part(record.id, 'o'),
        k.invite(record.invites.host),
        k.invite(record.invites.controller),
        k.invite(record.invites.observer),
      ],
      [
        maxSessions,
        record.id,
        fields.lastActivity + record.idleTimeoutMs,
        ttl,
        JSON.stringify(record),
        JSON.stringify(fields.currentUrl),
        fields.lastActivity,
        label,
        origin,
        hostLinkOpenedBy === undefined ? '0' : '1',
        hostLinkOpenedBy ?? '',
      ],
    );
    return created === 1;
  }

  async loadSession(id: string): Promise<SessionState | null> {
    const k = this.keys;
    const results = await this.redis.pipeline().hgetall(k.session(id)).hgetall(k.part(id, 'p')).hgetall(k.part(id, 'o')).hgetall(k.part(id, 'c')).exec();
    if (!results) throw new Error('Redis returned no result');
    for (const [err] of results) if (err) throw err;
    const [main, parts, origins, conns] = results.map(([, v]) => v as Record<string, string>) as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    if (!main.record) return null;
    const record = JSON.parse(main.record) as SessionRecord;
    // Absent in a session stored before host links opened once (see SessionRecord).
    if (main.hostOpenedBy !== undefined) record.hostLinkOpenedBy = main.hostOpenedBy;
    const fields: SessionFields = {
      currentUrl: record.startUrl,
      controlHolder: null,
      lastActivity: record.createdAt,
      userAgent: null,
      acceptLanguage: null,
      live: null,
    };
    for (const name of FIELD_NAMES) if (main[name] !== undefined) (fields as unknown as Record<string, unknown>)[name] = JSON.parse(main[name]);
    const removed = main.removed ? (JSON.parse(main.removed) as string[]) : [];
    const participants = Object.values(parts)
      .map((json) => JSON.parse(json) as ParticipantRecord)
      .filter((p) => !removed.includes(p.id))
      .sort((a, b) => a.joinedAt - b.joinedAt);
    const connections = await this.liveConnections(id, conns);
    for (const gone of removed) delete connections[gone];
    if (fields.live && !(await this.nodeAlive(fields.live.split('/')[0] ?? ''))) fields.live = null;
    return { record, fields, participants, origins: Object.entries(origins), connections, removed };
  }

  /** Sums the connection counts of nodes that are still alive, and drops the counts of nodes that are gone. */
  private async liveConnections(sessionId: string, conns: Record<string, string>): Promise<Record<string, number>> {
    const nodes = [...new Set(Object.keys(conns).map((f) => f.split('|')[0] ?? ''))];
    if (nodes.length === 0) return {};
    const beats = await this.redis.mget(...nodes.map((n) => this.keys.node(n)));
    const alive = new Set(nodes.filter((n, i) => beats[i] !== null || n === this.nodeId));
    const out: Record<string, number> = {};
    const dead: string[] = [];
    for (const [field, count] of Object.entries(conns)) {
      const [node, participantId] = field.split('|') as [string, string];
      if (!alive.has(node)) dead.push(field);
      // This node's own connections are counted where they are (Participant.localConnections).
      else if (node !== this.nodeId) out[participantId] = (out[participantId] ?? 0) + Number(count);
    }
    if (dead.length > 0) await this.redis.hdel(this.keys.part(sessionId, 'c'), ...dead);
    return out;
  }

  private async nodeAlive(node: string): Promise<boolean> {
    return node === this.nodeId || (await this.redis.exists(this.keys.node(node))) === 1;
  }

  async inviteOf(token: string): Promise<{ sessionId: string; role: Role } | null> {
    const v = await this.redis.get(this.keys.invite(token));
    if (!v) return null;
    const [sessionId, role] = v.split('|') as [string, Role];
    return { sessionId, role };
  }

  async participantOf(token: string): Promise<{ sessionId: string; participantId: string; removed?: true } | null> {
    const v = await this.redis.get(this.keys.token(token));
    if (!v) return null;
    const [sessionId, participantId, removed] = v.split('|') as [string, string, string | undefined];
    return removed === 'removed' ? { sessionId, participantId, removed: true } : { sessionId, participantId };
  }

  async rotateInvites(sessionId: string, invites: { controller: string; observer: string }): Promise<boolean> {
    return (await this.run('rotate', [this.keys.session(sessionId)], [this.keys.prefix, sessionId, invites.controller, invites.observer])) === 1;
  }

  async rotateHostInvite(sessionId: string, host: string): Promise<boolean> {
    return (await this.run('rotatehost', [this.keys.session(sessionId)], [this.keys.prefix, sessionId, host])) === 1;
  }

  async removeParticipant(sessionId: string, participantId: string): Promise<boolean> {
    const k = this.keys;
    const result = await this.run('remove', [k.session(sessionId), k.part(sessionId, 'p'), k.part(sessionId, 'c')], [participantId, k.prefix, sessionId]);
    return result === 1;
  }

  async addParticipant(sessionId: string, participant: ParticipantRecord, maxParticipants: number, invite: string): Promise<'ok' | 'full' | 'gone' | 'used'> {
    const k = this.keys;
    const result = await this.run(
      'join',
      [k.session(sessionId), k.part(sessionId, 'p'), k.token(participant.token)],
      [participant.id, JSON.stringify(participant), maxParticipants, `${sessionId}|${participant.id}`, participant.role, invite],
    );
    return result as 'ok' | 'full' | 'gone' | 'used';
  }

  async saveParticipant(sessionId: string, participant: ParticipantRecord): Promise<void> {
    await this.run('savepart', [this.keys.session(sessionId), this.keys.part(sessionId, 'p')], [participant.id, JSON.stringify(participant)]);
  }

  async saveFields(sessionId: string, fields: Partial<SessionFields>): Promise<void> {
    const args: string[] = [];
    for (const [name, value] of Object.entries(fields)) args.push(name, JSON.stringify(value ?? null));
    if (args.length === 0) return;
    await this.run('hsetx', [this.keys.session(sessionId), this.keys.session(sessionId)], args);
  }

  async releaseLive(sessionId: string, connection: string): Promise<boolean> {
    return (await this.run('releaselive', [this.keys.session(sessionId)], [JSON.stringify(connection)])) === 1;
  }

  async addOrigin(sessionId: string, label: string, origin: string): Promise<void> {
    await this.run('hsetx', [this.keys.session(sessionId), this.keys.part(sessionId, 'o')], [label, origin]);
  }

  async touch(sessionId: string, at: number, idleTimeoutMs: number): Promise<void> {
    await this.run(
      'touch',
      [...this.keys.sessionKeys(sessionId), this.keys.sessions()],
      [sessionId, at, at + idleTimeoutMs, this.ttl(idleTimeoutMs), this.keys.prefix],
    );
  }

  async setConnections(sessionId: string, participantId: string, count: number): Promise<void> {
    const key = this.keys.part(sessionId, 'c');
    const field = `${this.nodeId}|${participantId}`;
    // Only while the session exists, with its expiry: a socket closing after the end recreates
    // nothing; never for a removed participant (a late count of a node brings nobody back).
    if (count > 0) await this.run('setconn', [this.keys.session(sessionId), key], [participantId, field, String(count)]);
    else await this.redis.hdel(key, field);
  }

  async issueTicket(ticket: string, data: TicketData, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.ticket(ticket), JSON.stringify(data), 'PX', ttlMs);
  }

  async redeemTicket(ticket: string): Promise<TicketData | null> {
    const v = await this.redis.getdel(this.keys.ticket(ticket));
    return v ? (JSON.parse(v) as TicketData) : null;
  }

  async appendChat(sessionId: string, entry: ChatEntry, max: number): Promise<void> {
    await this.run('append', [this.keys.session(sessionId), this.keys.part(sessionId, 'chat')], [JSON.stringify(entry), max]);
  }

  async readChat(sessionId: string): Promise<ChatEntry[]> {
    return (await this.redis.lrange(this.keys.part(sessionId, 'chat'), 0, -1)).map((j) => JSON.parse(j) as ChatEntry);
  }

  async appendAudit(sessionId: string, entry: AuditEntry, max: number): Promise<void> {
    await this.run('append', [this.keys.session(sessionId), this.keys.part(sessionId, 'audit')], [JSON.stringify(entry), max]);
  }

  async readAudit(sessionId: string): Promise<AuditEntry[]> {
    return (await this.redis.lrange(this.keys.part(sessionId, 'audit'), 0, -1)).map((j) => JSON.parse(j) as AuditEntry);
  }

  cookieStore(sessionId: string): RedisCookieStore {
    const jar = this.keys.part(sessionId, 'jar');
    return new RedisCookieStore(this.redis, jar, async (field, value) => {
      await this.run('hsetx', [this.keys.session(sessionId), jar], [field, value]);
    });
  }

  async recordSnapshot(sessionId: string, snapshot: SnapshotInput): Promise<number> {
    // The seq goes between the two halves: `{"type":"snapshot","seq":` + seq + `,"url":...}`.
    const rest = `,${JSON.stringify({ url: snapshot.url, title: snapshot.title, viewport: snapshot.viewport, tree: snapshot.tree }).slice(1)}`;
    const k = this.keys;
    const seq = await this.run(
      'snapshot',
      [k.part(sessionId, 'cp'), k.part(sessionId, 'tail'), k.session(sessionId)],
      ['{"type":"snapshot","seq":', rest, k.channel(sessionId)],
    );
    if (typeof seq !== 'number') throw new Error(`session ${sessionId} is not stored`);
    return seq;
  }

  async recordMutations(sessionId: string, batch: Mutation[]): Promise<RecordedMutations | null> {
    const k = this.keys;
    const result = await this.run(
      'mutations',
      [k.part(sessionId, 'cp'), k.part(sessionId, 'tail')],
      [JSON.stringify(batch), k.channel(sessionId), this.tailLimits.maxTailBatches * TAIL_HARD_FACTOR, this.tailLimits.maxTailBytes * TAIL_HARD_FACTOR],
    );
    if (!Array.isArray(result)) return null;
    const [seq, batches, bytes] = result as [number, number, number];
    return { seq, wantsSnapshot: batches > this.tailLimits.maxTailBatches || bytes > this.tailLimits.maxTailBytes };
  }

  async readCheckpoint(sessionId: string): Promise<CheckpointData> {
    const k = this.keys;
    const results = await this.redis.multi().hmget(k.part(sessionId, 'cp'), 'snap', 'snapSeq', 'seq').lrange(k.part(sessionId, 'tail'), 0, -1).exec();
    if (!results) throw new Error('Redis aborted the read of a checkpoint');
    for (const [err] of results) if (err) throw err;
    const [snap, snapSeq, seq] = (results[0]?.[1] ?? []) as (string | null)[];
    const tail = (results[1]?.[1] ?? []) as string[];
    return { snapshot: snap ?? null, snapSeq: Number(snapSeq ?? 0), lastSeq: Number(seq ?? 0), tail: snap ? tail : [] };
  }

  async endSession(sessionId: string): Promise<boolean> {
    return (await this.run('end', [...this.keys.sessionKeys(sessionId), this.keys.sessions()], [sessionId, this.keys.prefix])) === 1;
  }

  async expiredSessions(now: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.sessions(), '-inf', now, 'LIMIT', 0, 200);
  }

  async sessionCount(): Promise<number> {
    return this.redis.zcard(this.keys.sessions());
  }

  async health(): Promise<string | null> {
    if (this.redis.status !== 'ready') return `Redis is ${this.redis.status === 'reconnecting' ? 'unreachable (reconnecting)' : this.redis.status}`;
    try {
      await this.redis.ping();
      return null;
    } catch (err) {
      return `Redis did not answer: ${(err as Error).message}`;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
