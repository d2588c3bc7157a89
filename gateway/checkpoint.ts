// A session's replayable state: the latest snapshot plus the mutation batches since, with their
// sequence numbers. The embedded store records into one; every node keeps one per session it
// serves as a replica (fed in seq order), from which late joiners and reconnecting followers start.

import type { Mutation, SerializedNode, ServerMessage, Viewport } from '../protocol/messages.js';
import type { CheckpointData, TailLimits } from './state/store.js';

type SnapshotMessage = Extract<ServerMessage, { type: 'snapshot' }>;

/** How much tail a checkpoint keeps before it asks the host for a fresh snapshot. */
export type CheckpointLimits = TailLimits;

/** Default limits: a fresh snapshot is asked for past these. */
export const DEFAULT_CHECKPOINT_LIMITS: CheckpointLimits = { maxTailBatches: 2000, maxTailBytes: 16 * 1024 * 1024 };

interface Entry {
  seq: number;
  encoded: string;
}

/** Latest snapshot and tail of one session; `seq` grows by one per broadcast. */
export class Checkpoint {
  private seq = 0;
  private snapshot: (Entry & { url: string | null }) | null = null;
  private tail: Entry[] = [];
  private tailBytes = 0;

  constructor(private readonly limits: CheckpointLimits = DEFAULT_CHECKPOINT_LIMITS) {}

  /** Sequence number of the last broadcast (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Page URL of the latest snapshot, as the host's browser sees it. */
  get url(): string | null {
    if (!this.snapshot) return null;
    this.snapshot.url ??= (JSON.parse(this.snapshot.encoded) as SnapshotMessage).url;
    return this.snapshot.url;
  }

  /** Records a new snapshot (dropping the old tail); returns the message to broadcast. */
  recordSnapshot(url: string, title: string, viewport: Viewport, tree: SerializedNode): string {
    const message: SnapshotMessage = { type: 'snapshot', seq: ++this.seq, url, title, viewport, tree };
    const encoded = JSON.stringify(message);
    this.snapshot = { seq: this.seq, encoded, url };
    this.tail = [];
    this.tailBytes = 0;
    return encoded;
  }

  /** Records a mutation batch; null when there is no snapshot it could apply to, or the tail is past 4x its limits. */
  recordMutations(batch: Mutation[]): string | null {
    if (!this.snapshot) return null;
    if (this.tail.length >= this.limits.maxTailBatches * 4 || this.tailBytes >= this.limits.maxTailBytes * 4) return null;
    const encoded = JSON.stringify({ type: 'mutations', seq: ++this.seq, batch });
    this.push({ seq: this.seq, encoded });
    return encoded;
  }

  /** True when the tail has grown past its limits and a fresh snapshot should replace it. */
  get wantsSnapshot(): boolean {
    return this.tail.length > this.limits.maxTailBatches || this.tailBytes > this.limits.maxTailBytes;
  }

  /**
   * Messages that bring a follower from `lastSeq` to now: only the missing tail when it still
   * holds everything after lastSeq, otherwise the snapshot and the whole tail.
   */
  replayFrom(lastSeq: number | undefined): string[] {
    if (!this.snapshot) return [];
    if (lastSeq !== undefined && lastSeq >= this.snapshot.seq && lastSeq <= this.seq) {
      return this.tail.filter((t) => t.seq > lastSeq).map((t) => t.encoded);
    }
    return [this.snapshot.encoded, ...this.tail.map((t) => t.encoded)];
  }

  /** The checkpoint as the state store keeps it. */
  data(): CheckpointData {
    return { snapshot: this.snapshot?.encoded ?? null, snapSeq: this.snapshot?.seq ?? 0, lastSeq: this.seq, tail: this.tail.map((t) => t.encoded) };
  }

  /** Replaces the content with stored data (a node's replica of a shared checkpoint). */
  load(data: CheckpointData): void {
    this.seq = data.lastSeq;
    this.snapshot = data.snapshot === null ? null : { seq: data.snapSeq, encoded: data.snapshot, url: null };
    this.tail = [];
    this.tailBytes = 0;
    data.tail.forEach((encoded, i) => {
      this.push({ seq: data.snapSeq + 1 + i, encoded });
    });
  }

  /**
   * Takes one message stamped by the state store into a replica. It must carry the next seq;
   * returns false, changing nothing, when it does not follow on (the caller reloads).
   */
  apply(seq: number, encoded: string, isSnapshot: boolean): boolean {
    if (seq !== this.seq + 1 || (!isSnapshot && !this.snapshot)) return false;
    if (isSnapshot) {
      this.snapshot = { seq, encoded, url: null };
      this.tail = [];
      this.tailBytes = 0;
    } else {
      this.push({ seq, encoded });
    }
    this.seq = seq;
    return true;
  }

  private push(entry: Entry): void {
    this.tail.push(entry);
    this.tailBytes += entry.encoded.length;
  }
}
