// Streaming HTML rewriter: a scanner, not a parser. It follows the tokenizer states that decide
// where markup is (tags, comments, raw text, script escapes, CDATA in foreign content), maps the
// URL attributes it knows, rewrites CSS in style attributes and <style>, inserts the sync script
// where HeadInjector did, and copies every other byte through. Bytes are held as latin1 strings so
// offsets are byte offsets for any ASCII-compatible charset.

import { Transform, type TransformCallback } from 'node:stream';
import { findInjectionPoint } from '../html-inject.js';
import { byteCodec, CssScanner, MAX_TOKEN, type TextCodec, UNICODE_CODEC } from './css-rewriter.js';
import { rewriteSrcset } from './srcset.js';

/** Where a URL was found: lowercase tag name and attribute name ('' for element text such as <style>). */
export interface HtmlUrlContext {
  tag: string;
  attr: string;
}

/** Maps one URL found in markup: the replacement, or null to leave it as it is. */
export type HtmlMapUrl = (url: string, context: HtmlUrlContext) => string | null;

/** Options of HtmlRewriteStream. */
export interface HtmlRewriteOptions {
  /** Called for every URL candidate; a throw counts as null. */
  mapUrl: HtmlMapUrl;
  /** Script tag inserted at the start of <head>. */
  snippet: Buffer;
  /** Charset of the document's bytes (default UTF-8). */
  charset?: string;
}

const MAX_PROLOGUE = 64 * 1024;
const MAX_SRCDOC_DEPTH = 8;
const MAX_FRAMES = 1024;

const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const BANG = 0x21;
const DQ = 0x22;
const SQ = 0x27;
const DASH = 0x2d;
const SLASH = 0x2f;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QUESTION = 0x3f;

const Q_NONE = -1;
const Q_UNQUOTED = 0;

const S_PROLOGUE = 0;
const S_DATA = 1;
const S_COMMENT = 2;
const S_BOGUS = 3;
const S_CDATA = 4;
const S_RAW = 5;
const S_SCRIPT = 6;
const S_STYLE = 7;
const S_SKIPTAG = 8;
const S_PLAIN = 9;

const T_NAME = 0;
const T_BEFORE_ATTR = 1;
const T_ATTR_NAME = 2;
const T_AFTER_ATTR_NAME = 3;
const T_BEFORE_VALUE = 4;
const T_DQ = 5;
const T_SQ = 6;
const T_UNQUOTED = 7;
const T_SELF_CLOSING = 8;

const A_HREF = 1;
const A_SRC = 2;
const A_SRCSET = 3;
const A_IMAGESRCSET = 4;
const A_ACTION = 5;
const A_FORMACTION = 6;
const A_POSTER = 7;
const A_PING = 8;
const A_DATA = 9;
const A_BACKGROUND = 10;
const A_XLINK_HREF = 11;
const A_CONTENT = 12;
const A_HTTP_EQUIV = 13;
const A_REL = 14;
const A_AS = 15;
const A_INTEGRITY = 16;
const A_SRCDOC = 17;
const A_STYLE = 18;
const A_ENCODING = 19;
const A_COLOR = 20;
const A_FACE = 21;
const A_SIZE = 22;

const ATTR_NAMES = [
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
];
/** Attribute id by nameHash; the known names do not collide, which is checked here. */
const ATTR_BY_HASH = new Uint8Array(1024);
for (let id = 1; id < ATTR_NAMES.length; id++) {
  const name = ATTR_NAMES[id]!;
  const h = nameHash(name, 0, name.length);
  if (ATTR_BY_HASH[h] !== 0) throw new Error(`attribute name hash collision: ${name}`);
  ATTR_BY_HASH[h] = id;
}

const bit = (id: number): number => 1 << id;

const TABLE_BACKGROUND = bit(A_BACKGROUND);
const HTML_WANT = new Map<string, number>([
  ['a', bit(A_HREF) | bit(A_PING)],
  ['area', bit(A_HREF) | bit(A_PING)],
  ['base', bit(A_HREF)],
  ['link', bit(A_HREF) | bit(A_IMAGESRCSET)],
  ['img', bit(A_SRC) | bit(A_SRCSET)],
  ['image', bit(A_SRC) | bit(A_SRCSET)],
  ['source', bit(A_SRC) | bit(A_SRCSET)],
  ['script', bit(A_SRC)],
  ['iframe', bit(A_SRC) | bit(A_SRCDOC)],
  ['frame', bit(A_SRC)],
  ['embed', bit(A_SRC)],
  ['track', bit(A_SRC)],
  ['audio', bit(A_SRC)],
  ['video', bit(A_SRC) | bit(A_POSTER)],
  ['input', bit(A_SRC) | bit(A_FORMACTION)],
  ['button', bit(A_FORMACTION)],
  ['form', bit(A_ACTION)],
  ['object', bit(A_DATA)],
  ['meta', bit(A_CONTENT)],
  ['body', TABLE_BACKGROUND],
  ['table', TABLE_BACKGROUND],
  ['thead', TABLE_BACKGROUND],
  ['tbody', TABLE_BACKGROUND],
  ['tfoot', TABLE_BACKGROUND],
  ['tr', TABLE_BACKGROUND],
  ['td', TABLE_BACKGROUND],
  ['th', TABLE_BACKGROUND],
]);
const FOREIGN_WANT = bit(A_HREF) | bit(A_XLINK_HREF);
const FONT_BREAKOUT = bit(A_COLOR) | bit(A_FACE) | bit(A_SIZE);

const LINK_RELS = new Set([
  'stylesheet',
  'preload',
  'modulepreload',
  'prefetch',
  'manifest',
  'icon',
  'apple-touch-icon',
  'apple-touch-icon-precomposed',
  'mask-icon',
]);

const RAW_TEXT = new Set(['textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);

/** Start tags that leave SVG/MathML content (HTML standard, "parsing main inforeign"). */
const BREAKOUT = new Set(
  'b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var'.split(
    ' ',
  ),
);
/** End tags of HTML-only elements; seen inside SVG/MathML they close it. */
const HTML_CLOSERS = new Set([
  ...BREAKOUT,
  ...'html form section article nav header footer main aside button label select option tbody thead tfoot tr td th caption details summary figure'.split(' '),
]);
const TO_SCRIPT = 1 << 24;
const TO_STYLE = 2 << 24;
const TO_RAW = 3 << 24;
const TO_PLAIN = 4 << 24;
const TO_FOREIGN = 5 << 24;
const WANT_MASK = (1 << 24) - 1;
/** HTML tag names that have URL attributes or change the tokenizer state: wanted attribute ids | transition. */
const TAG_INFO = new Map<string, number>(HTML_WANT);
TAG_INFO.set('script', (HTML_WANT.get('script') ?? 0) | TO_SCRIPT);
TAG_INFO.set('style', TO_STYLE);
TAG_INFO.set('plaintext', TO_PLAIN);
TAG_INFO.set('svg', TO_FOREIGN);
TAG_INFO.set('math', TO_FOREIGN);
for (const name of RAW_TEXT) TAG_INFO.set(name, (HTML_WANT.get(name) ?? 0) | TO_RAW);
/** nameHash of the names in TAG_INFO (other names may share a hash; they are looked up and not found). */
const TAG_HASHES = new Uint8Array(1024);
for (const name of TAG_INFO.keys()) TAG_HASHES[nameHash(name, 0, name.length)] = 1;
const SVG_HTML_POINTS = new Set(['foreignobject', 'desc', 'title']);
const MATH_TEXT_POINTS = new Set(['mi', 'mo', 'mn', 'ms', 'mtext']);

const LATIN1_ENTITIES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(
    ' ',
  );
/** Named references that may appear without a semicolon. */
const LEGACY_ENTITIES = new Map<string, string>([
  ...LATIN1_ENTITIES.map((name, i) => [name, String.fromCharCode(0xa0 + i)] as const),
  ['amp', '&'],
  ['AMP', '&'],
  ['lt', '<'],
  ['LT', '<'],
  ['gt', '>'],
  ['GT', '>'],
  ['quot', '"'],
  ['QUOT', '"'],
  ['COPY', '\u00a9'],
  ['REG', '\u00ae'],
]);
/** Named references recognised with a semicolon: the legacy ones plus those that spell URL characters. */
const ENTITIES = new Map<string, string>([
  ...LEGACY_ENTITIES,
  ...Object.entries({
    apos: "'",
    colon: ':',
    sol: '/',
    bsol: '\\',
    Tab: '\t',
    NewLine: '\n',
    period: '.',
    comma: ',',
    semi: ';',
    equals: '=',
    quest: '?',
    num: '#',
    percnt: '%',
    plus: '+',
    excl: '!',
    lpar: '(',
    rpar: ')',
    lsqb: '[',
    rsqb: ']',
    lbrack: '[',
    rbrack: ']',
    lowbar: '_',
    UnderBar: '_',
    dollar: '$',
    ast: '*',
    midast: '*',
    commat: '@',
    grave: '`',
    Hat: '^',
    verbar: '|',
    vert: '|',
    VerticalLine: '|',
    lcub: '{',
    rcub: '}',
    lbrace: '{',
    rbrace: '}',
    ndash: '\u2013',
    mdash: '\u2014',
    lsquo: '\u2018',
    rsquo: '\u2019',
    ldquo: '\u201c',
    rdquo: '\u201d',
    hellip: '\u2026',
    bull: '\u2022',
    euro: '\u20ac',
    trade: '\u2122',
    ensp: '\u2002',
    emsp: '\u2003',
    thinsp: '\u2009',
    zwnj: '\u200c',
    zwj: '\u200d',
    lrm: '\u200e',
    rlm: '\u200f',
  }),
]);
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
  0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR || c === FF;
}

const C_WS = 1;
const C_NAME_END = 2;
const C_ATTR_NAME_END = 4;
const C_UNQUOTED_END = 8;
/** Character classes of the tag tokenizer, indexed by byte. */
const CLASS = new Uint8Array(256);
for (const c of [SPACE, LF, TAB, CR, FF]) CLASS[c] = C_WS | C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[SLASH] = C_NAME_END | C_ATTR_NAME_END;
CLASS[GT] = C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[EQ] = C_ATTR_NAME_END;

/** A cheap hash of a name from its length and first, second and last characters, case-folded; < 1024. */
function nameHash(text: string, s: number, e: number): number {
  const second = e - s > 1 ? text.charCodeAt(s + 1) | 0x20 : 0;
  return ((e - s) ^ ((text.charCodeAt(s) | 0x20) * 3) ^ (text.charCodeAt(e - 1) | 0x20) ^ (second << 1)) & 1023;
}

/** Whether text[s, e) is `lower` in any ASCII case. */
function sameName(text: string, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(s + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

function lowerName(text: string, s: number, e: number): string {
  const name = text.slice(s, e);
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

/** Index of `needle` in text[from, end), or -1. */
function find(text: string, needle: string, from: number, end: number): number {
  const k = text.indexOf(needle, from);
  return k === -1 || k + needle.length > end ? -1 : k;
}

/** 1 if text[p...] is `name` (any case) followed by whitespace, '/' or '>', 0 if not, -1 if the text ends too early to tell. */
function matchName(text: string, p: number, end: number, name: string): number {
  const n = name.length;
  for (let k = 0; k < n; k++) {
    if (p + k >= end) return -1;
    if ((text.charCodeAt(p + k) | 0x20) !== name.charCodeAt(k)) return 0;
  }
  if (p + n >= end) return -1;
  const t = text.charCodeAt(p + n);
  return isWs(t) || t === SLASH || t === GT ? 1 : 0;
}

function numericReference(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  if (cp >= 0x80 && cp <= 0x9f) return String.fromCharCode(WINDOWS_1252_C1[cp - 0x80]!);
  return String.fromCodePoint(cp);
}

/** Resolves character references in an attribute value as the HTML tokenizer does (named ones from a partial table). */
export function decodeAttributeEntities(s: string): string {
  let i = s.indexOf('&');
  if (i === -1) return s;
  let out = '';
  let from = 0;
  const n = s.length;
  while (i !== -1) {
    let j = i + 1;
    if (s.charCodeAt(j) === 0x23) {
      j++;
      const hex = (s.charCodeAt(j) | 0x20) === 0x78;
      if (hex) j++;
      const ds = j;
      for (; j < n; j++) {
        const c = s.charCodeAt(j);
        if (!((c >= 0x30 && c <= 0x39) || (hex && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))) break;
      }
      if (j > ds) {
        const digits = s.slice(ds, j).replace(/^0+/, '');
        const cp = digits.length > 8 ? 0x110000 : Number.parseInt(digits || '0', hex ? 16 : 10);
        if (s.charCodeAt(j) === 0x3b) j++;
        out += s.slice(from, i) + numericReference(cp);
        from = j;
      }
    } else {
      while (j < n && j - i <= 32 && isAlnum(s.charCodeAt(j))) j++;
      if (j > i + 1) {
        const name = s.slice(i + 1, j);
        const next = s.charCodeAt(j);
        const value = next === 0x3b ? ENTITIES.get(name) : next === EQ ? undefined : LEGACY_ENTITIES.get(name);
        if (value !== undefined) {
          out += s.slice(from, i) + value;
          from = next === 0x3b ? j + 1 : j;
        }
      }
    }
    i = s.indexOf('&', Math.max(j, i + 1));
  }
  return out + s.slice(from);
}

const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&#39;' };
const escapeAttrChar = (ch: string): string => ATTR_ESCAPES[ch] ?? `&#${ch.codePointAt(0)};`;
const NON_ASCII = /[^\x00-\x7f]/;
const NEEDS_QUOTES = /[\t\n\f\r "'=<>`]/;
const DQ_ESCAPES = /[&"]/g;
const SQ_ESCAPES = /[&']/g;
const DQ_ASCII_ESCAPES = /[&"]|[^\x00-\x7f]/gu;
const SQ_ASCII_ESCAPES = /[&']|[^\x00-\x7f]/gu;

/** Whether a URL is relative to the document (so it is served by the proxied host itself). */
function isRelativeUrl(url: string): boolean {
  const u = url.trim();
  return !/^[a-z][a-z0-9+.-]*:/i.test(u) && !/^[/\\]{2}/.test(u);
}

/** Span of the URL in a <meta http-equiv=refresh> content value (HTML standard, "shared declarative refresh steps"). */
function refreshUrlSpan(v: string): [number, number] | null {
  const n = v.length;
  let p = 0;
  while (p < n && isWs(v.charCodeAt(p))) p++;
  const digits = p;
  while (p < n && v.charCodeAt(p) >= 0x30 && v.charCodeAt(p) <= 0x39) p++;
  if (p === digits && v.charCodeAt(p) !== 0x2e) return null;
  while (p < n && ((v.charCodeAt(p) >= 0x30 && v.charCodeAt(p) <= 0x39) || v.charCodeAt(p) === 0x2e)) p++;
  if (p < n) {
    const c = v.charCodeAt(p);
    if (c !== 0x3b && c !== 0x2c && !isWs(c)) return null;
    while (p < n && isWs(v.charCodeAt(p))) p++;
    if (v.charCodeAt(p) === 0x3b || v.charCodeAt(p) === 0x2c) p++;
    while (p < n && isWs(v.charCodeAt(p))) p++;
  }
  if (p >= n) return null;
  let start = p;
  let end = n;
  let q = p;
  let skipQuotes = false;
  if ((v.charCodeAt(q) | 0x20) === 0x75) {
    q++;
    if ((v.charCodeAt(q) | 0x20) === 0x72 && (v.charCodeAt(q + 1) | 0x20) === 0x6c) {
      q += 2;
      while (q < n && isWs(v.charCodeAt(q))) q++;
      if (v.charCodeAt(q) === EQ) {
        q++;
        while (q < n && isWs(v.charCodeAt(q))) q++;
        skipQuotes = true;
      }
    }
  } else skipQuotes = true;
  if (skipQuotes) {
    start = q;
    const c = v.charCodeAt(q);
    if (c === DQ || c === SQ) {
      start = q + 1;
      const close = v.indexOf(v[q]!, start);
      if (close !== -1) end = close;
    }
  }
  while (start < end && isWs(v.charCodeAt(start))) start++;
  while (end > start && isWs(v.charCodeAt(end - 1))) end--;
  return start < end ? [start, end] : null;
}

interface Frame {
  name: string;
  foreign: boolean;
}

const UTF8_CODEC = byteCodec('utf-8')!;

/** The scanner behind HtmlRewriteStream and rewriteHtml; `feed` is called with the unconsumed tail plus each new chunk. */
class HtmlScanner {
  /** Set once anything was inserted or rewritten. */
  changed = false;
  /** Set when the last feed inserted or rewrote something. */
  edited = false;
  private state: number;
  private rawName = '';
  private scriptSub = 0;
  private frames: Frame[] = [];
  private foreign = false;
  private holdPos = 0;
  private out: string[] = [];
  private emit = 0;
  private attrs: number[] = [];
  private nAttrs = 0;
  private nameEnd = 0;
  private selfClosing = false;
  private ids: number[] = [];
  private first: number[] = new Array<number>(32).fill(0);
  private skipState = T_NAME;
  private skipName = '';
  private skipIsEnd = false;
  private skipSelfClosing = false;
  private cssContext: HtmlUrlContext = { tag: 'style', attr: '' };
  private readonly styleText: CssScanner;
  private readonly styleAttr: CssScanner;

  constructor(
    private readonly mapUrl: HtmlMapUrl,
    private readonly codec: TextCodec,
    private readonly snippet: string | null,
    private readonly depth: number,
  ) {
    this.state = snippet === null ? S_DATA : S_PROLOGUE;
    const styleContext: HtmlUrlContext = { tag: 'style', attr: '' };
    this.styleText = new CssScanner((url) => this.mapUrl(url, styleContext), codec);
    this.styleAttr = new CssScanner((url) => this.mapUrl(url, this.cssContext), UNICODE_CODEC);
  }

  /** Rewrites text into `out` and returns how much of it was consumed; the rest must be fed again with more input. */
  feed(text: string, final: boolean, out: string[]): number {
    this.out = out;
    this.emit = 0;
    this.edited = false;
    let i = 0;
    if (this.state === S_PROLOGUE) {
      const at = this.prologue(text, final);
      if (at < 0) return 0;
      if (this.state === S_PROLOGUE) {
        this.state = S_DATA;
        this.run(text, 0, at, true);
        out.push(text.slice(this.emit, at), this.snippet!);
        this.emit = i = at;
        this.edited = this.changed = true;
      }
    }
    i = this.run(text, i, text.length, final);
    if (i > this.emit) out.push(text.slice(this.emit, i));
    return i;
  }

  private run(text: string, i: number, end: number, final: boolean): number {
    while (i < end) {
      let r: number;
      switch (this.state) {
        case S_DATA:
          r = this.data(text, i, end, final);
          break;
        case S_COMMENT:
          r = this.comment(text, i, end, final);
          break;
        case S_BOGUS: {
          const gt = find(text, '>', i, end);
          if (gt === -1) r = end;
          else {
            this.state = S_DATA;
            r = gt + 1;
          }
          break;
        }
        case S_CDATA:
          r = this.cdata(text, i, end, final);
          break;
        case S_RAW:
          r = this.rawText(text, i, end, final);
          break;
        case S_SCRIPT:
          r = this.script(text, i, end, final);
          break;
        case S_STYLE:
          r = this.style(text, i, end, final);
          break;
        case S_SKIPTAG:
          r = this.skipTag(text, i, end);
          break;
        default:
          r = end;
      }
      if (r < 0) return this.holdPos;
      i = r;
    }
    return i;
  }

  private hold(p: number): number {
    this.holdPos = p;
    return -1;
  }

  private prologue(text: string, final: boolean): number {
    const n = text.length;
    const b0 = text.charCodeAt(0);
    if (n < 2 && !final && (n === 0 || b0 === 0xfe || b0 === 0xff)) return -1;
    const b1 = text.charCodeAt(1);
    if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) {
      this.state = S_PLAIN;
      return 0;
    }
    if (n >= MAX_PROLOGUE) {
      const head = text.slice(0, MAX_PROLOGUE);
      const scan = findInjectionPoint(head, false);
      if (scan.kind === 'insert-at') return scan.index;
      const forced = findInjectionPoint(head, true);
      return forced.kind === 'insert-at' ? forced.index : 0;
    }
    const scan = findInjectionPoint(text, final);
    return scan.kind === 'insert-at' ? scan.index : -1;
  }

  private edit(text: string, s: number, e: number, replacement: string): void {
    this.out.push(text.slice(this.emit, s), replacement);
    this.emit = e;
    this.edited = this.changed = true;
  }

  private data(text: string, i: number, end: number, final: boolean): number {
    for (;;) {
      const lt = find(text, '<', i, end);
      if (lt === -1) return end;
      if (lt + 1 >= end) return final ? end : this.hold(lt);
      const c = text.charCodeAt(lt + 1);
      let r: number;
      if (isAlpha(c)) r = this.tag(text, lt, end, final, false);
      else if (c === SLASH) {
        if (lt + 2 >= end) return final ? end : this.hold(lt);
        const c2 = text.charCodeAt(lt + 2);
        if (isAlpha(c2)) r = this.tag(text, lt, end, final, true);
        else if (c2 === GT) r = lt + 3;
        else {
          this.state = S_BOGUS;
          return lt + 2;
        }
      } else if (c === BANG) r = this.markupDeclaration(text, lt, end, final);
      else if (c === QUESTION) {
        this.state = S_BOGUS;
        return lt + 1;
      } else r = lt + 1;
      if (r < 0 || this.state !== S_DATA) return r;
      i = r;
    }
  }

  private markupDeclaration(text: string, lt: number, end: number, final: boolean): number {
    if (text.charCodeAt(lt + 2) === DASH) {
      if (lt + 3 >= end) return final ? this.toBogus(lt + 2) : this.hold(lt);
      if (text.charCodeAt(lt + 3) === DASH) {
        const p = lt + 4;
        if (p >= end) return final ? this.toComment(end) : this.hold(lt);
        const c = text.charCodeAt(p);
        if (c === GT) return p + 1;
        if (c === DASH) {
          if (p + 1 >= end) return final ? this.toComment(end) : this.hold(lt);
          if (text.charCodeAt(p + 1) === GT) return p + 2;
        }
        return this.toComment(p);
      }
      return this.toBogus(lt + 2);
    }
    if (lt + 2 >= end) return final ? end : this.hold(lt);
    if (text.charCodeAt(lt + 2) === 0x5b && this.inForeign()) {
      const avail = Math.min(end - lt, 9);
      if (text.startsWith('<![CDATA['.slice(0, avail), lt)) {
        if (avail === 9) {
          this.state = S_CDATA;
          return lt + 9;
        }
        if (!final) return this.hold(lt);
      }
    }
    return this.toBogus(lt + 2);
  }

  private toBogus(p: number): number {
    this.state = S_BOGUS;
    return p;
  }

  private toComment(p: number): number {
    this.state = S_COMMENT;
    return p;
  }

  private comment(text: string, i: number, end: number, final: boolean): number {
    let k = i;
    for (;;) {
      const d = find(text, '--', k, end);
      if (d === -1) break;
      const c = d + 2 < end ? text.charCodeAt(d + 2) : -1;
      if (c === GT) {
        this.state = S_DATA;
        return d + 3;
      }
      if (c === BANG) {
        const c2 = d + 3 < end ? text.charCodeAt(d + 3) : -1;
        if (c2 === GT) {
          this.state = S_DATA;
          return d + 4;
        }
        if (c2 === -1) return final ? end : this.hold(d);
      }
      if (c === -1) return final ? end : this.hold(d);
      k = d + 1;
    }
    if (!final && text.charCodeAt(end - 1) === DASH) return this.hold(end - 1);
    return end;
  }

  private cdata(text: string, i: number, end: number, final: boolean): number {
    const e = find(text, ']]>', i, end);
    if (e !== -1) {
      this.state = S_DATA;
      return e + 3;
    }
    if (final) return end;
    let p = end;
    while (p > i && end - p < 2 && text.charCodeAt(p - 1) === 0x5d) p--;
    return p < end ? this.hold(p) : end;
  }

  /** Position of the end tag `</name` in raw text, or where to stop: -1 with holdPos when more input is needed. */
  private rawEnd(text: string, i: number, end: number, final: boolean, name: string): number {
    let k = i;
    for (;;) {
      const lt = find(text, '</', k, end);
      if (lt === -1) return !final && text.charCodeAt(end - 1) === LT ? this.hold(end - 1) : end;
      const m = matchName(text, lt + 2, end, name);
      if (m === 1) {
        this.state = S_DATA;
        return lt;
      }
      if (m < 0 && !final) return this.hold(lt);
      k = lt + 2;
    }
  }

  private rawText(text: string, i: number, end: number, final: boolean): number {
    return this.rawEnd(text, i, end, final, this.rawName);
  }

  private style(text: string, i: number, end: number, final: boolean): number {
    const r = this.rawEnd(text, i, end, final, 'style');
    const found = this.state === S_DATA;
    const regionEnd = r < 0 ? this.holdPos : r;
    if (i > this.emit) this.out.push(text.slice(this.emit, i));
    this.styleText.changed = false;
    const consumed = this.styleText.scan(text, i, regionEnd, found || final, this.out);
    this.emit = consumed;
    if (this.styleText.changed) this.edited = this.changed = true;
    if (found || consumed === end) return regionEnd;
    return this.hold(consumed);
  }

  private script(text: string, i: number, end: number, final: boolean): number {
    let k = i;
    let dd = -2;
    for (;;) {
      if (this.scriptSub === 0) {
        const lt = find(text, '<', k, end);
        if (lt === -1) return end;
        if (lt + 1 >= end) return final ? end : this.hold(lt);
        const c = text.charCodeAt(lt + 1);
        if (c === SLASH) {
          const m = matchName(text, lt + 2, end, 'script');
          if (m === 1) {
            this.state = S_DATA;
            return lt;
          }
          if (m < 0 && !final) return this.hold(lt);
          k = lt + 2;
        } else if (c === BANG) {
          if (lt + 3 >= end) {
            if (!final && (lt + 2 >= end || text.charCodeAt(lt + 2) === DASH)) return this.hold(lt);
            k = lt + 2;
          } else if (text.charCodeAt(lt + 2) === DASH && text.charCodeAt(lt + 3) === DASH) {
            this.scriptSub = 1;
            k = lt + 2;
          } else k = lt + 2;
        } else k = lt + 1;
        continue;
      }
      if (dd !== -1 && dd < k) dd = find(text, '-->', k, end);
      const lt = find(text, this.scriptSub === 1 ? '<' : '</', k, end);
      if (dd !== -1 && (lt === -1 || dd < lt)) {
        this.scriptSub = 0;
        k = dd + 3;
        continue;
      }
      if (lt === -1) {
        if (final) return end;
        let p = end;
        if (text.charCodeAt(end - 1) === LT && end - 1 >= k) p = end - 1;
        else while (p > k && end - p < 2 && text.charCodeAt(p - 1) === DASH) p--;
        return p < end ? this.hold(p) : end;
      }
      if (lt + 1 >= end) return final ? end : this.hold(lt);
      const c = text.charCodeAt(lt + 1);
      if (c === SLASH) {
        const m = matchName(text, lt + 2, end, 'script');
        if (m === 1) {
          if (this.scriptSub === 1) {
            this.state = S_DATA;
            this.scriptSub = 0;
            return lt;
          }
          this.scriptSub = 1;
          k = lt + 8;
        } else if (m < 0 && !final) return this.hold(lt);
        else k = lt + 2;
      } else if (isAlpha(c)) {
        const m = matchName(text, lt + 1, end, 'script');
        if (m === 1) {
          this.scriptSub = 2;
          k = lt + 7;
        } else if (m < 0 && !final) return this.hold(lt);
        else k = lt + 1;
      } else k = lt + 1;
    }
  }

  private tag(text: string, lt: number, end: number, final: boolean, isEnd: boolean): number {
    const nameStart = lt + (isEnd ? 2 : 1);
    const limit = Math.min(lt + MAX_TOKEN, end);
    const r = this.parseTag(text, nameStart, limit);
    if (r < 0) {
      if (lt + MAX_TOKEN < end) return this.beginSkip(text, lt, nameStart, isEnd);
      return final ? end : this.hold(lt);
    }
    if (isEnd) {
      if (this.frames.length > 0) this.endTag(lowerName(text, nameStart, this.nameEnd));
    } else if (this.foreign || TAG_HASHES[nameHash(text, nameStart, this.nameEnd)] === 1) this.startTag(text, lowerName(text, nameStart, this.nameEnd));
    else if (this.nAttrs > 0) this.plainStartTag(text, nameStart);
    return r;
  }

  /** Tokenizes a tag from its name to its '>' (HTML tokenizer rules), recording attribute offsets; -1 if it does not end before `limit`. */
  private parseTag(text: string, s: number, limit: number): number {
    let j = s;
    let c = 0;
    while (j < limit && (CLASS[text.charCodeAt(j)]! & C_NAME_END) === 0) j++;
    if (j >= limit) return -1;
    this.nameEnd = j;
    this.selfClosing = false;
    const attrs = this.attrs;
    let n = 0;
    for (;;) {
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === GT) {
        this.nAttrs = n;
        return j + 1;
      }
      if (c === SLASH) {
        if (j + 1 >= limit) return -1;
        if (text.charCodeAt(j + 1) === GT) {
          this.selfClosing = true;
          this.nAttrs = n;
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
      const o = n * 5;
      attrs[o] = ns;
      attrs[o + 1] = ne;
      n++;
      if (text.charCodeAt(j) !== EQ) {
        attrs[o + 2] = ne;
        attrs[o + 3] = ne;
        attrs[o + 4] = Q_NONE;
        continue;
      }
      j++;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_WS) !== 0) j++;
      if (j >= limit) return -1;
      c = text.charCodeAt(j);
      if (c === DQ || c === SQ) {
        const e = text.indexOf(c === DQ ? '"' : "'", j + 1);
        if (e < 0 || e >= limit) return -1;
        attrs[o + 2] = j + 1;
        attrs[o + 3] = e;
        attrs[o + 4] = c;
        j = e + 1;
        continue;
      }
      const vs = j;
      while (j < limit && (CLASS[text.charCodeAt(j)]! & C_UNQUOTED_END) === 0) j++;
      if (j >= limit) return -1;
      attrs[o + 2] = vs;
      attrs[o + 3] = j;
      attrs[o + 4] = Q_UNQUOTED;
    }
  }

  /** Ids of the parsed attributes and the index of each id's first occurrence; returns the set of ids seen. */
  private classifyAttrs(text: string): number {
    const attrs = this.attrs;
    const ids = this.ids;
    let seen = 0;
    for (let k = 0; k < this.nAttrs; k++) {
      const ns = attrs[k * 5]!;
      const ne = attrs[k * 5 + 1]!;
      let id = 0;
      if (ne - ns >= 2 && ne - ns <= 11) {
        id = ATTR_BY_HASH[nameHash(text, ns, ne)]!;
        if (id !== 0 && !sameName(text, ns, ne, ATTR_NAMES[id]!)) id = 0;
      }
      ids[k] = id;
      if (id !== 0 && (seen & bit(id)) === 0) {
        seen |= bit(id);
        this.first[id] = k;
      }
    }
    return seen;
  }

  private value(text: string, k: number): string {
    const raw = text.slice(this.attrs[k * 5 + 2]!, this.attrs[k * 5 + 3]!);
    return decodeAttributeEntities(this.codec.decode(raw));
  }

  /** A start tag whose name matters only for the mapUrl context: only a style attribute can need rewriting. */
  private plainStartTag(text: string, nameStart: number): void {
    const attrs = this.attrs;
    for (let k = 0; k < this.nAttrs; k++) {
      const ns = attrs[k * 5]!;
      if (attrs[k * 5 + 1]! - ns === 5 && (text.charCodeAt(ns) | 0x20) === 0x73 && sameName(text, ns, ns + 5, 'style')) {
        this.classifyAttrs(text);
        this.rewriteAttrs(text, lowerName(text, nameStart, this.nameEnd), false, bit(A_STYLE), bit(A_STYLE));
        return;
      }
    }
  }

  private startTag(text: string, name: string): void {
    const seen = this.nAttrs > 0 ? this.classifyAttrs(text) : 0;
    let foreign = this.inForeign();
    if (foreign && (BREAKOUT.has(name) || (name === 'font' && (seen & FONT_BREAKOUT) !== 0))) {
      this.popForeign();
      foreign = this.inForeign();
    }
    const info = foreign ? 0 : (TAG_INFO.get(name) ?? 0);
    if (seen !== 0) {
      const want = (foreign ? FOREIGN_WANT : info & WANT_MASK) | bit(A_STYLE);
      if ((seen & want) !== 0) this.rewriteAttrs(text, name, foreign, seen, want);
    }
    let encoding = '';
    if (foreign && name === 'annotation-xml' && (seen & bit(A_ENCODING)) !== 0) encoding = this.value(text, this.first[A_ENCODING]!).trim().toLowerCase();
    if (foreign) this.enter(name, true, this.selfClosing, encoding);
    else if (info > WANT_MASK) this.enterHtml(name, info & ~WANT_MASK, this.selfClosing);
  }

  private enterHtml(name: string, transition: number, selfClosing: boolean): void {
    switch (transition) {
      case TO_SCRIPT:
        this.state = S_SCRIPT;
        this.scriptSub = 0;
        break;
      case TO_STYLE:
        this.state = S_STYLE;
        break;
      case TO_RAW:
        this.state = S_RAW;
        this.rawName = name;
        break;
      case TO_PLAIN:
        this.state = S_PLAIN;
        break;
      case TO_FOREIGN:
        if (!selfClosing) this.pushFrame(name, true);
    }
  }

  private enter(name: string, foreign: boolean, selfClosing: boolean, encoding: string): void {
    if (!foreign) {
      const info = TAG_INFO.get(name) ?? 0;
      if (info > WANT_MASK) this.enterHtml(name, info & ~WANT_MASK, selfClosing);
      return;
    }
    if (selfClosing) return;
    const ns = this.frames[this.frames.length - 1]!.name;
    if (name === 'svg' || name === 'math') this.pushFrame(name, true);
    else if (ns === 'svg' ? SVG_HTML_POINTS.has(name) : MATH_TEXT_POINTS.has(name)) this.pushFrame(name, false);
    else if (ns === 'math' && name === 'annotation-xml' && (encoding === 'text/html' || encoding === 'application/xhtml+xml')) this.pushFrame(name, false);
  }

  private pushFrame(name: string, foreign: boolean): void {
    if (this.frames.length < MAX_FRAMES) {
      this.frames.push({ name, foreign });
      this.foreign = foreign;
    }
  }

  private inForeign(): boolean {
    return this.foreign;
  }

  private popForeign(): void {
    const frames = this.frames;
    while (frames.length > 0 && frames[frames.length - 1]!.foreign) frames.pop();
    this.foreign = false;
  }

  private endTag(name: string): void {
    const frames = this.frames;
    if (frames.length === 0) return;
    if (this.inForeign() && (name === 'br' || name === 'p' || HTML_CLOSERS.has(name))) {
      this.popForeign();
      return;
    }
    for (let f = frames.length - 1; f >= 0; f--) {
      if (frames[f]!.name === name) {
        frames.length = f;
        this.foreign = f > 0 && frames[f - 1]!.foreign;
        return;
      }
    }
  }

  private rewriteAttrs(text: string, tag: string, foreign: boolean, seen: number, want: number): void {
    const ids = this.ids;
    const first = this.first;
    const n = this.nAttrs;
    let stylesheet = false;
    if (!foreign && tag === 'link') {
      const rel =
        (seen & bit(A_REL)) !== 0
          ? this.value(text, first[A_REL]!)
              .toLowerCase()
              .split(/[\t\n\f\r ]+/)
          : [];
      if (!rel.some((token) => LINK_RELS.has(token))) want &= ~(bit(A_HREF) | bit(A_IMAGESRCSET));
      const asStyle = (seen & bit(A_AS)) !== 0 && this.value(text, first[A_AS]!).trim().toLowerCase() === 'style';
      stylesheet = rel.includes('stylesheet') || (rel.includes('preload') && asStyle);
    } else if (!foreign && tag === 'meta') {
      const equiv = (seen & bit(A_HTTP_EQUIV)) !== 0 ? this.value(text, first[A_HTTP_EQUIV]!).trim().toLowerCase() : '';
      if (equiv !== 'refresh') want &= ~bit(A_CONTENT);
    }
    if ((seen & want) === 0) return;
    let reps: (string | null)[] | null = null;
    let dropIntegrity = false;
    for (let k = 0; k < n; k++) {
      const id = ids[k]!;
      if (id === 0 || first[id] !== k || (want & bit(id)) === 0) continue;
      const value = this.value(text, k);
      const rep = this.rewriteValue(id, value, tag);
      if (!stylesheet) {
        if (rep !== null) this.writeValue(text, k, rep);
        continue;
      }
      if (id === A_HREF) dropIntegrity = rep !== null || (value.trim() !== '' && isRelativeUrl(value));
      if (rep !== null) {
        reps ??= [];
        reps[k] = rep;
      }
    }
    if (!stylesheet || (reps === null && !dropIntegrity)) return;
    for (let k = 0; k < n; k++) {
      const rep = reps?.[k];
      if (rep !== undefined && rep !== null) this.writeValue(text, k, rep);
      else if (dropIntegrity && ids[k] === A_INTEGRITY) this.removeAttr(text, k);
    }
  }

  /** The new value of attribute `id`, or null to keep it. */
  private rewriteValue(id: number, value: string, tag: string): string | null {
    const context: HtmlUrlContext = { tag, attr: ATTR_NAMES[id]! };
    switch (id) {
      case A_SRCSET:
      case A_IMAGESRCSET:
        return rewriteSrcset(value, (url) => this.mapUrl(url, context));
      case A_PING:
        return this.mapList(value, context);
      case A_CONTENT:
        return this.mapRefresh(value, context);
      case A_STYLE:
        return this.rewriteStyleAttr(value, context);
      case A_SRCDOC:
        return this.rewriteSrcdoc(value);
      default:
        return this.mapOne(value, context);
    }
  }

  private writeValue(text: string, k: number, value: string): void {
    const o = k * 5;
    const q = this.attrs[o + 4]!;
    if (q === Q_NONE) {
      this.edit(text, this.attrs[o + 1]!, this.attrs[o + 1]!, `="${this.encode(value, DQ)}"`);
      return;
    }
    let raw: string;
    if (q !== Q_UNQUOTED) raw = this.encode(value, q);
    else if (NEEDS_QUOTES.test(value)) raw = `"${this.encode(value, DQ)}"`;
    else raw = this.encode(value, Q_UNQUOTED);
    this.edit(text, this.attrs[o + 2]!, this.attrs[o + 3]!, raw);
  }

  private encode(value: string, quote: number): string {
    if (value.indexOf('&') === -1 && value.indexOf(quote === SQ ? "'" : '"') === -1 && (!this.codec.asciiOnly || !NON_ASCII.test(value)))
      return this.codec.encode(value);
    const re = this.codec.asciiOnly ? (quote === SQ ? SQ_ASCII_ESCAPES : DQ_ASCII_ESCAPES) : quote === SQ ? SQ_ESCAPES : DQ_ESCAPES;
    return this.codec.encode(value.replace(re, escapeAttrChar));
  }

  private removeAttr(text: string, k: number): void {
    const o = k * 5;
    const q = this.attrs[o + 4]!;
    const end = q === Q_NONE ? this.attrs[o + 1]! : q === Q_UNQUOTED ? this.attrs[o + 3]! : this.attrs[o + 3]! + 1;
    let start = this.attrs[o]!;
    if (text.charCodeAt(end) !== SLASH) while (start > this.emit && isWs(text.charCodeAt(start - 1))) start--;
    this.edit(text, start, end, '');
  }

  private mapOne(value: string, context: HtmlUrlContext): string | null {
    let s = 0;
    let e = value.length;
    while (s < e && isWs(value.charCodeAt(s))) s++;
    while (e > s && isWs(value.charCodeAt(e - 1))) e--;
    if (s === e) return null;
    const mapped = this.mapUrl(s === 0 && e === value.length ? value : value.slice(s, e), context);
    if (mapped === null) return null;
    return value.slice(0, s) + mapped + value.slice(e);
  }

  private mapList(value: string, context: HtmlUrlContext): string | null {
    let changed = false;
    const out = value.replace(/[^\t\n\f\r ]+/g, (url) => {
      const mapped = this.mapUrl(url, context);
      if (mapped === null) return url;
      changed = true;
      return mapped;
    });
    return changed ? out : null;
  }

  private mapRefresh(value: string, context: HtmlUrlContext): string | null {
    const span = refreshUrlSpan(value);
    if (span === null) return null;
    const mapped = this.mapUrl(value.slice(span[0], span[1]), context);
    return mapped === null ? null : value.slice(0, span[0]) + mapped + value.slice(span[1]);
  }

  private rewriteStyleAttr(value: string, context: HtmlUrlContext): string | null {
    if (value.indexOf('(') === -1 && value.indexOf('@') === -1) return null;
    this.cssContext = context;
    this.styleAttr.changed = false;
    const out: string[] = [];
    this.styleAttr.scan(value, 0, value.length, true, out);
    return this.styleAttr.changed ? out.join('') : null;
  }

  private rewriteSrcdoc(value: string): string | null {
    if (this.depth >= MAX_SRCDOC_DEPTH || value.indexOf('<') === -1) return null;
    const inner = new HtmlScanner(this.mapUrl, UTF8_CODEC, null, this.depth + 1);
    const out: string[] = [];
    inner.feed(Buffer.from(value, 'utf8').toString('latin1'), true, out);
    return inner.changed ? Buffer.from(out.join(''), 'latin1').toString('utf8') : null;
  }

  private beginSkip(text: string, lt: number, nameStart: number, isEnd: boolean): number {
    const stop = lt + MAX_TOKEN;
    let j = nameStart;
    while (j < stop) {
      const c = text.charCodeAt(j);
      if (c === GT || c === SLASH || isWs(c)) break;
      j++;
    }
    this.skipName = lowerName(text, nameStart, j);
    this.skipIsEnd = isEnd;
    this.skipState = T_NAME;
    this.skipSelfClosing = false;
    this.runSkip(text, nameStart, stop);
    this.state = S_SKIPTAG;
    return stop;
  }

  private skipTag(text: string, i: number, end: number): number {
    const gt = this.runSkip(text, i, end);
    if (gt < 0) return end;
    this.state = S_DATA;
    const name = this.skipName;
    if (this.skipIsEnd) this.endTag(name);
    else {
      let foreign = this.inForeign();
      if (foreign && BREAKOUT.has(name)) {
        this.popForeign();
        foreign = this.inForeign();
      }
      this.enter(name, foreign, this.skipSelfClosing, '');
    }
    return gt + 1;
  }

  /** The tag tokenizer as a resumable state machine, for tags too long to hold; returns the index of the closing '>' or -1. */
  private runSkip(text: string, i: number, end: number): number {
    let st = this.skipState;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      switch (st) {
        case T_NAME:
        case T_ATTR_NAME:
          if (c === GT) return this.skipDone(false, i);
          if (c === SLASH) st = T_SELF_CLOSING;
          else if (isWs(c)) st = st === T_NAME ? T_BEFORE_ATTR : T_AFTER_ATTR_NAME;
          else if (c === EQ && st === T_ATTR_NAME) st = T_BEFORE_VALUE;
          break;
        case T_BEFORE_ATTR:
        case T_AFTER_ATTR_NAME:
          if (c === GT) return this.skipDone(false, i);
          if (c === SLASH) st = T_SELF_CLOSING;
          else if (c === EQ) st = st === T_BEFORE_ATTR ? T_ATTR_NAME : T_BEFORE_VALUE;
          else if (!isWs(c)) st = T_ATTR_NAME;
          break;
        case T_BEFORE_VALUE:
          if (c === GT) return this.skipDone(false, i);
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
          if (c === GT) return this.skipDone(false, i);
          if (isWs(c)) st = T_BEFORE_ATTR;
          break;
        default:
          if (c === GT) return this.skipDone(true, i);
          st = T_BEFORE_ATTR;
          i--;
      }
    }
    this.skipState = st;
    return -1;
  }

  private skipDone(selfClosing: boolean, i: number): number {
    this.skipSelfClosing = selfClosing;
    return i;
  }
}

function scannerFor(options: { mapUrl: HtmlMapUrl; snippet?: Buffer | null }, codec: TextCodec): HtmlScanner {
  const { mapUrl } = options;
  const safeMap: HtmlMapUrl = (url, context) => {
    try {
      return mapUrl(url, context);
    } catch {
      return null;
    }
  };
  return new HtmlScanner(safeMap, codec, options.snippet ? options.snippet.toString('latin1') : null, 0);
}

/** A Transform (bytes in, bytes out) that maps URLs in an HTML document and inserts `snippet` at the start of <head>. */
export class HtmlRewriteStream extends Transform {
  private readonly scanner: HtmlScanner | null;
  private tail: Buffer | null = null;

  constructor(options: HtmlRewriteOptions) {
    super();
    const codec = byteCodec(options.charset);
    this.scanner = codec ? scannerFor(options, codec) : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const scanner = this.scanner;
    if (scanner === null) {
      done(null, chunk);
      return;
    }
    const bytes = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    const out: string[] = [];
    let consumed: number;
    try {
      consumed = scanner.feed(bytes.toString('latin1'), false, out);
    } catch (err) {
      done(err as Error);
      return;
    }
    this.tail = consumed < bytes.length ? Buffer.from(bytes.subarray(consumed)) : null;
    if (scanner.edited) done(null, Buffer.from(out.length === 1 ? out[0]! : out.join(''), 'latin1'));
    else done(null, consumed > 0 ? bytes.subarray(0, consumed) : undefined);
  }

  override _flush(done: TransformCallback): void {
    const scanner = this.scanner;
    if (scanner === null) {
      done();
      return;
    }
    const out: string[] = [];
    try {
      scanner.feed(this.tail === null ? '' : this.tail.toString('latin1'), true, out);
    } catch (err) {
      done(err as Error);
      return;
    }
    this.tail = null;
    const s = out.join('');
    done(null, s.length > 0 ? Buffer.from(s, 'latin1') : undefined);
  }
}

/** Rewrites a whole document held as a string, as HtmlRewriteStream would (the snippet is optional here). */
export function rewriteHtml(html: string, options: { mapUrl: HtmlMapUrl; snippet?: Buffer | null }): string {
  const scanner = scannerFor(options, UTF8_CODEC);
  const out: string[] = [];
  scanner.feed(Buffer.from(html, 'utf8').toString('latin1'), true, out);
  return Buffer.from(out.join(''), 'latin1').toString('utf8');
}
