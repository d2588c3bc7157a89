// The replacements a scan finds, kept as offsets into the scanned text so that everything between
// them is copied as it is: slices of the string for text, slices of the input Buffer for bytes.

/** At most this many pieces are handed on as separate Buffers; more are copied into one. */
const MAX_PIECES = 16;

/** Replacements of text[start, end) by `rep` (latin1-held bytes for byte input), in increasing order, not overlapping. */
export class Edits {
  /** start, end of each edit, in pairs. */
  readonly spans: number[] = [];
  readonly reps: string[] = [];

  get length(): number {
    return this.reps.length;
  }

  /** End of the last edit, or 0. */
  get lastEnd(): number {
    const n = this.spans.length;
    return n === 0 ? 0 : this.spans[n - 1]!;
  }

  add(start: number, end: number, rep: string): void {
    this.spans.push(start, end);
    this.reps.push(rep);
  }

  /** Adds an insertion at `pos`, before the edits already added that start there or later. */
  insertBefore(pos: number, rep: string): void {
    let k = this.reps.length;
    while (k > 0 && this.spans[2 * (k - 1)]! >= pos) k--;
    this.spans.splice(2 * k, 0, pos, pos);
    this.reps.splice(k, 0, rep);
  }

  /** Drops the edits that start at `pos` or later (text from there is fed again). */
  dropFrom(pos: number): void {
    while (this.spans.length > 0 && this.spans[this.spans.length - 2]! >= pos) {
      this.spans.length -= 2;
      this.reps.length -= 1;
    }
  }

  clear(): void {
    this.spans.length = 0;
    this.reps.length = 0;
  }

  /** text[from, to) with the edits applied (all of them must lie in that range). */
  applyToString(text: string, from: number, to: number): string {
    const n = this.reps.length;
    if (n === 0) return from === 0 && to === text.length ? text : text.slice(from, to);
    const spans = this.spans;
    // join, not +=: Buffer.from would first have to flatten a rope of n pieces.
    const parts: string[] = [];
    let at = from;
    for (let k = 0; k < n; k++) {
      parts.push(text.slice(at, spans[2 * k]!), this.reps[k]!);
      at = spans[2 * k + 1]!;
    }
    parts.push(text.slice(at, to));
    return parts.join('');
  }

  /**
   * bytes[0, to) with the edits applied, as Buffers to send in order: slices of `bytes` where
   * nothing changed, or, past a few edits, one Buffer made from `text` (the same bytes held as latin1).
   */
  applyToBytes(bytes: Buffer, text: string, to: number): Buffer[] {
    const n = this.reps.length;
    if (n === 0) return to > 0 ? [to === bytes.length ? bytes : bytes.subarray(0, to)] : [];
    if (2 * n + 1 > MAX_PIECES) return [Buffer.from(this.applyToString(text, 0, to), 'latin1')];
    const spans = this.spans;
    const out: Buffer[] = [];
    let at = 0;
    for (let k = 0; k < n; k++) {
      const s = spans[2 * k]!;
      if (s > at) out.push(bytes.subarray(at, s));
      const rep = this.reps[k]!;
      if (rep.length > 0) out.push(Buffer.from(rep, 'latin1'));
      at = spans[2 * k + 1]!;
    }
    if (to > at) out.push(bytes.subarray(at, to));
    return out;
  }
}
