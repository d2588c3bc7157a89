// Names the fast path judges (wasm/fast-skip.ts imports this): tag names that stop it, and the
// kind of an attribute from its name, each first from a (first letter, length) table.

/** Where names.ts's tables are (below fast-skip.ts's class table; the module's static data stays below it). */
export const NAME_TABLES: usize = 0x8000;
/**
 * Two (first letter, length) tables at NAME_TABLES, one u16 per letter a-z: bit `len` (15
 * for 15 and more) is set when kindOf may answer other than K_OTHER for a name of that letter and
 * length (KIND_LENGTHS), or isStopElement true (STOP_LENGTHS, below). Most attributes (class, id,
 * alt, width, data-*) and tag names are so judged with one load and a bit test, without the
 * dispatch on the first letter, which was mispredicted at most names.
 */
const KIND_LENGTHS: usize = NAME_TABLES;

// @ts-ignore: decorator
@inline
export function low(p: usize): u32 {
  return load<u8>(p) | 0x20;
}

/** Marks names of `letter` (lowercase) and `len` letters in a (first letter, length) table. */
function markLength(table: usize, letter: u32, len: i32): void {
  const at = table + 2 * <usize>(letter - 0x61);
  store<u16>(at, load<u16>(at) | (<u16>1 << <u16>(len < 15 ? len : 15)));
}

/** The table marks the first letter (any case) and the length of the name [s, s + len). */
// @ts-ignore: decorator
@inline
function lengthMarked(table: usize, s: usize, len: i32): bool {
  const letter = low(s) - 0x61;
  if (letter >= 26) return false;
  return ((<u32>load<u16>(table + 2 * <usize>letter) >> <u32>(len < 15 ? len : 15)) & 1) != 0;
}

/** A lowercase ASCII word of up to 8 letters as a little-endian u64. */
function word(s: string): u64 {
  let v: u64 = 0;
  for (let k = 0; k < s.length; k++) v |= (<u64>s.charCodeAt(k)) << (<u64>(8 * k));
  return v;
}

/** The len (<= 8) bytes at p, ASCII-lowercased (`| 0x20`: only compared with words of letters), are w. */
export function is(p: usize, len: i32, w: u64): bool {
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
export const W_HREF = word('href');
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
export const W_XLINK = word('xlink');

/** Which (first letter, length) pairs of a start tag's name isStopElement may answer true for (see lengthMarked). */
const STOP_LENGTHS: usize = KIND_LENGTHS + 64;

function setUpStops(): void {
  markLength(STOP_LENGTHS, 0x73, 6); // script
  markLength(STOP_LENGTHS, 0x73, 5); // style
  markLength(STOP_LENGTHS, 0x73, 3); // svg
  markLength(STOP_LENGTHS, 0x74, 8); // textarea
  markLength(STOP_LENGTHS, 0x74, 5); // title
  markLength(STOP_LENGTHS, 0x78, 3); // xmp
  markLength(STOP_LENGTHS, 0x69, 6); // iframe
  markLength(STOP_LENGTHS, 0x6e, 7); // noembed
  markLength(STOP_LENGTHS, 0x6e, 8); // noframes noscript
  markLength(STOP_LENGTHS, 0x70, 9); // plaintext
  markLength(STOP_LENGTHS, 0x6d, 4); // math meta
  markLength(STOP_LENGTHS, 0x6c, 4); // link
  markLength(STOP_LENGTHS, 0x62, 4); // base
}

/** isStopElement, with the common false answered from STOP_LENGTHS. */
// @ts-ignore: decorator
@inline
export function stopQuick(s: usize, len: i32): bool {
  return lengthMarked(STOP_LENGTHS, s, len) && isStopElement(s, len);
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

export const K_OTHER = 0;
/** One URL: href src action formaction poster data background (and xlink:href). */
export const K_URL = 1;
/** A URL list or a document: srcset imagesrcset ping content srcdoc. */
export const K_LIST = 2;
export const K_STYLE = 3;
/** on + at least one more character. */
export const K_HANDLER = 4;

function setUpKinds(): void {
  markLength(KIND_LENGTHS, 0x68, 4); // href
  markLength(KIND_LENGTHS, 0x73, 3); // src
  markLength(KIND_LENGTHS, 0x73, 6); // srcset srcdoc
  markLength(KIND_LENGTHS, 0x73, 5); // style
  markLength(KIND_LENGTHS, 0x61, 6); // action
  markLength(KIND_LENGTHS, 0x66, 10); // formaction
  markLength(KIND_LENGTHS, 0x70, 6); // poster
  markLength(KIND_LENGTHS, 0x70, 4); // ping
  markLength(KIND_LENGTHS, 0x64, 4); // data
  markLength(KIND_LENGTHS, 0x62, 10); // background
  markLength(KIND_LENGTHS, 0x69, 11); // imagesrcset
  markLength(KIND_LENGTHS, 0x63, 7); // content
  for (let len = 3; len <= 15; len++) markLength(KIND_LENGTHS, 0x6f, len); // on...
}

/** kindOf, with the common K_OTHER answered from KIND_LENGTHS. */
// @ts-ignore: decorator
@inline
export function kindQuick(s: usize, len: i32): i32 {
  return lengthMarked(KIND_LENGTHS, s, len) ? kindOf(s, len) : K_OTHER;
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


/** Fills the tables (after the memory has grown to hold them). */
export function setUpNames(): void {
  setUpStops();
  setUpKinds();
}
