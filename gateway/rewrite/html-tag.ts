// The tag tokenizer (HTML standard, "tag name" to "after attribute value (quoted)" states) over a
// tag held whole: the offsets of the attributes the rewriter knows (by id) for tags whose
// attributes matter, only the end for the others, and a resumable form for tags too long to hold.
// Everything the per-character loops use is in this file (see html-syntax.ts).

import { isWs } from './html-syntax.js';

const C_WS = 1;
const C_NAME_END = 2;
const C_ATTR_NAME_END = 4;
const C_UNQUOTED_END = 8;
/** Character classes of the tag tokenizer, indexed by byte. */
const CLASS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x09, 0x0d, 0x0c]) CLASS[c] = C_WS | C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[0x2f] = C_NAME_END | C_ATTR_NAME_END;
CLASS[0x3e] = C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[0x3d] = C_ATTR_NAME_END;

/** A cheap hash of a name from its length and first, second and last characters, case-folded; < 1024. */
function nameHash(text: string, s: number, e: number): number {
  const second = e - s > 1 ? text.charCodeAt(s + 1) | 0x20 : 0;
  return ((e - s) ^ ((text.charCodeAt(s) | 0x20) * 3) ^ (text.charCodeAt(e - 1) | 0x20) ^ (second << 1)) & 1023;
}

/** A key of a name from its length (up to 15) and first letter in either case; < 512. Names with different keys differ. */
function nameKey(text: string, s: number, e: number): number {
  const n = e - s;
  return (Math.min(n, 15) << 5) | (text.charCodeAt(s) & 31);
}

/** Whether text[s, e) is `lower` in any ASCII case. */
function sameName(text: string, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(s + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Ids of the known attributes (0 stands for any other). */
export const ATTR = {
  HREF: 1,
  SRC: 2,
  SRCSET: 3,
  IMAGESRCSET: 4,
  ACTION: 5,
  FORMACTION: 6,
  POSTER: 7,
  PING: 8,
  DATA: 9,
  BACKGROUND: 10,
  XLINK_HREF: 11,
  CONTENT: 12,
  HTTP_EQUIV: 13,
  REL: 14,
  AS: 15,
  INTEGRITY: 16,
  SRCDOC: 17,
  STYLE: 18,
  ENCODING: 19,
  COLOR: 20,
  FACE: 21,
  SIZE: 22,
  TYPE: 23,
  NONCE: 24,
  /** Any event handler attribute (a name starting with `on`): its value is script (see js-top.ts). */
  HANDLER: 25,
  ALLOW: 26,
} as const;

/** Lowercase attribute names by id. */
export const ATTR_NAMES: readonly string[] = [
  '',
  'href',
  'src',
  'srcset',
  'imagesrcset',
  'action',
  'formaction',
  'poster',
  'ping',
  'data',
  'background',
  'xlink:href',
  'content',
  'http-equiv',
  'rel',
  'as',
  'integrity',
  'srcdoc',
  'style',
  'encoding',
  'color',
  'face',
  'size',
  'type',
  'nonce',
  // HANDLER: found by its prefix, not by name.
  '',
  'allow',
];

/** Finds a name of a fixed list (lowercase) in scanned text, in any ASCII case. */
export class NameTable {
  /** nameKey of some listed name. */
  private readonly keys = new Uint8Array(512);
  private readonly firstByHash = new Int16Array(1024).fill(-1);
  private readonly nextSameHash: Int16Array;

  /** `names[i]` is found as i; '' entries are never found. */
  constructor(readonly names: readonly string[]) {
    this.nextSameHash = new Int16Array(names.length).fill(-1);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === '') continue;
      const h = nameHash(name, 0, name.length);
      this.nextSameHash[i] = this.firstByHash[h]!;
      this.firstByHash[h] = i;
      this.keys[nameKey(name, 0, name.length)] = 1;
    }
  }

  /** Index of the name text[s, e) (s < e), or -1. */
  find(text: string, s: number, e: number): number {
    if (this.keys[nameKey(text, s, e)] === 0) return -1;
    for (let i = this.firstByHash[nameHash(text, s, e)]!; i >= 0; i = this.nextSameHash[i]!) {
      if (sameName(text, s, e, this.names[i]!)) return i;
    }
    return -1;
  }
}

const ATTRIBUTES = new NameTable(ATTR_NAMES);

/** Id of the attribute named text[s, e) in any case (HANDLER for `on...`), or 0. */
function attributeId(text: string, s: number, e: number): number {
  const id = ATTRIBUTES.find(text, s, e);
  if (id > 0) return id;
  return isHandlerName(text, s, e) ? ATTR.HANDLER : 0;
}

/** Whether text[s, e) names an event handler attribute (`on` and more, in any case). */
function isHandlerName(text: string, s: number, e: number): boolean {
  return e - s > 2 && (text.charCodeAt(s) | 0x20) === 0x6f && (text.charCodeAt(s + 1) | 0x20) === 0x6e;
}

/** The set bit of attribute id `id`. */
export const bit = (id: number): number => 1 << id;

const DQ = 0x22;
const SQ = 0x27;
const SLASH = 0x2f;
const EQ = 0x3d;
const GT = 0x3e;

/** Quote of an attribute without a value. */
export const Q_NONE = -1;
/** Quote of an unquoted value (quoted ones record the quote's character code). */
export const Q_UNQUOTED = 0;

/** Fields per attribute in TagTokens.attrs: name start, name end, value start, value end, quote, attribute id. */
const ATTR_FIELDS = 6;

/** One tag's tokens: where its name ends, whether it is self-closing, and the offsets of its known attributes. */
export class TagTokens {
  nameEnd = 0;
  selfClosing = false;
  /** Number of attributes in `attrs`: those with a known name (ATTR_NAMES), in order. */
  count = 0;
  /** ATTR_FIELDS numbers per attribute (read them with the methods below). */
  private readonly attrs: number[] = [];
  /** The set of attribute ids in `attrs`. */
  seen = 0;
  /** Index in `attrs` of the first attribute of each id in `seen` (the one that counts; every HANDLER counts). */
  readonly first: number[] = new Array<number>(32).fill(0);
  /** Whether the tag passed over by the last `skip` has a style attribute or event handlers that may need rewriting. */
  rewritable = false;

  /** Attribute k's id. */
  id(k: number): number {
    return this.attrs[k * ATTR_FIELDS + 5]!;
  }

  /** Where attribute k's name starts. */
  nameStartOf(k: number): number {
    return this.attrs[k * ATTR_FIELDS]!;
  }

  /** Where attribute k's name ends. */
  nameEndOf(k: number): number {
    return this.attrs[k * ATTR_FIELDS + 1]!;
  }

  /** Where attribute k's value starts (inside its quotes). */
  valueStart(k: number): number {
    return this.attrs[k * ATTR_FIELDS + 2]!;
  }

  /** Where attribute k's value ends (before its closing quote). */
  valueEnd(k: number): number {
    return this.attrs[k * ATTR_FIELDS + 3]!;
  }

  /** Attribute k's quote: Q_NONE, Q_UNQUOTED, or the quote's character code. */
  quote(k: number): number {
    return this.attrs[k * ATTR_FIELDS + 4]!;
  }

  /** Finds the end of the tag name starting at s; false if it does not end before `limit`. */
  scanName(text: string, s: number, limit: number): boolean {
    let j = s;
    while (j < limit && (CLASS[text.charCodeAt(j)]! & C_NAME_END) === 0) j++;
    this.nameEnd = j;
    return j < limit;
  }

  /**
   * Tokenizes the attributes from `nameEnd` to the closing '>', recording the known ones; the
   * index after '>', or -1 if it is not before `limit` (then nothing recorded counts).
   */
  parse(text: string, limit: number): number {
    let j = this.nameEnd;
    let c = 0;
    this.selfClosing = false;
    const attrs = this.attrs;
    const first = this.first;
    let n = 0;
    let seen = 0;
    for (;;) {
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === GT) {
        this.count = n;
        this.seen = seen;
        return j + 1;
      }
      if (c === SLASH) {
        if (j + 1 >= limit) return -1;
        if (text.charCodeAt(j + 1) === GT) {
          this.selfClosing = true;
          this.count = n;
          this.seen = seen;
          return j + 2;
        }
        j++;
        continue;
      }
      const ns = j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_ATTR_NAME_END) === 0) j++;
      const ne = j;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      const id = attributeId(text, ns, ne);
      const o = n * ATTR_FIELDS;
      if (id !== 0) {
        attrs[o] = ns;
        attrs[o + 1] = ne;
        attrs[o + 5] = id;
        if ((seen & bit(id)) === 0) {
          seen |= bit(id);
          first[id] = n;
        }
        n++;
      }
      if (text.charCodeAt(j) !== EQ) {
        if (id !== 0) {
          attrs[o + 2] = ne;
          attrs[o + 3] = ne;
          attrs[o + 4] = Q_NONE;
        }
        continue;
      }
      j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === DQ || c === SQ) {
        const e = text.indexOf(c === DQ ? '"' : "'", j + 1);
        if (e < 0 || e >= limit) return -1;
        if (id !== 0) {
          attrs[o + 2] = j + 1;
          attrs[o + 3] = e;
          attrs[o + 4] = c;
        }
        j = e + 1;
        continue;
      }
      const vs = j;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_UNQUOTED_END) === 0) j++;
      if (j >= limit) return -1;
      if (id !== 0) {
        attrs[o + 2] = vs;
        attrs[o + 3] = j;
        attrs[o + 4] = Q_UNQUOTED;
      }
    }
  }

  /** Like `parse` without recording anything but `rewritable` (self-closing is not told). */
  skip(text: string, limit: number): number {
    let j = this.nameEnd;
    let c = 0;
    // The first style attribute is the one that counts: 0 before it, 1 at it, 2 after it.
    let style = 0;
    let styleMatters = false;
    // The attribute being read is an event handler; one of them may reference the top window.
    let handler = false;
    let handlerMatters = false;
    for (;;) {
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === GT) {
        this.rewritable = styleMatters || handlerMatters;
        return j + 1;
      }
      if (c === SLASH) {
        if (j + 1 >= limit) return -1;
        if (text.charCodeAt(j + 1) === GT) {
          this.rewritable = styleMatters || handlerMatters;
          return j + 2;
        }
        j++;
        continue;
      }
      const ns = j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_ATTR_NAME_END) === 0) j++;
      if (style === 0 && j - ns === 5 && (c | 0x20) === 0x73 && sameName(text, ns, j, 'style')) style = 1;
      handler = isHandlerName(text, ns, j);
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      if (text.charCodeAt(j) !== EQ) {
        if (style === 1) style = 2;
        continue;
      }
      j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === DQ || c === SQ) {
        const e = text.indexOf(c === DQ ? '"' : "'", j + 1);
        if (e < 0 || e >= limit) return -1;
        if (style === 1) {
          styleMatters = mayHoldCssUrl(text, j + 1, e);
          style = 2;
        }
        if (handler && mayReferenceTop(text, j + 1, e)) handlerMatters = true;
        j = e + 1;
        continue;
      }
      const vs = j;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_UNQUOTED_END) === 0) j++;
      if (j >= limit) return -1;
      if (style === 1) {
        styleMatters = mayHoldCssUrl(text, vs, j);
        style = 2;
      }
      if (handler && mayReferenceTop(text, vs, j)) handlerMatters = true;
    }
  }
}

/** Whether a raw event handler value may reference the top window: the word `top`, or a character reference that could spell it. */
export function mayReferenceTop(text: string, s: number, e: number): boolean {
  const t = text.indexOf('top', s);
  if (t !== -1 && t + 3 <= e) return true;
  const a = text.indexOf('&', s);
  return a !== -1 && a < e;
}

/** Whether a raw style value may hold a url() or @import: a '(' or '@', or a character reference that could spell one. */
function mayHoldCssUrl(text: string, s: number, e: number): boolean {
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x28 || c === 0x40 || c === 0x26) return true;
  }
  return false;
}

const T_NAME = 0;
const T_BEFORE_ATTR = 1;
const T_ATTR_NAME = 2;
const T_AFTER_ATTR_NAME = 3;
const T_BEFORE_VALUE = 4;
const T_DQ = 5;
const T_SQ = 6;
const T_UNQUOTED = 7;
const T_SELF_CLOSING = 8;

/** The tag tokenizer as a resumable state machine, for a tag too long to hold: it only finds the end. */
export class LongTag {
  /** Lowercase tag name (its first MAX_TOKEN bytes). */
  name = '';
  isEnd = false;
  selfClosing = false;
  private state = T_NAME;

  /** Starts on a tag whose name begins at `nameStart`. */
  begin(name: string, isEnd: boolean): void {
    this.name = name;
    this.isEnd = isEnd;
    this.state = T_NAME;
    this.selfClosing = false;
  }

  /** Runs over text[i, end); returns the index of the closing '>' or -1 when the tag goes on. */
  run(text: string, i: number, end: number): number {
    let st = this.state;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      switch (st) {
        case T_NAME:
        case T_ATTR_NAME:
          if (c === GT) return this.done(false, i);
          if (c === SLASH) st = T_SELF_CLOSING;
          else if (isWs(c)) st = st === T_NAME ? T_BEFORE_ATTR : T_AFTER_ATTR_NAME;
          else if (c === EQ && st === T_ATTR_NAME) st = T_BEFORE_VALUE;
          break;
        case T_BEFORE_ATTR:
        case T_AFTER_ATTR_NAME:
          if (c === GT) return this.done(false, i);
          if (c === SLASH) st = T_SELF_CLOSING;
          else if (c === EQ) st = st === T_BEFORE_ATTR ? T_ATTR_NAME : T_BEFORE_VALUE;
          else if (!isWs(c)) st = T_ATTR_NAME;
          break;
        case T_BEFORE_VALUE:
          if (c === GT) return this.done(false, i);
          if (c === DQ) st = T_DQ;
          else if (c === SQ) st = T_SQ;
          else if (!isWs(c)) st = T_UNQUOTED;
          break;
        case T_DQ:
          if (c === DQ) st = T_BEFORE_ATTR;
          break;
        case T_SQ:
          if (c === SQ) st = T_BEFORE_ATTR;
          break;
        case T_UNQUOTED:
          if (c === GT) return this.done(false, i);
          if (isWs(c)) st = T_BEFORE_ATTR;
          break;
        default:
          if (c === GT) return this.done(true, i);
          st = T_BEFORE_ATTR;
          i--;
      }
    }
    this.state = st;
    return -1;
  }

  private done(selfClosing: boolean, i: number): number {
    this.selfClosing = selfClosing;
    return i;
  }
}
