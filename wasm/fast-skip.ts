// The HTML scanner's fast path, in AssemblyScript (compiled by scripts/build-wasm.mjs into
// gateway/rewrite/fast-skip-wasm.ts; gateway/rewrite/html-fast-skip.ts loads it). It decides what
// the regular expression of test/helpers/fast-skip-reference.ts decides, byte for byte, over bytes
// the caller copies into linear memory: text, and start and end tags of HTML content whose every
// attribute is plainly harmless, are skipped; it stops before everything else (see
// html-fast-skip.ts for the rules). test/unit/html-fast-skip.test.ts checks that both give the same
// answer on generated hostile markup at every offset.
//
// Text runs and quoted values are crossed 16 bytes at a time (SIMD); the rest is a byte-level
// state machine with a class table. Positions are absolute addresses in memory; 0 means "fails".

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
// Fixed addresses, not computed from __heap_base: a computed one is a global, loaded again at every
// byte of the scan's loops (the class table's address at each cls()). The module's static data
// (the words' strings) stays below TABLE: setUp checks it.
const TABLE: usize = 0x10000;
const INPUT: usize = TABLE + 256;
/** Two tables of 26 u16 after the input's slack (KIND_LENGTHS, STOP_LENGTHS below). */
const KIND_LENGTHS: usize = INPUT + WINDOW + 16;

function setUp(): void {
  if (__heap_base > TABLE) unreachable();
  const need = <i32>((INPUT + WINDOW + 16 + 128 + 0xffff) >> 16);
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

// @ts-ignore: decorator
@inline
function low(p: usize): u32 {
  return load<u8>(p) | 0x20;
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

/** A lowercase ASCII word of up to 8 letters as a little-endian u64. */
function word(s: string): u64 {
  let v: u64 = 0;
  for (let k = 0; k < s.length; k++) v |= (<u64>s.charCodeAt(k)) << (<u64>(8 * k));
  return v;
}

/** The len (<= 8) bytes at p, ASCII-lowercased (`| 0x20`: only compared with words of letters), are w. */
function is(p: usize, len: i32, w: u64): bool {
  let v: u64 = 0;
  for (let k = 0; k < len; k++) v |= (<u64>(load<u8>(p + k) | 0x20)) << (<u64>(8 * k));
  return v == w;
}

const W_SCRIPT = word('script');
const W_STYLE = word('style');
const W_SVG = word('svg');
const W_TEXTAREA = word('textarea');
const W_TITLE = word('title');
const W_XMP = word('xmp');
const W_IFRAME = word('iframe');
const W_NOEMBED = word('noembed');
const W_NOFRAMES = word('noframes');
const W_NOSCRIPT = word('noscript');
const W_PLAINTEX = word('plaintex');
const W_MATH = word('math');
const W_META = word('meta');
const W_LINK = word('link');
const W_BASE = word('base');
const W_HREF = word('href');
const W_SRC = word('src');
const W_SRCSET = word('srcset');
const W_SRCDOC = word('srcdoc');
const W_ACTION = word('action');
const W_FORMACTI = word('formacti');
const W_ON = word('on');
const W_POSTER = word('poster');
const W_PING = word('ping');
const W_DATA = word('data');
const W_BACKGROU = word('backgrou');
const W_ND = word('nd');
const W_IMAGESRC = word('imagesrc');
const W_SET = word('set');
const W_CONTENT = word('content');
const W_XLINK = word('xlink');

/** Which (first letter, length) pairs of a start tag's name isStopElement may answer true for (as KIND_LENGTHS for kindOf). */
const STOP_LENGTHS: usize = KIND_LENGTHS + 64;

function setUpStops(): void {
  for (let k: usize = 0; k < 26; k++) store<u16>(STOP_LENGTHS + 2 * k, 0);
  const mark = (letter: u32, len: i32): void => {
    const at = STOP_LENGTHS + 2 * <usize>(letter - 0x61);
    store<u16>(at, load<u16>(at) | (<u16>1 << <u16>len));
  };
  mark(0x73, 6); // script
  mark(0x73, 5); // style
  mark(0x73, 3); // svg
  mark(0x74, 8); // textarea
  mark(0x74, 5); // title
  mark(0x78, 3); // xmp
  mark(0x69, 6); // iframe
  mark(0x6e, 7); // noembed
  mark(0x6e, 8); // noframes noscript
  mark(0x70, 9); // plaintext
  mark(0x6d, 4); // math meta
  mark(0x6c, 4); // link
  mark(0x62, 4); // base
}
setUpStops();

/** isStopElement, with the common false answered from STOP_LENGTHS (names of 15 letters and more are never stop elements). */
// @ts-ignore: decorator
@inline
function stopQuick(s: usize, len: i32): bool {
  const letter = low(s) - 0x61;
  if (letter >= 26 || len >= 15) return false;
  const lengths = <u32>load<u16>(STOP_LENGTHS + 2 * <usize>letter);
  return ((lengths >> <u32>len) & 1) != 0 && isStopElement(s, len);
}

/** Start tags never skipped: they switch the tokenizer or are rewritten from several attributes. */
function isStopElement(s: usize, len: i32): bool {
  switch (low(s)) {
    case 0x73: // s
      return (len == 6 && is(s, 6, W_SCRIPT)) || (len == 5 && is(s, 5, W_STYLE)) || (len == 3 && is(s, 3, W_SVG));
    case 0x74: // t
      return (len == 8 && is(s, 8, W_TEXTAREA)) || (len == 5 && is(s, 5, W_TITLE));
    case 0x78: // x
      return len == 3 && is(s, 3, W_XMP);
    case 0x69: // i
      return len == 6 && is(s, 6, W_IFRAME);
    case 0x6e: // n
      return (len == 7 && is(s, 7, W_NOEMBED)) || (len == 8 && (is(s, 8, W_NOFRAMES) || is(s, 8, W_NOSCRIPT)));
    case 0x70: // p
      return len == 9 && is(s, 8, W_PLAINTEX) && low(s + 8) == 0x74;
    case 0x6d: // m
      return len == 4 && (is(s, 4, W_MATH) || is(s, 4, W_META));
    case 0x6c: // l
      return len == 4 && is(s, 4, W_LINK);
    case 0x62: // b
      return len == 4 && is(s, 4, W_BASE);
  }
  return false;
}

const K_OTHER = 0;
/** One URL: href src action formaction poster data background (and xlink:href). */
const K_URL = 1;
/** A URL list or a document: srcset imagesrcset ping content srcdoc. */
const K_LIST = 2;
const K_STYLE = 3;
/** on + at least one more character. */
const K_HANDLER = 4;

/**
 * Which (first letter, length) pairs kindOf may answer other than K_OTHER for: bit `len` (15 for 15
 * and more) of the entry of the letter, so that most attributes (class, id, alt, width, data-*) are
 * judged without kindOf's dispatch on the first letter, which was mispredicted at many attributes.
 */

function setUpKinds(): void {
  for (let k: usize = 0; k < 26; k++) store<u16>(KIND_LENGTHS + 2 * k, 0);
  const mark = (letter: u32, len: i32): void => {
    const at = KIND_LENGTHS + 2 * <usize>(letter - 0x61);
    store<u16>(at, load<u16>(at) | (<u16>1 << <u16>len));
  };
  mark(0x68, 4); // href
  mark(0x73, 3); // src
  mark(0x73, 6); // srcset srcdoc
  mark(0x73, 5); // style
  mark(0x61, 6); // action
  mark(0x66, 10); // formaction
  mark(0x70, 6); // poster
  mark(0x70, 4); // ping
  mark(0x64, 4); // data
  mark(0x62, 10); // background
  mark(0x69, 11); // imagesrcset
  mark(0x63, 7); // content
  for (let len = 3; len <= 15; len++) mark(0x6f, len); // on...
}
setUpKinds();

/** kindOf, with the common K_OTHER answered from KIND_LENGTHS. */
// @ts-ignore: decorator
@inline
function kindQuick(s: usize, len: i32): i32 {
  const letter = low(s) - 0x61;
  if (letter >= 26) return K_OTHER;
  const lengths = <u32>load<u16>(KIND_LENGTHS + 2 * <usize>letter);
  return ((lengths >> <u32>(len < 15 ? len : 15)) & 1) == 0 ? K_OTHER : kindOf(s, len);
}

function kindOf(s: usize, len: i32): i32 {
  switch (low(s)) {
    case 0x68: // h
      return len == 4 && is(s, 4, W_HREF) ? K_URL : K_OTHER;
    case 0x73: // s
      if (len == 3) return is(s, 3, W_SRC) ? K_URL : K_OTHER;
      if (len == 6) return is(s, 6, W_SRCSET) || is(s, 6, W_SRCDOC) ? K_LIST : K_OTHER;
      return len == 5 && is(s, 5, W_STYLE) ? K_STYLE : K_OTHER;
    case 0x61: // a
      return len == 6 && is(s, 6, W_ACTION) ? K_URL : K_OTHER;
    case 0x66: // f
      return len == 10 && is(s, 8, W_FORMACTI) && is(s + 8, 2, W_ON) ? K_URL : K_OTHER;
    case 0x70: // p
      if (len == 6) return is(s, 6, W_POSTER) ? K_URL : K_OTHER;
      return len == 4 && is(s, 4, W_PING) ? K_LIST : K_OTHER;
    case 0x64: // d
      return len == 4 && is(s, 4, W_DATA) ? K_URL : K_OTHER;
    case 0x62: // b
      return len == 10 && is(s, 8, W_BACKGROU) && is(s + 8, 2, W_ND) ? K_URL : K_OTHER;
    case 0x69: // i
      return len == 11 && is(s, 8, W_IMAGESRC) && is(s + 8, 3, W_SET) ? K_LIST : K_OTHER;
    case 0x63: // c
      return len == 7 && is(s, 7, W_CONTENT) ? K_LIST : K_OTHER;
    case 0x6f: // o
      return len >= 3 && low(s + 1) == 0x6e ? K_HANDLER : K_OTHER;
  }
  return K_OTHER;
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
