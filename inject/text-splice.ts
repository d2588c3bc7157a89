// Text fields travel as splices: what a participant changed in a field, against the value both
// sides last agreed on, instead of the whole value (a 200 KB textarea would be 200 KB a key).
// Pure functions, shared by the follower (which computes them) and the host's page (which checks
// and applies them).

import { MAX_SPLICE_CHARS, type RemoteInput, SPLICE_CONTEXT, type SpliceBase } from '../protocol/messages.js';
import { fnv1a } from './checksum.js';

/** `remove` UTF-16 units at `at` replaced by `text`. */
export interface TextEdit {
  at: number;
  remove: number;
  text: string;
}

export type Splice = Extract<RemoteInput, { kind: 'splice' }>;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * The one edit that turns `before` into `after` (their common prefix and suffix kept), or null
 * when they are equal. `caret`, where the caret is in `after`, places an edit that could be in
 * several places (a key typed in a run of the same character) where it was made. The edit never
 * cuts a surrogate pair.
 */
export function diffText(before: string, after: string, caret: number | null = null): TextEdit | null {
  if (before === after) return null;
  const min = Math.min(before.length, after.length);
  let prefix = 0;
  let suffix = 0;
  if (caret !== null && caret >= 0 && caret <= after.length) {
    // The text after the caret is what the edit left alone: as much of it as is common.
    while (suffix < min && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
    suffix = Math.min(suffix, after.length - caret);
    while (prefix < min - suffix && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  } else {
    while (prefix < min && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
    while (suffix < min - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  }
  if (prefix > 0 && isHighSurrogate(before.charCodeAt(prefix - 1))) prefix--;
  if (suffix > 0 && isLowSurrogate(before.charCodeAt(before.length - suffix))) suffix--;
  return { at: prefix, remove: before.length - prefix - suffix, text: after.slice(prefix, after.length - suffix) };
}

/** `value` with `edit` made. */
export function applyEdit(value: string, edit: TextEdit): string {
  return value.slice(0, edit.at) + edit.text + value.slice(edit.at + edit.remove);
}

/** What an edit at `at` removing `remove` units checks `value` by: its length and the hash of the removed text and its neighbourhood. */
export function spliceBase(value: string, at: number, remove: number): SpliceBase {
  const from = Math.max(0, at - SPLICE_CONTEXT);
  const to = Math.min(value.length, at + remove + SPLICE_CONTEXT);
  return { length: value.length, hash: fnv1a(value, from, to) };
}

/** True when `splice` was computed against `value` (as far as its base tells). */
export function baseMatches(value: string, splice: { at: number; remove: number; base: SpliceBase }): boolean {
  if (value.length !== splice.base.length || splice.at + splice.remove > value.length) return false;
  return spliceBase(value, splice.at, splice.remove).hash === splice.base.hash;
}

/** Bytes of `text` in UTF-8 (lone surrogates as JSON.stringify escapes them, 6 bytes). */
export function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (isHighSurrogate(c) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else if (isHighSurrogate(c) || isLowSurrogate(c)) n += 6;
    else n += 3;
  }
  return n;
}

/**
 * The splices that make `edit` to field `target` whose value is `before`: one when its message
 * (as `measure` counts its bytes) is at most `maxBytes`, else the inserted text in parts (the
 * first one also removes), each checked against the value the ones before it leave. Null when
 * not even one character fits.
 */
export function planSplices(target: number, before: string, edit: TextEdit, measure: (splice: Splice) => number, maxBytes: number): Splice[] | null {
  const out: Splice[] = [];
  let value = before;
  let at = edit.at;
  let remove = edit.remove;
  let rest = edit.text;
  let units = Math.max(2, Math.min(rest.length, MAX_SPLICE_CHARS));
  do {
    let n = Math.min(units, rest.length);
    let splice: Splice;
    for (;;) {
      // A surrogate pair stays in one part.
      if (n < rest.length && isHighSurrogate(rest.charCodeAt(n - 1))) n = n === 1 ? 2 : n - 1;
      splice = { kind: 'splice', target, at, remove, text: rest.slice(0, n), base: spliceBase(value, at, remove) };
      const size = measure(splice);
      if (size <= maxBytes) break;
      if (n <= 2) return null;
      n = Math.max(1, Math.floor((n * maxBytes * 0.95) / size));
    }
    out.push(splice);
    value = applyEdit(value, splice);
    at += splice.text.length;
    remove = 0;
    rest = rest.slice(splice.text.length);
    units = n;
  } while (rest.length > 0);
  return out;
}
