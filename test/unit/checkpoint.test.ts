import { describe, expect, it } from 'vitest';
import { Checkpoint, DEFAULT_CHECKPOINT_LIMITS } from '../../gateway/checkpoint.js';
import { type Mutation, parseServerMessage, type SerializedNode, type ServerMessage } from '../../protocol/messages.js';

const TREE: SerializedNode = { t: 'doc', id: 0, c: [{ t: 'el', id: 1, tag: 'html', a: {}, c: [] }] };
const VIEWPORT = { w: 800, h: 600 };

function batch(n: number): Mutation[] {
  return [{ k: 'text', id: 1, v: `text ${n}` }];
}

function decode(encoded: string): ServerMessage {
  const parsed = parseServerMessage(encoded);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function seqs(encoded: string[]): string[] {
  return encoded.map((e) => {
    const m = decode(e);
    return m.type === 'snapshot' ? `S${m.seq}` : m.type === 'mutations' ? `M${m.seq}` : m.type;
  });
}

function withHistory(): Checkpoint {
  const cp = new Checkpoint();
  cp.recordSnapshot('http://a/1', 'one', VIEWPORT, TREE);
  cp.recordMutations(batch(2));
  cp.recordMutations(batch(3));
  cp.recordSnapshot('http://a/4', 'four', VIEWPORT, TREE);
  cp.recordMutations(batch(5));
  cp.recordMutations(batch(6));
  cp.recordMutations(batch(7));
  return cp;
}

describe('Checkpoint recording', () => {
  it('starts empty', () => {
    const cp = new Checkpoint();
    expect(cp.lastSeq).toBe(0);
    expect(cp.url).toBeNull();
    expect(cp.replayFrom(undefined)).toEqual([]);
    expect(cp.replayFrom(0)).toEqual([]);
    expect(cp.wantsSnapshot).toBe(false);
  });

  it('refuses mutations before any snapshot without using a sequence number', () => {
    const cp = new Checkpoint();
    expect(cp.recordMutations(batch(1))).toBeNull();
    expect(cp.lastSeq).toBe(0);
    expect(cp.replayFrom(undefined)).toEqual([]);
    const first = decode(cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE));
    expect(first.type === 'snapshot' && first.seq).toBe(1);
  });

  it('stamps consecutive sequence numbers on snapshots and mutations', () => {
    const cp = new Checkpoint();
    const messages = [
      cp.recordSnapshot('http://a/', 'A', VIEWPORT, TREE),
      cp.recordMutations(batch(1)),
      cp.recordMutations(batch(2)),
      cp.recordSnapshot('http://b/', 'B', VIEWPORT, TREE),
      cp.recordMutations(batch(3)),
    ];
    expect(seqs(messages as string[])).toEqual(['S1', 'M2', 'M3', 'S4', 'M5']);
    expect(cp.lastSeq).toBe(5);
  });

  it('encodes full, valid server messages', () => {
    const cp = new Checkpoint();
    expect(decode(cp.recordSnapshot('http://a/x', 'Title', VIEWPORT, TREE))).toEqual({
      type: 'snapshot',
      seq: 1,
      url: 'http://a/x',
      title: 'Title',
      viewport: VIEWPORT,
      tree: TREE,
    });
    expect(decode(cp.recordMutations(batch(9))!)).toEqual({ type: 'mutations', seq: 2, batch: batch(9) });
  });

  it('reports the URL of the latest snapshot', () => {
    const cp = new Checkpoint();
    cp.recordSnapshot('http://a/first', 't', VIEWPORT, TREE);
    expect(cp.url).toBe('http://a/first');
    cp.recordMutations(batch(1));
    cp.recordSnapshot('http://a/second', 't', VIEWPORT, TREE);
    expect(cp.url).toBe('http://a/second');
  });
});

describe('Checkpoint.replayFrom', () => {
  it.each<[number | undefined, string[]]>([
    [undefined, ['S4', 'M5', 'M6', 'M7']],
    [0, ['S4', 'M5', 'M6', 'M7']],
    [1, ['S4', 'M5', 'M6', 'M7']],
    [2, ['S4', 'M5', 'M6', 'M7']],
    [3, ['S4', 'M5', 'M6', 'M7']],
    [4, ['M5', 'M6', 'M7']],
    [5, ['M6', 'M7']],
    [6, ['M7']],
    [7, []],
    [8, ['S4', 'M5', 'M6', 'M7']],
    [1000, ['S4', 'M5', 'M6', 'M7']],
    [-1, ['S4', 'M5', 'M6', 'M7']],
  ])('from %s -> %j', (lastSeq, expected) => {
    expect(seqs(withHistory().replayFrom(lastSeq))).toEqual(expected);
  });

  it('returns exactly the messages that were broadcast', () => {
    const cp = new Checkpoint();
    const snap = cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    const m1 = cp.recordMutations(batch(1));
    const m2 = cp.recordMutations(batch(2));
    expect(cp.replayFrom(undefined)).toEqual([snap, m1, m2]);
    expect(cp.replayFrom(2)).toEqual([m2]);
  });

  it('starts over from the new snapshot after a snapshot', () => {
    const cp = new Checkpoint();
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    cp.recordMutations(batch(1));
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    expect(seqs(cp.replayFrom(undefined))).toEqual(['S3']);
    expect(seqs(cp.replayFrom(2))).toEqual(['S3']);
    expect(seqs(cp.replayFrom(3))).toEqual([]);
  });
});

describe('Checkpoint hard limit', () => {
  it('refuses batches past four times its limits until the next snapshot', () => {
    const cp = new Checkpoint({ maxTailBatches: 2, maxTailBytes: 1_000_000 });
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    for (let i = 0; i < 8; i++) expect(cp.recordMutations(batch(i))).not.toBeNull();
    expect(cp.recordMutations(batch(9))).toBeNull();
    expect(cp.lastSeq).toBe(9);
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    expect(cp.recordMutations(batch(11))).not.toBeNull();
  });
});

describe('Checkpoint.wantsSnapshot', () => {
  it('asks for a snapshot once the tail has more batches than allowed', () => {
    const cp = new Checkpoint({ maxTailBatches: 3, maxTailBytes: 1_000_000 });
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    for (let i = 1; i <= 3; i++) {
      cp.recordMutations(batch(i));
      expect(cp.wantsSnapshot).toBe(false);
    }
    cp.recordMutations(batch(4));
    expect(cp.wantsSnapshot).toBe(true);
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    expect(cp.wantsSnapshot).toBe(false);
  });

  it('asks for a snapshot once the tail holds more bytes than allowed', () => {
    const cp = new Checkpoint({ maxTailBatches: 1000, maxTailBytes: 500 });
    cp.recordSnapshot('http://a/', 't'.repeat(10_000), VIEWPORT, TREE);
    expect(cp.wantsSnapshot).toBe(false);
    let bytes = 0;
    while (bytes <= 500) {
      expect(cp.wantsSnapshot).toBe(false);
      bytes += cp.recordMutations([{ k: 'text', id: 1, v: 'x'.repeat(100) }])!.length;
    }
    expect(cp.wantsSnapshot).toBe(true);
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    expect(cp.wantsSnapshot).toBe(false);
  });

  it('asks at once for a single batch larger than the byte limit', () => {
    const cp = new Checkpoint({ maxTailBatches: 1000, maxTailBytes: 100 });
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    cp.recordMutations([{ k: 'text', id: 1, v: 'y'.repeat(200) }]);
    expect(cp.wantsSnapshot).toBe(true);
  });

  it('has default limits of 2000 batches and 16 MiB', () => {
    expect(DEFAULT_CHECKPOINT_LIMITS).toEqual({ maxTailBatches: 2000, maxTailBytes: 16 * 1024 * 1024 });
    const cp = new Checkpoint();
    cp.recordSnapshot('http://a/', 't', VIEWPORT, TREE);
    for (let i = 0; i < 2000; i++) cp.recordMutations(batch(i));
    expect(cp.wantsSnapshot).toBe(false);
    cp.recordMutations(batch(2000));
    expect(cp.wantsSnapshot).toBe(true);
  });
});
