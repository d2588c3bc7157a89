// The scanner's fast path: one run of a WebAssembly scanner (wasm/fast-skip.ts, built into
// fast-skip-wasm.ts) over the markup a rewriter that keeps relative URLs is certain to leave
// alone, so that most of a page never reaches the tag tokenizer (html-tag.ts). It skips text, and
// start and end tags of HTML content whose every attribute is plainly harmless: a URL attribute
// whose value cannot be absolute, a style attribute without `(`, `@` or a character reference, an
// event handler without `top` or a character reference, any other attribute with any value. It
// stops before everything else, which the scanner then handles as before: comments and other
// `<!`/`<?` markup, `<` that does not open a tag, tags that switch the tokenizer (script, style,
// raw text, plaintext, SVG, MathML), tags whose meaning depends on several attributes (link, meta,
// base), attributes it cannot judge cheaply (a value with a scheme's colon, `//`, a backslash, a
// character reference, a non-ASCII byte), odd spellings (a quote or `<` in a name, `=` without a
// value) and a tag that does not end in the text it was given. Stopping early is always safe: the
// slow path is the reference, and test/unit/html-fast-skip.test.ts checks that both give the same
// bytes on generated hostile markup at every chunk split, and that the scanner answers as the
// regular expression of test/helpers/fast-skip-reference.ts (the grammar written out) does.
//
// Why WebAssembly: the expression, compiled to native code by irregexp, cost ~50 µs per 50 KB page
// alone and ~100 µs inside the loaded gateway; the scanner ~35 and ~60 (bench/README.md, session
// 16). A byte loop in JavaScript was slower than the expression (charCodeAt on a string, or reads
// of a Uint8Array: 90-180 µs).

import { FAST_SKIP_WASM } from './fast-skip-wasm.js';

// The gateway's lib (ES2023, no DOM) has no WebAssembly types: what is used of it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

interface FastSkipExports {
  memory: { buffer: ArrayBuffer };
  input(): number;
  capacity(): number;
  skip(i: number, len: number): number;
}

const scanner = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(FAST_SKIP_WASM, 'base64'))).exports as unknown as FastSkipExports;
/** The module's memory does not grow after its start: one view of it serves every call. */
const memory = Buffer.from(scanner.memory.buffer);
const INPUT = scanner.input();
const CAPACITY = scanner.capacity();

/** What the module's input holds: text[from, to) of the text with this ticket. */
let loadedTicket = 0;
let from = 0;
let to = 0;
let tickets = 0;

/**
 * A new ticket: the identity of one text for skipPlainMarkup. Strings compare by value, so a
 * scanner names its text by a ticket instead; comparing the text with the one loaded before cost a
 * full compare of both whenever two chunks were alike (every page of a site sharing its head, the
 * same page for each participant): ~26 µs per 50 KB page alone, more than the scan (bench/README.md).
 */
export function textTicket(): number {
  tickets = (tickets + 1) | 0 || 1;
  return tickets;
}

/**
 * skipPlainMarkup over bytes (each a latin1 character) instead of a string: the same answers, with
 * the bytes copied into the module as they are, so that a rewriter need not make a string of the
 * markup the fast path crosses (html-rewriter.ts).
 */
export function skipPlainBytes(bytes: Uint8Array, i: number, ticket = textTicket()): number {
  const n = bytes.length;
  if (i >= n) return n;
  if (mustLoad(n, i, ticket)) memory.set(from === 0 && to === n ? bytes : bytes.subarray(from, to), INPUT);
  return from + scanner.skip(i - from, to - from);
}

/**
 * Where the plain markup of text (bytes held as a latin1 string) starting at `i` ends (i itself
 * when there is none), in HTML content (no SVG/MathML element open), for a rewriter that keeps
 * relative URLs. `ticket` (textTicket()) names the text: it is copied into the module once per
 * ticket (a page's chunk is scanned from several places); without one the text is copied for this
 * call. A text longer than the module's input (1 MiB) is scanned a window at a time, and a tag cut
 * by a window's end is left to the slow path.
 */
export function skipPlainMarkup(text: string, i: number, ticket = textTicket()): number {
  const n = text.length;
  if (i >= n) return n;
  if (mustLoad(n, i, ticket)) memory.write(from === 0 && to === n ? text : text.slice(from, to), INPUT, 'latin1');
  return from + scanner.skip(i - from, to - from);
}

/** Whether the window of a text of n characters with this ticket for a scan from i must be copied in; it becomes [from, to). */
function mustLoad(n: number, i: number, ticket: number): boolean {
  if (ticket === loadedTicket && i >= from && i < to) return false;
  from = i;
  to = Math.min(n, i + CAPACITY);
  loadedTicket = ticket;
  return true;
}
