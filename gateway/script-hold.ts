// A script's decoded bytes as they stream through: passed on as they come until the first
// `import` (or `export`, for a module) shows up, held from that word on, and edited once the
// script is complete (the lexer needs all of it, so a copy of the whole script is kept). Every
// edit of a script's imports lies after its first import word, so what was passed on never needs
// one. Past `max` bytes the script is no longer looked at: what is held goes on as it is.

/** Bytes of the longest word looked for, less one: a word split across chunks has at most this many bytes in the first. */
const SEAM = 5;

/** Index of the first `import` (or `export`, in a module) in `bytes`, or -1. */
export function firstImportWord(bytes: Buffer, module: boolean): number {
  const i = bytes.indexOf('import', 0, 'latin1');
  if (!module) return i;
  const e = bytes.indexOf('export', 0, 'latin1');
  return i === -1 ? e : e === -1 ? i : Math.min(i, e);
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
  /** Offset of the first import word (where holding began), or -1 while none was seen. */
  heldFrom = -1;
  /** More than `max` bytes came: the script is passed on as it is. */
  overLimit = false;
  /** Bytes handed on so far. */
  passed = 0;
  private copy: Buffer[] = [];
  /** The last bytes seen, not handed on yet: the start of a word the next chunk may complete. */
  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly module: boolean,
    private readonly max: number,
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
    const word = firstImportWord(text, this.module);
    if (word !== -1) {
      this.heldFrom = this.passed + word;
      this.tail = Buffer.alloc(0);
      return this.pass([text.subarray(0, word)]);
    }
    const keep = Math.min(SEAM, text.length);
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
    const edits = editsOf(whole);
    // An edit before the first import word cannot be: the script is then sent as it came.
    const usable = edits !== null && edits.length > 0 && edits[0]!.s >= this.heldFrom;
    return { pieces: this.pass(editedPieces(whole, this.heldFrom, usable ? edits : [])), changed: usable };
  }

  private pass(pieces: Buffer[]): Buffer[] {
    const out = pieces.filter((p) => p.length > 0);
    for (const p of out) this.passed += p.length;
    return out;
  }
}
