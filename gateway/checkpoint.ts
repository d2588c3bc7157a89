// A session's replayable state: the latest snapshot plus the mutation batches since, with the
// sequence numbers the hub stamped on them. Late joiners and reconnecting followers start here.

import type { Mutation, SerializedNode, ServerMessage, Viewport } from '../protocol/messages.js';

type SnapshotMessage = Extract<ServerMessage, { type: 'snapshot' }>;
type MutationsMessage = Extract<ServerMessage, { type: 'mutations' }>;

/** How much tail a checkpoint keeps before it asks the host for a fresh snapshot. */
export interface CheckpointLimits {
  maxTailBatches: number;
  maxTailBytes: number;
}

/** Default limits: a fresh snapshot is asked for past these. */
export const DEFAULT_CHECKPOINT_LIMITS: CheckpointLimits = { maxTailBatches: 2000, maxTailBytes: 16 * 1024 * 1024 };

/** Latest snapshot and tail of one session; `seq` grows by one per broadcast. */
export class Checkpoint {
  private seq = 0;
  private snapshot: { message: SnapshotMessage; encoded: string } | null = null;
  private tail: { message: MutationsMessage; encoded: string }[] = [];
  private tailBytes = 0;

  constructor(private readonly limits: CheckpointLimits = DEFAULT_CHECKPOINT_LIMITS) {}

  /** Sequence number of the last broadcast (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Page URL of the latest snapshot, as the host's browser sees it. */
  get url(): string | null {
    return this.snapshot?.message.url ?? null;
  }

  /** Records a new snapshot (dropping the old tail); returns the message to broadcast. */
  recordSnapshot(url: string, title: string, viewport: Viewport, tree: SerializedNode): string {
    const message: SnapshotMessage = { type: 'snapshot', seq: ++this.seq, url, title, viewport, tree };
    const encoded = JSON.stringify(message);
    this.snapshot = { message, encoded };
    this.tail = [];
    this.tailBytes = 0;
    return encoded;
  }

  /** Records a mutation batch; null when there is no snapshot it could apply to. */
  recordMutations(batch: Mutation[]): string | null {
    if (!this.snapshot) return null;
    const message: MutationsMessage = { type: 'mutations', seq: ++this.seq, batch };
    const encoded = JSON.stringify(message);
    this.tail.push({ message, encoded });
    this.tailBytes += encoded.length;
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
    const snapSeq = this.snapshot.message.seq;
    if (lastSeq !== undefined && lastSeq >= snapSeq && lastSeq <= this.seq) {
      return this.tail.filter((t) => t.message.seq > lastSeq).map((t) => t.encoded);
    }
    return [this.snapshot.encoded, ...this.tail.map((t) => t.encoded)];
  }
}
