// The HTML scanner's fast path, in AssemblyScript (wasm/names.ts judges tag and attribute names),
// compiled by scripts/build-wasm.mjs into gateway/rewrite/fast-skip-wasm.ts, which
// gateway/rewrite/html-fast-skip.ts loads. It decides what
// the regular expression of test/helpers/fast-skip-reference.ts decides, byte for byte, over bytes
// the caller copies into linear memory: text, and start and end tags of HTML content whose every
// attribute is plainly harmless, are skipped; it stops before everything else (see
// html-fast-skip.ts for the rules). test/unit/html-fast-skip.test.ts checks that both give the same
// answer on generated hostile markup at every offset.
//
// Text runs and quoted values are crossed 16 bytes at a time (SIMD); the rest is a byte-level
// state machine with a class table. Positions are absolute addresses in memory; 0 means "fails".

import { K_HANDLER, K_LIST, K_OTHER, K_STYLE, K_URL, NAME_TABLES, W_HREF, W_XLINK, is, kindQuick, low, setUpNames, stopQuick } from './names';

const LT: u32 = 0x3c;
const GT: u32 = 0x3e;
const SLASH: u32 = 0x2f;
const EQ: u32 = 0x3d;
const DQ: u32 = 0x22;
const SQ: u32 = 0x27;
const COLON: u32 = 0x3a;
const AMP: u32 = 0x26;
const BSL: u32 = 0x5c;

// Byte classes (bits of the table).
/** \t \n \f \r and space. */
const WS: u32 = 1;
/** Ends a tag name: whitespace / > " ' < = */
const NAME_END: u32 = 2;
/** Ends an attribute name: NAME_END and `:`. */
const ATTR_NAME_END: u32 = 4;
/** May be in an unquoted URL value. */
const URL_UNQ: u32 = 8;
/** May be in an unquoted style value. */
const STYLE_UNQ: u32 = 16;
/** Scheme characters, as the URL parser reads them (tabs and newlines are removed): a-z A-Z 0-9 + . - \t \n \r */
const SCHEME: u32 = 32;
/** Must not be in a list value: : & \ < C0 controls but \t \n \f \r, and \x80-\xff. */
const LIST_BAD: u32 = 64;
const ALPHA: u32 = 128;

/** Largest input, in bytes: a longer text is scanned a window at a time by the caller. */
const WINDOW: usize = 1 << 20;
/** The class table, then the input with 16 bytes of slack for the vector loads that cross its end. */
// Fixed addresses, not computed from __heap_base: a computed one is a global, loaded again at
// every byte of the scan's loops (the class table's address at each cls()). names.ts's tables sit
// below TABLE, at NAME_TABLES, and the module's static data (the words' strings) below them: setUp
// checks it.
const TABLE: usize = 0x10000;
const INPUT: usize = TABLE + 256;

function setUp(): void {
  if (__heap_base > NAME_TABLES) unreachable();
  const need = <i32>((INPUT + WINDOW + 16 + 0xffff) >> 16);
  if (memory.size() < need) memory.grow(need - memory.size());
  for (let c: u32 = 0; c < 256; c++) {
    let b: u32 = 0;
    const ws = c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d || c == 0x20;
    if (ws) b |= WS;
    if (ws || c == SLASH || c == GT || c == DQ || c == SQ || c == LT || c == EQ) b |= NAME_END | ATTR_NAME_END;
    if (c == COLON) b |= ATTR_NAME_END;
    const unsafe = c == COLON || c == AMP || c == BSL || c == LT || c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1f) || c >= 0x80;
    if (unsafe) b |= LIST_BAD;
    const plain = !ws && c != GT && c != DQ && c != SQ && c != EQ && c != 0x60;
    if (plain && !unsafe) b |= URL_UNQ;
    if (plain && c != 0x28 && c != 0x40 && c != AMP) b |= STYLE_UNQ;
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alpha) b |= ALPHA;
    if (alpha || (c >= 0x30 && c <= 0x39) || c == 0x2b || c == 0x2e || c == 0x2d || c == 0x09 || c == 0x0a || c == 0x0d) b |= SCHEME;
    store<u8>(TABLE + c, b);
  }
  setUpNames();
}
setUp();

/** Where the caller copies its input. */
export function input(): usize {
  return INPUT;
}

/** The largest input. */
export function capacity(): usize {
  return WINDOW;
}

// @ts-ignore: decorator
@inline
function at(p: usize): u32 {
  return load<u8>(p);
}

// @ts-ignore: decorator
@inline
function cls(p: usize): u32 {
  return load<u8>(TABLE + load<u8>(p));
}

/** The first byte c from p on, or end. */
// @ts-ignore: decorator
@inline
function find(p: usize, end: usize, c: u32): usize {
  const needle = i8x16.splat(<i8>c);
  while (p < end) {
    const m = i8x16.bitmask(i8x16.eq(v128.load(p), needle));
    if (m != 0) {
      const q = p + <usize>ctz(m);
      return q < end ? q : end;
    }
    p += 16;
  }
  return end;
}

/**
 * The first byte of class `end` from p on: a name's end. The caller's text ends with a sentinel of
 * every class that ends a name (skip's space), so there is no bound to test; four bytes a turn,
 * because each turn of a loop also tests the stack's limit.
 */
// @ts-ignore: decorator
@inline
function nameEnd(p: usize, end: u32): usize {
  for (;;) {
    if ((cls(p) & end) != 0) return p;
    if ((cls(p + 1) & end) != 0) return p + 1;
    if ((cls(p + 2) & end) != 0) return p + 2;
    if ((cls(p + 3) & end) != 0) return p + 3;
    p += 4;
  }
  return unreachable();
}

/** An event handler's value [s, e) holds `top` (any case) or `&`: it may reference the top window. */
function mentionsTop(s: usize, e: usize): bool {
  for (let k = s; k < e; k++) {
    const c = at(k);
    if (c == AMP) return true;
    if ((c | 0x20) == 0x74 && k + 2 < e && low(k + 1) == 0x6f && low(k + 2) == 0x70) return true;
  }
  return false;
}

/** A quoted single URL [s, e) that is certainly relative (relative-url.ts's mayBeAbsolute, from how it starts). */
function relativeUrl(s: usize, e: usize): bool {
  let j = s;
  while (j < e && at(j) <= 0x20) j++;
  if (j == e) return true;
  const c = at(j);
  if ((cls(j) & ALPHA) != 0) {
    j++;
    while (j < e && (cls(j) & SCHEME) != 0) j++;
    if (j == e) return true;
    const d = at(j);
    return d != COLON && d != AMP && d != BSL;
  }
  if (c == SLASH) {
    j++;
    for (;;) {
      if (j == e) return true;
      const d = at(j);
      if (d != 0x09 && d != 0x0a && d != 0x0d) return d != SLASH && d != BSL && d != AMP;
      j++;
    }
  }
  return c != AMP && c != BSL && c < 0x80;
}

/** A quoted list value [s, e): no LIST_BAD byte, and no `//` (tabs and newlines between the slashes count). */
function relativeList(s: usize, e: usize): bool {
  let slash = false;
  for (let j = s; j < e; j++) {
    if ((cls(j) & LIST_BAD) != 0) return false;
    const c = at(j);
    if (c == SLASH) {
      if (slash) return false;
      slash = true;
    } else if (slash && c != 0x09 && c != 0x0a && c != 0x0d) slash = false;
  }
  return true;
}

/** A quoted style value [s, e) without `(`, `@` or `&`. */
function plainStyle(s: usize, e: usize): bool {
  for (let j = s; j < e; j++) {
    const c = at(j);
    if (c == 0x28 || c == 0x40 || c == AMP) return false;
  }
  return true;
}

/** Where an unquoted value of bytes of class `ok` from s ends (whitespace or `>` must follow, before n), or 0. */
function unquotedEnd(s: usize, n: usize, ok: u32): usize {
  for (let j = s; j < n; j++) {
    const k = cls(j);
    if ((k & ok) == 0) return j > s && ((k & WS) != 0 || at(j) == GT) ? j : 0;
  }
  return 0;
}

/** Where the attribute at p (not a separator, not `>`) ends, or 0 when the fast path must stop. */
function attribute(p: usize, n: usize, endTag: bool): usize {
  // The byte at n is a space (skip's sentinel): no bound test in the name's loop.
  let e = nameEnd(p, ATTR_NAME_END);
  if (e >= n || e == p) return 0;
  let c = at(e);
  let kind: i32;
  if (c == COLON) {
    // Only xlink:href has a colon in its name here.
    if (endTag || e - p != 5 || !is(p, 5, W_XLINK) || !is(e + 1, 4, W_HREF)) return 0;
    e += 5;
    if (e >= n) return 0;
    c = at(e);
    if ((cls(e) & NAME_END) == 0 || c == DQ || c == SQ || c == LT) return 0;
    kind = K_URL;
  } else {
    if (c == DQ || c == SQ || c == LT) return 0;
    kind = endTag ? K_OTHER : kindQuick(p, <i32>(e - p));
  }
  let g = e;
  if (c == EQ && e + 1 < n && (cls(e + 1) & WS) == 0) {
    // name=value, the usual spelling: no whitespace to cross.
    g = e + 1;
  } else {
    while (g < n && (cls(g) & WS) != 0) g++;
    if (g >= n || at(g) != EQ) return e;
    g++;
    while (g < n && (cls(g) & WS) != 0) g++;
    if (g >= n) return 0;
  }
  const q = at(g);
  if (q == DQ || q == SQ) {
    const close = find(g + 1, n, q);
    if (close >= n) return 0;
    switch (kind) {
      case K_OTHER:
        return close + 1;
      case K_HANDLER:
        return mentionsTop(g + 1, close) ? 0 : close + 1;
      case K_URL:
        return relativeUrl(g + 1, close) ? close + 1 : 0;
      case K_LIST:
        return relativeList(g + 1, close) ? close + 1 : 0;
      default:
        return plainStyle(g + 1, close) ? close + 1 : 0;
    }
  }
  if (q == GT) return 0;
  if (kind == K_OTHER || kind == K_HANDLER) {
    let j = g + 1;
    while (j < n && at(j) != GT && (cls(j) & WS) == 0) j++;
    if (j >= n) return 0;
    return kind == K_HANDLER && mentionsTop(g, j) ? 0 : j;
  }
  if (kind == K_STYLE) return unquotedEnd(g, n, STYLE_UNQ);
  if (q == SLASH && g + 1 < n && at(g + 1) == SLASH) return 0;
  return unquotedEnd(g, n, URL_UNQ);
}

/** Where the plain tag at lt ends (after its `>`), or 0. */
function plainTag(lt: usize, n: usize): usize {
  let p = lt + 1;
  if (p >= n) return 0;
  const endTag = at(p) == SLASH;
  if (endTag && ++p >= n) return 0;
  if ((cls(p) & ALPHA) == 0) return 0;
  const nameStart = p++;
  p = nameEnd(p, NAME_END);
  if (p >= n) return 0;
  if (!endTag && stopQuick(nameStart, <i32>(p - nameStart))) return 0;
  for (;;) {
    const sep = p;
    let c: u32 = 0;
    while (p < n) {
      c = at(p);
      if (c != SLASH && (cls(p) & WS) == 0) break;
      p++;
    }
    if (p >= n) return 0;
    if (c == GT) return p + 1;
    if (p == sep) return 0;
    p = attribute(p, n, endTag);
    if (p == 0) return 0;
  }
  return unreachable();
}

/** Where the plain markup of the input (length len) from offset i ends. */
export function skip(i: i32, len: i32): i32 {
  let p = INPUT + <usize>i;
  const n = INPUT + <usize>len;
  // A sentinel past the text, in the slack: every name loop stops there (a space ends a name).
  store<u8>(n, 0x20);
  for (;;) {
    if (p >= n) return len;
    if (at(p) != LT) {
      p = find(p, n, LT);
      if (p >= n) return len;
    }
    const r = plainTag(p, n);
    if (r == 0) return <i32>(p - INPUT);
    p = r;
  }
  return unreachable();
}
