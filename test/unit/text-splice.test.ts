import { describe, expect, it } from 'vitest';
import { applyEdit, baseMatches, diffText, planSplices, type Splice, spliceBase, utf8Bytes } from '../../inject/text-splice.js';
import { encodeMessage, FOLLOWER_MAX_MESSAGE_BYTES, parseClientMessage, SPLICE_CONTEXT } from '../../protocol/messages.js';
import { mulberry32 } from '../helpers/random.js';

const messageBytes = (s: Splice) => Buffer.byteLength(encodeMessage({ type: 'input', event: s }));

/** Applies the splices in order as the host's page does: each only to the value it names. */
function applyAll(value: string, splices: Splice[]): string {
  let v = value;
  for (const s of splices) {
    expect(baseMatches(v, s)).toBe(true);
    v = applyEdit(v, s);
  }
  return v;
}

describe('diffText', () => {
  it.each<[string, string, string, number | null, { at: number; remove: number; text: string } | null]>([
    ['same text', 'abc', 'abc', null, null],
    ['typed at the end', 'hello', 'hello!', null, { at: 5, remove: 0, text: '!' }],
    ['typed at the start', 'hello', 'Ohello', null, { at: 0, remove: 0, text: 'O' }],
    ['typed in the middle', 'held', 'hello d', null, { at: 3, remove: 0, text: 'lo ' }],
    ['deleted backward', 'hello', 'helo', 3, { at: 3, remove: 1, text: '' }],
    ['replaced a selection', 'the cat sat', 'the dog sat', null, { at: 4, remove: 3, text: 'dog' }],
    ['emptied', 'abc', '', null, { at: 0, remove: 3, text: '' }],
    ['filled', '', 'abc', null, { at: 0, remove: 0, text: 'abc' }],
    // A run of the same letter: without the caret the earliest place, with it where it was typed.
    ['typed into a run, no caret', 'abbc', 'abbbc', null, { at: 3, remove: 0, text: 'b' }],
    ['typed into a run, caret after the 2nd b', 'abbc', 'abbbc', 2, { at: 1, remove: 0, text: 'b' }],
    ['typed into a run, caret after the 4th b', 'abbc', 'abbbc', 4, { at: 3, remove: 0, text: 'b' }],
    ['deleted in a run, caret at 1', 'abbbc', 'abbc', 1, { at: 1, remove: 1, text: '' }],
    ['caret out of range is ignored', 'ab', 'abc', 99, { at: 2, remove: 0, text: 'c' }],
  ])('%s', (_what, before, after, caret, expected) => {
    const edit = diffText(before, after, caret);
    expect(edit).toEqual(expected);
    if (edit) expect(applyEdit(before, edit)).toBe(after);
  });

  it('never cuts a surrogate pair (two emoji that share their first half)', () => {
    const before = 'x😀y';
    const after = 'x😃y';
    const edit = diffText(before, after);
    expect(edit).toEqual({ at: 1, remove: 2, text: '😃' });
    const edit2 = diffText('😀😀', '😀😃😀', 4);
    expect(edit2 && applyEdit('😀😀', edit2)).toBe('😀😃😀');
    expect(edit2?.text).toBe('😃');
  });

  it('any edit of random text, with or without the caret, is one edit that makes it', () => {
    const rand = mulberry32(7);
    const alphabet = 'aab \n😀é';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const before = word(Math.floor(rand() * 30));
      const at = Math.floor(rand() * (before.length + 1));
      const remove = Math.floor(rand() * (before.length - at + 1));
      const inserted = word(Math.floor(rand() * 5));
      const after = before.slice(0, at) + inserted + before.slice(at + remove);
      for (const caret of [null, at + inserted.length]) {
        const edit = diffText(before, after, caret);
        if (before === after) {
          expect(edit).toBeNull();
          continue;
        }
        expect(edit).not.toBeNull();
        if (!edit) continue;
        expect(applyEdit(before, edit)).toBe(after);
        // No larger than the edit that made it (a surrogate pair kept whole adds a unit each side).
        expect(edit.remove + edit.text.length).toBeLessThanOrEqual(remove + inserted.length + 4);
      }
    }
  });
});

describe('splice bases', () => {
  const value = `${'x'.repeat(100_000)}middle${'y'.repeat(100_000)}`;

  it('match the value they were computed against', () => {
    const s = { at: 100_003, remove: 0, base: spliceBase(value, 100_003, 0) };
    expect(s.base.length).toBe(value.length);
    expect(baseMatches(value, s)).toBe(true);
  });

  it('tell a concurrent change that moved the text (any length change) or changed it near the splice', () => {
    const s = { at: 100_003, remove: 2, base: spliceBase(value, 100_003, 2) };
    expect(baseMatches(`HOST${value}`, s)).toBe(false);
    expect(baseMatches(value.slice(1), s)).toBe(false);
    expect(baseMatches(`${value.slice(0, 100_004)}Q${value.slice(100_005)}`, s)).toBe(false);
    const justInside = 100_003 - SPLICE_CONTEXT;
    expect(baseMatches(`${value.slice(0, justInside)}Q${value.slice(justInside + 1)}`, s)).toBe(false);
    expect(baseMatches(value.slice(0, 100_000), s)).toBe(false);
  });

  it('let a same-length change far from the splice through (positions still hold: the two changes merge)', () => {
    const s = { at: 100_003, remove: 0, text: '!', base: spliceBase(value, 100_003, 0) };
    const host = `Q${value.slice(1)}`;
    expect(baseMatches(host, s)).toBe(true);
    expect(applyEdit(host, s)).toBe(`Q${value.slice(1, 100_003)}!${value.slice(100_003)}`);
  });

  it('never match a splice that reaches past the value', () => {
    expect(baseMatches('abc', { at: 2, remove: 2, base: { length: 3, hash: spliceBase('abc', 2, 1).hash } })).toBe(false);
  });
});

describe('utf8Bytes', () => {
  it.each(['', 'ascii', 'é', '中文', '😀', 'a\u0000b', '\ud800', 'x\udc00', '\ud83d\ude00\ud83d'])('%j as JSON counts as Buffer does', (text) => {
    const json = JSON.stringify({ text });
    expect(utf8Bytes(json)).toBe(Buffer.byteLength(json));
  });
});

describe('planSplices', () => {
  const limit = FOLLOWER_MAX_MESSAGE_BYTES - 1024;

  it('sends a small change as one splice', () => {
    const before = 'a'.repeat(200_000);
    const edit = diffText(before, `${before.slice(0, 1000)}hi${before.slice(1000)}`, 1002);
    expect(edit).not.toBeNull();
    if (!edit) return;
    const splices = planSplices(9, before, edit, messageBytes, limit);
    expect(splices).toHaveLength(1);
    expect(messageBytes(splices?.[0] as Splice)).toBeLessThan(300);
  });

  it.each<[string, string]>([
    ['ASCII', 'lorem ipsum dolor sit amet\n'],
    ['JSON-escaped', '"\\\n\t\u0001'],
    ['3-byte characters', '中文字'],
    ['emoji', '😀x😃'],
  ])('splits a 200 KB paste of %s into parts under the limit that make the whole paste', (_what, unit) => {
    const before = 'start end';
    const paste = unit.repeat(Math.ceil(200_000 / unit.length));
    const after = `start ${paste}end`;
    const edit = diffText(before, after, 6 + paste.length);
    if (!edit) throw new Error('no edit');
    const splices = planSplices(3, before, edit, messageBytes, limit) ?? [];
    expect(splices.length).toBeGreaterThan(1);
    for (const s of splices) {
      const text = encodeMessage({ type: 'input', event: s });
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit);
      // Each part is a valid message, as the hub checks it.
      expect(parseClientMessage(text).ok).toBe(true);
      // No part starts or ends in the middle of a surrogate pair.
      expect(s.text).toBe(Buffer.from(s.text, 'utf8').toString('utf8'));
    }
    expect(applyAll(before, splices)).toBe(after);
    // The parts are not needlessly small (at least half the limit, the last one aside).
    for (const s of splices.slice(0, -1)) expect(messageBytes(s)).toBeGreaterThan(limit / 2);
  });

  it('a paste over a selection: the first part removes it', () => {
    const before = `keep ${'old '.repeat(1000)}keep`;
    const after = `keep ${'new!'.repeat(30_000)}keep`;
    const edit = diffText(before, after);
    if (!edit) throw new Error('no edit');
    const splices = planSplices(3, before, edit, messageBytes, limit) ?? [];
    expect(splices[0]?.remove).toBeGreaterThan(0);
    expect(splices.slice(1).every((s) => s.remove === 0)).toBe(true);
    expect(applyAll(before, splices)).toBe(after);
  });

  it('a deletion of 200 KB is one small splice', () => {
    const before = 'z'.repeat(200_000);
    const splices = planSplices(3, before, { at: 0, remove: 200_000, text: '' }, messageBytes, limit) ?? [];
    expect(splices).toHaveLength(1);
    expect(messageBytes(splices[0] as Splice)).toBeLessThan(200);
    expect(applyAll(before, splices)).toBe('');
  });

  it('null when not even one character fits', () => {
    expect(planSplices(3, '', { at: 0, remove: 0, text: 'abc' }, messageBytes, 50)).toBeNull();
  });
});
