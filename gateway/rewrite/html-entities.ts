// Character references in attribute values (HTML standard, "character reference state"): numeric
// ones in full, named ones from the legacy table (those valid without ';') and the names that
// spell URL characters; other names stay as written, which only matters for URLs that use them.

import { isAlnum } from './html-syntax.js';

const EQ = 0x3d;

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
