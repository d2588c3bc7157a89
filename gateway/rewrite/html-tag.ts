// The tag tokenizer (HTML standard, "tag name" to "after attribute value (quoted)" states) over a
// tag held whole: attribute offsets for tags whose attributes matter, only the end for the others,
// and a resumable form for tags too long to hold.

import { attributeId, bit } from './html-attribute-names.js';
import { C_ATTR_NAME_END, C_NAME_END, C_UNQUOTED_END, C_WS, CLASS, isWs, sameName } from './html-syntax.js';

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
export const ATTR_FIELDS = 6;

/** One tag's tokens: where its name ends, whether it is self-closing, and the offsets of its known attributes. */
export class TagTokens {
  nameEnd = 0;
  selfClosing = false;
  /** Number of attributes in `attrs`: those with a known name (html-attribute-names.ts), in order. */
  count = 0;
  /** ATTR_FIELDS numbers per attribute. */
  readonly attrs: number[] = [];
  /** The set of attribute ids in `attrs`. */
  seen = 0;
  /** Index in `attrs` of the first attribute of each id in `seen` (the one that counts). */
  readonly first: number[] = new Array<number>(32).fill(0);
  /** Whether the tag passed over by the last `skip` has an attribute named style. */
  hasStyle = false;

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

  /** Like `parse` without recording anything but `hasStyle` (self-closing is not told). */
  skip(text: string, limit: number): number {
    let j = this.nameEnd;
    let c = 0;
    let style = false;
    for (;;) {
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === GT) {
        this.hasStyle = style;
        return j + 1;
      }
      if (c === SLASH) {
        if (j + 1 >= limit) return -1;
        if (text.charCodeAt(j + 1) === GT) {
          this.hasStyle = style;
          return j + 2;
        }
        j++;
        continue;
      }
      const ns = j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_ATTR_NAME_END) === 0) j++;
      if (j - ns === 5 && (c | 0x20) === 0x73 && sameName(text, ns, j, 'style')) style = true;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      if (text.charCodeAt(j) !== EQ) continue;
      j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === DQ || c === SQ) {
        const e = text.indexOf(c === DQ ? '"' : "'", j + 1);
        if (e < 0 || e >= limit) return -1;
        j = e + 1;
        continue;
      }
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_UNQUOTED_END) === 0) j++;
      if (j >= limit) return -1;
    }
  }
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
