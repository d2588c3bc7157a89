// Long contenteditable text: the follower's parts (each message under the limit, the whole text
// in them), the host's joining of them, and the markup a pasted text's lines are inserted as.

import { describe, expect, it } from 'vitest';
import { type EditInput, EditParts, type PasteContext, plainTextMarkup, planEdits } from '../../inject/paste-text.js';
import { utf8Bytes } from '../../inject/text-splice.js';
import { encodeMessage, FOLLOWER_MAX_MESSAGE_BYTES, MAX_EDIT_PARTS, MAX_VALUE_CHARS, parseClientMessage, type RemoteInput } from '../../protocol/messages.js';

const bytes = (event: RemoteInput) => utf8Bytes(encodeMessage({ type: 'input', event }));
const MAX = FOLLOWER_MAX_MESSAGE_BYTES - 1024;
const RANGE = { a: 3, ao: 5, f: 3, fo: 5 };

function plan(data: string, max = MAX): EditInput[] {
  const edits = planEdits(7, 'insertFromPaste', data, RANGE, bytes, max);
  if (!edits) throw new Error('expected a plan');
  return edits;
}

describe('planEdits', () => {
  it('a text that fits one message goes whole, as before (no part)', () => {
    expect(plan('hello')).toEqual([{ kind: 'edit', target: 7, inputType: 'insertFromPaste', data: 'hello', range: RANGE }]);
  });

  it.each<[string, string]>([
    ['ASCII, 600 KB', 'abcdefghij'.repeat(60_000)],
    ['2- and 3-byte characters', 'grüße «漢字» '.repeat(20_000)],
    ['emoji (surrogate pairs)', '😀🎉 '.repeat(40_000)],
    ['what JSON escapes: quotes, backslashes, line breaks, control characters', 'a "q" \\ b\n\t\u0001\u001f '.repeat(20_000)],
  ])('%s: parts under the message limit, nearly full, that carry the whole text in order', (_what, data) => {
    const edits = plan(data);
    expect(edits.length).toBeGreaterThan(1);
    const total = edits.reduce((n, e) => n + bytes(e), 0);
    // Each message valid and under the limit; few parts (they are filled).
    for (const e of edits) {
      expect(bytes(e)).toBeLessThanOrEqual(MAX);
      expect(parseClientMessage(encodeMessage({ type: 'input', event: e })).ok).toBe(true);
    }
    expect(edits.length).toBeLessThanOrEqual(Math.ceil(total / (MAX * 0.9)));
    expect(edits.map((e) => e.data).join('')).toBe(data);
    expect(edits.map((e) => e.part)).toEqual(edits.map((_, index) => ({ index, count: edits.length })));
    // The first part says where; the others go on where it ended.
    expect(edits.map((e) => e.range)).toEqual(edits.map((_, i) => (i === 0 ? RANGE : null)));
    expect(new Set(edits.map((e) => e.inputType))).toEqual(new Set(['insertFromPaste']));
    for (const e of edits) {
      const last = (e.data ?? '').charCodeAt((e.data ?? '').length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
  });

  it('nothing when the text is longer than a value may be, would take more than MAX_EDIT_PARTS, or not even one character fits', () => {
    expect(planEdits(7, 'insertFromPaste', 'x'.repeat(MAX_VALUE_CHARS + 1), null, bytes, MAX)).toBeNull();
    expect(planEdits(7, 'insertFromPaste', 'xyz'.repeat(100), null, bytes, 150)?.length).toBeGreaterThan(1);
    expect(planEdits(7, 'insertFromPaste', 'xyz'.repeat(100 * MAX_EDIT_PARTS), null, bytes, 150)).toBeNull();
    expect(planEdits(7, 'insertFromPaste', 'xyz'.repeat(100), null, bytes, 100)).toBeNull();
  });
});

describe('EditParts', () => {
  const parts = (data: string, max = 400) => plan(data, max);

  it('holds the parts and gives the whole edit with the last one, as the first part named it', () => {
    const data = 'line one\nline two '.repeat(100);
    const edits = parts(data);
    expect(edits.length).toBeGreaterThan(3);
    const joiner = new EditParts();
    const out = edits.map((e) => joiner.join(e, 'p1'));
    expect(out.slice(0, -1)).toEqual(edits.slice(0, -1).map(() => null));
    expect(out.at(-1)).toEqual({ kind: 'edit', target: 7, inputType: 'insertFromPaste', data, range: RANGE });
  });

  it('passes any other input through', () => {
    const joiner = new EditParts();
    const click: RemoteInput = { kind: 'click', target: 1, x: 2, y: 3 };
    const whole: RemoteInput = { kind: 'edit', target: 7, inputType: 'insertText', data: 'a', range: null };
    expect(joiner.join(click, 'p1')).toBe(click);
    expect(joiner.join(whole, 'p1')).toBe(whole);
  });

  it("keeps each participant's parts apart, also when they interleave", () => {
    const a = parts('A'.repeat(1000));
    const b = parts('B'.repeat(1000));
    expect(a.length).toBe(b.length);
    const joiner = new EditParts();
    const out: (RemoteInput | null)[] = [];
    for (let i = 0; i < a.length; i++) out.push(joiner.join(a[i] as EditInput, 'p1'), joiner.join(b[i] as EditInput, 'p2'));
    expect(out.filter((e) => e !== null).map((e) => (e as EditInput).data)).toEqual(['A'.repeat(1000), 'B'.repeat(1000)]);
  });

  it('drops what it held when a part is missing; a new first part starts over', () => {
    const edits = parts('x'.repeat(1000));
    const joiner = new EditParts();
    joiner.join(edits[0] as EditInput, 'p1');
    expect(joiner.join(edits[2] as EditInput, 'p1')).toBeNull();
    // The rest of that edit joins nothing.
    for (const e of edits.slice(3)) expect(joiner.join(e, 'p1')).toBeNull();
    // A part of an edit never started (its socket closed meanwhile) neither.
    expect(joiner.join(edits.at(-1) as EditInput, 'p1')).toBeNull();
    const again = parts('y'.repeat(1000));
    joiner.join(edits[0] as EditInput, 'p1');
    const out = again.map((e) => joiner.join(e, 'p1'));
    expect((out.at(-1) as EditInput).data).toBe('y'.repeat(1000));
  });

  it('drops an edit longer than a value may be', () => {
    const joiner = new EditParts();
    const part = (index: number): EditInput => ({
      kind: 'edit',
      target: 7,
      inputType: 'insertFromPaste',
      data: 'x'.repeat(60_000),
      range: null,
      part: { index, count: 20 },
    });
    const out = Array.from({ length: 20 }, (_, i) => joiner.join(part(i), 'p1'));
    expect(out.every((e) => e === null)).toBe(true);
  });
});

describe('plainTextMarkup', () => {
  const flow: PasteContext = { preservesNewlines: false, block: null };

  it('each line a paragraph (a div in the editing host), an empty one held open by a <br>; text escaped', () => {
    expect(plainTextMarkup('one\n\n<b>&amp;</b>', flow)).toBe('<div>one</div><div><br></div><div>&lt;b&gt;&amp;amp;&lt;/b&gt;</div>');
  });

  it('the style where the text goes around each line, the empty ones too (Chromium matches a pasted text to it)', () => {
    const style = { open: '<font color="#ff0000"><b>', close: '</b></font>' };
    expect(plainTextMarkup('one\n\ntwo', { ...flow, style })).toBe(
      '<div><font color="#ff0000"><b>one</b></font></div><div><font color="#ff0000"><b><br></b></font></div><div><font color="#ff0000"><b>two</b></font></div>',
    );
    expect(plainTextMarkup('a\nb', { preservesNewlines: true, block: null, style })).toBe('<font color="#ff0000"><b>a\nb</b></font>');
  });

  // As Chromium's paste of plain text keeps them (measured: the line between "x\n" and "\ny").
  it.each<[string, string]>([
    ['a b', 'a b'],
    ['a  b', 'a\u00a0 b'],
    ['a   b', 'a\u00a0 \u00a0b'],
    ['a    b', 'a\u00a0 \u00a0 b'],
    [' a', '\u00a0a'],
    ['  a', '\u00a0 a'],
    ['   a', '\u00a0 \u00a0a'],
    ['a ', 'a\u00a0'],
    ['a  ', 'a\u00a0\u00a0'],
    ['a   ', 'a\u00a0 \u00a0'],
    ['a \u00a0 b', 'a\u00a0 \u00a0b'],
    ['a\u00a0b', 'a b'],
    ['  ', '\u00a0\u00a0'],
  ])('spaces of %j stay visible', (line, kept) => {
    expect(plainTextMarkup(`x\n${line}\ny`, flow)).toBe(`<div>x</div><div>${kept}</div><div>y</div>`);
  });

  it('a tab in a span that keeps it, a lone space beside it a space', () => {
    expect(plainTextMarkup('a \tb', flow)).toBe('<div>a <span style="white-space:pre">\t</span>b</div>');
    expect(plainTextMarkup('a\t b\t', flow)).toBe('<div>a<span style="white-space:pre">\t</span> b<span style="white-space:pre">\t</span></div>');
  });

  it("inside a block of the host's own, its lines are copies of that block (as a paste makes them)", () => {
    const p: PasteContext = { preservesNewlines: false, block: { tag: 'p', attributes: [['class', 'note "x" & y']] } };
    expect(plainTextMarkup('a\nb', p)).toBe('<p class="note &quot;x&quot; &amp; y">a</p><p class="note &quot;x&quot; &amp; y">b</p>');
    // Names markup could not carry are left out; a tag that could not be written is a div.
    const odd: PasteContext = {
      preservesNewlines: false,
      block: {
        tag: 'li',
        attributes: [
          ['a"b', '1'],
          ['x<y', '2'],
          ['data-ok', '3'],
        ],
      },
    };
    expect(plainTextMarkup('a', odd)).toBe('<li data-ok="3">a</li>');
    expect(plainTextMarkup('a', { preservesNewlines: false, block: { tag: 'x"y', attributes: [] } })).toBe('<div>a</div>');
  });

  it('where line breaks stay text (pre, pre-wrap), the text as it is, escaped', () => {
    expect(plainTextMarkup('  a  b\n\tc\n<d>', { preservesNewlines: true, block: null })).toBe('  a  b\n\tc\n&lt;d&gt;');
  });
});
