// The fast path's grammar as one regular expression (it was the gateway's fast path until the
// WebAssembly scanner of wasm/fast-skip.ts replaced it, 2026-12-01): the reference that
// test/unit/html-fast-skip.test.ts holds the scanner to, answer for answer. The rules are in
// gateway/rewrite/html-fast-skip.ts.
//
// It mirrors the HTML tokenizer's tag states over a latin1-held byte string: a tag name runs to
// whitespace, `/` or `>`; attributes are separated by whitespace or `/`; a value follows `=`
// (whitespace around it allowed) and is double-quoted, single-quoted or unquoted (up to
// whitespace or `>`); the tag ends at the first `>` outside a quoted value.

import { ATTR, ATTR_NAMES } from '../../gateway/rewrite/html-tag.js';

/** Start tags the fast path never skips: they change the tokenizer's state or are rewritten from several attributes. */
const STOP_ELEMENTS = [
  'script',
  'style',
  'textarea',
  'title',
  'xmp',
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
  'svg',
  'math',
  'link',
  'meta',
  'base',
];

/** Attributes whose value is one URL: relative-url.ts's mayBeAbsolute decides, from how the value starts. */
const SINGLE_URL_ATTRIBUTES = [ATTR.HREF, ATTR.SRC, ATTR.ACTION, ATTR.FORMACTION, ATTR.POSTER, ATTR.DATA, ATTR.BACKGROUND, ATTR.XLINK_HREF].map(
  (id) => ATTR_NAMES[id]!,
);
/** Attributes whose value is a URL list or a document: no scheme's colon, `//`, escape or `<` anywhere. */
const LIST_ATTRIBUTES = [ATTR.SRCSET, ATTR.IMAGESRCSET, ATTR.PING, ATTR.CONTENT, ATTR.SRCDOC].map((id) => ATTR_NAMES[id]!);

const WS = '\\t\\n\\f\\r ';
/** An attribute name ends here (the lookahead after a listed name). */
const NAME_END = `(?=[${WS}/>=])`;
const EQ = `[${WS}]*=[${WS}]*`;
/**
 * An unquoted value runs to whitespace or `>` (a `/` is part of it): without this the expression
 * could end a value early at a `/` taken as a separator and read the rest as other attributes
 * (`alt=1http://x/hrefx = '<p>...<img src=//x>'` hid the <img> tag from the rewriter).
 */
const UNQUOTED_END = `(?=[${WS}>])`;
/**
 * A quoted URL that is certainly relative, as mayBeAbsolute judges it: after C0 controls and
 * spaces, either letters and scheme characters (tabs and newlines among them are removed by the
 * URL parser) up to the end or to a character that is not `:`, `&` or `\\`; or `/` (then tabs
 * and newlines) not followed by `/`, `\\` or `&`; or any other first character but `&`, `\\` and
 * non-ASCII.
 */
const singleUrlQuoted = (q: string): string =>
  `${q}[\\x00-\\x20]*(?:[a-z][a-z0-9+.\\-\\t\\n\\r]*(?:[^${q}a-z0-9+.\\-\\t\\n\\r:&\\\\][^${q}]*)?|/[\\t\\n\\r]*(?:[^${q}/\\\\&\\t\\n\\r][^${q}]*)?|[^${q}\\x00-\\x20a-z/&\\\\\\x80-\\xff][^${q}]*)?${q}`;
/** Characters a list value (or an unquoted URL) must not hold to be certainly relative: a scheme's colon, a character reference, a backslash, `<` (srcdoc markup), C0 controls and non-ASCII. */
const URL_UNSAFE = ':&\\\\<\\x00-\\x08\\x0b\\x0e-\\x1f\\x80-\\xff';
/** No `//` anywhere, also with tabs or newlines between the slashes. */
const listQuoted = (q: string): string => `${q}(?![^${q}]*/[\\t\\n\\r]*/)[^${q}${URL_UNSAFE}]*${q}`;
const URL_UNQUOTED = `(?!//)[^${WS}>"'=\`${URL_UNSAFE}]+${UNQUOTED_END}`;
/** A style attribute is rewritten only when its decoded value holds `(` or `@`. */
const styleQuoted = (q: string): string => `${q}[^${q}(@&]*${q}`;
const STYLE_UNQUOTED = `[^${WS}>"'=\`(@&]+${UNQUOTED_END}`;
const anyQuoted = (q: string): string => `${q}[^${q}]*${q}`;
/** An unquoted value: it cannot start with a quote (that opens a quoted one, whose end may not be in the text yet). */
const ANY_UNQUOTED = `[^${WS}>"'][^${WS}>]*${UNQUOTED_END}`;
/** An attribute name the fast path accepts (no quote, `<`, `=` or `:` in it). */
const NAME = `[^${WS}/>"'<=:]+`;

const names = (list: string[]): string => `(?:${list.map((n) => n.replace(':', '\\:')).join('|')})`;
const SINGLE_URL_ATTR = `${names(SINGLE_URL_ATTRIBUTES)}${NAME_END}(?:${EQ}(?:${singleUrlQuoted('"')}|${singleUrlQuoted("'")}|${URL_UNQUOTED}))?`;
const LIST_ATTR = `${names(LIST_ATTRIBUTES)}${NAME_END}(?:${EQ}(?:${listQuoted('"')}|${listQuoted("'")}|${URL_UNQUOTED}))?`;
const urlNames = names([...SINGLE_URL_ATTRIBUTES, ...LIST_ATTRIBUTES]);
const STYLE_ATTR = `style${NAME_END}(?:${EQ}(?:${styleQuoted('"')}|${styleQuoted("'")}|${STYLE_UNQUOTED}))?`;
/** An event handler whose value holds `top` or a character reference (it may reference the top window, see js-top.ts). */
const HANDLER_WITH_TOP = `on${NAME}${EQ}(?:"[^"]*(?:top|&)|'[^']*(?:top|&)|(?=[^${WS}>"'])[^${WS}>]*?(?:top|&))`;
/** Tried first: most attributes are neither URLs nor style (7-10% faster than last, measured on the bench page). */
const OTHER_ATTR = `(?!(?:${urlNames}|style)${NAME_END}|${HANDLER_WITH_TOP})${NAME}(?:${EQ}(?:${anyQuoted('"')}|${anyQuoted("'")}|${ANY_UNQUOTED}))?`;
/**
 * Every separator is followed by an attribute (then the last separator before `>`): with the
 * attribute optional, a run of N spaces could be split 2^N ways, all tried again when the tag
 * failed to match (a 109-byte indented <img> took 1.2 s, one of 113 bytes ~2 minutes). Now a
 * separator run is consumed whole, and each failure backtracks in linear time.
 */
const SEP = `[${WS}/]+`;
const START_TAG = `<(?!(?:${STOP_ELEMENTS.join('|')})[${WS}/>])[a-z][^${WS}/>"'<=]*(?:${SEP}(?:${OTHER_ATTR}|${SINGLE_URL_ATTR}|${LIST_ATTR}|${STYLE_ATTR}))*[${WS}/]*>`;
/** End tags are never rewritten; outside SVG/MathML they change nothing. */
const END_TAG = `</[a-z][^${WS}/>"'<=]*(?:${SEP}${NAME}(?:${EQ}(?:${anyQuoted('"')}|${anyQuoted("'")}|${ANY_UNQUOTED}))?)*[${WS}/]*>`;

/**
 * Text and plain tags from lastIndex on (sticky, ASCII case-insensitive), at most RUN of them per
 * match: an unbounded repetition grows the expression's backtracking stack with the page (it
 * overflowed between 16 and 30 MB of markup here), and growing it was 3% of the gateway's CPU on
 * 50 KB pages with 2000 (perf); 100 runs as fast alone.
 */
const RUN = 100;
// End tags are tried before start tags: the two cannot both match at one `<` (`</` against
// `<` and a letter), and a start tag's first test is the stop-element lookahead, which every end
// tag paid for before failing (8% faster on the bench page, measured; text costs the same).
const PLAIN_MARKUP = new RegExp(`(?:[^<]+|${END_TAG}|${START_TAG}){0,${RUN}}`, 'iy');

/** Where the plain markup of text starting at `i` ends, as the regular expression decides. */
export function referenceSkipPlainMarkup(text: string, i: number): number {
  const re = PLAIN_MARKUP;
  for (;;) {
    re.lastIndex = i;
    re.test(text);
    const p = re.lastIndex;
    if (p === i) return i;
    i = p;
  }
}
