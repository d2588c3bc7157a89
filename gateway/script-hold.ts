// A script's decoded bytes as they stream through: passed on as they come until the first word
// an edit may follow (`import`, `export` in a module, a reference to the top window in a window's
// script: see rewrite/js-top.ts), held from there on, and edited once the script is complete (the
// lexers need all of it, so a copy of the whole script is kept). Every edit lies after that first
// word, so what was passed on never needs one. Past `max` bytes the script is no longer looked
// at: what is held goes on as it is.

import { TOP_SEAM } from '../protocol/top-references.js';
import { firstTopCandidateInBytes } from './rewrite/js-top.js';

/** Bytes of the longest word looked for, less one: a word split across chunks has at most this many bytes in the first. */
const SEAM = 5;

/** Index of the first `import` (or `export`, in a module; or, with `top`, a possible reference to the top window) in `bytes`, or -1. */
export function firstHoldWord(bytes: Buffer, module: boolean, top: boolean): number {
  let first = bytes.indexOf('import', 0, 'latin1');
  if (module) {
    const e = bytes.indexOf('export', 0, 'latin1');
    if (e !== -1 && (first === -1 || e < first)) first = e;
  }
  if (top) {
    const t = firstTopCandidateInBytes(bytes, first === -1 ? bytes.length : Math.min(bytes.length, first + TOP_SEAM));
    if (t !== -1 && (first === -1 || t < first)) first = t;
  }
  return first;
}

/** One replacement in a script's bytes: [s, e) becomes `rep` (latin1-held bytes). */
export interface ByteEdit {
  s: number;
  e: number;
  rep: string;
}

/** `bytes[from, end)` with `edits` (sorted, not overlapping, none before `from`) applied, as pieces to send in order. */
export function editedPieces(bytes: Buffer, from: number, edits: readonly ByteEdit[]): Buffer[] {
  const out: Buffer[] = [];
  let at = from;
  for (const edit of edits) {
    if (edit.s > at) out.push(bytes.subarray(at, edit.s));
    if (edit.rep !== '') out.push(Buffer.from(edit.rep, 'latin1'));
    at = edit.e;
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}

/** The state of one script streaming through; `write` and `end` give the bytes to send on. */
export class HeldScript {
  /** Bytes of the script seen so far. */
  size = 0;
  /** Offset of the first word an edit may follow (where holding began), or -1 while none was seen. */
  heldFrom = -1;
  /** More than `max` bytes came: the script is passed on as it is. */
  overLimit = false;
  /** Bytes handed on so far. */
  passed = 0;
  private copy: Buffer[] = [];
  /** The last bytes seen, not handed on yet: the start of a word the next chunk may complete. */
  private tail: Buffer = Buffer.alloc(0);

  /** `top`: references to the top window are edited too (a window's script, not a worker's). */
  constructor(
    private readonly module: boolean,
    private readonly max: number,
    private readonly top = false,
  ) {}

  /** The bytes of `chunk` (and of the chunks before it) that can go on now. */
  write(chunk: Buffer): Buffer[] {
    if (this.overLimit) return this.pass([chunk]);
    this.size += chunk.length;
    if (this.size > this.max) {
      this.overLimit = true;
      const held = this.heldFrom === -1 ? [this.tail] : this.copy.length === 0 ? [] : [Buffer.concat(this.copy).subarray(this.heldFrom)];
      this.copy = [];
      this.tail = Buffer.alloc(0);
      return this.pass([...held, chunk]);
    }
    this.copy.push(chunk);
    if (this.heldFrom !== -1) return [];
    const text = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const word = firstHoldWord(text, this.module, this.top);
    if (word !== -1) {
      this.heldFrom = this.passed + word;
      this.tail = Buffer.alloc(0);
      return this.pass([text.subarray(0, word)]);
    }
    const keep = Math.min(this.top ? TOP_SEAM : SEAM, text.length);
    this.tail = text.subarray(text.length - keep);
    return this.pass([text.subarray(0, text.length - keep)]);
  }

  /** The whole script, when it was kept (not over the limit). */
  whole(): Buffer | null {
    if (this.overLimit) return null;
    return this.copy.length === 1 ? this.copy[0]! : Buffer.concat(this.copy);
  }

  /**
   * The rest of the script once it is complete: what is held, with the edits `editsOf` finds in
   * the whole script (null: none); `changed` says whether any applied.
   */
  end(editsOf: (whole: Buffer) => ByteEdit[] | null): { pieces: Buffer[]; changed: boolean } {
    if (this.overLimit) return { pieces: [], changed: false };
    if (this.heldFrom === -1) return { pieces: this.pass([this.tail]), changed: false };
    const whole = this.whole()!;
    // An edit before the first word is in what already went on: a reference to the top window the
    // search did not see there (split at a seam longer than TOP_SEAM, a comment after the window
    // name). It is left out; the others apply (imports' edits always follow their word).
    const usable = (editsOf(whole) ?? []).filter((edit) => edit.s >= this.heldFrom);
    return { pieces: this.pass(editedPieces(whole, this.heldFrom, usable)), changed: usable.length > 0 };
  }

  private pass(pieces: Buffer[]): Buffer[] {
    const out = pieces.filter((p) => p.length > 0);
    for (const p of out) this.passed += p.length;
    return out;
  }
}
