// Spellings of URLs that a mapper keeping relative URLs as they are never changes. With the
// rewriters' `relativeUrlsStay` option, a URL that cannot be absolute is left alone without being
// decoded or handed to mapUrl. The checks read the raw text (before character references, CSS
// escapes or charset decoding) and answer "maybe" whenever one of those could change the verdict.

import { trimC0 } from '../../protocol/trim.js';

const LF = 0x0a;
const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const AMP = 0x26;
const SLASH = 0x2f;
const COLON = 0x3a;
const BACKSLASH = 0x5c;

/** Characters that may start an absolute URL somewhere in a list: a scheme's colon, `//`, a backslash, an escape, or what String.prototype.trim strips. */
const MAYBE_ABSOLUTE_IN_LIST = /[:&\\\v\u0080-\uffff]|\/\//;

function isSchemeChar(c: number): boolean {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/**
 * Whether raw[s, e), one URL, may be absolute (a scheme, `//` or `\\` after the URL parser's
 * clean-up); false only when the decoded and cleaned-up URL certainly has none of them. The URL
 * parser strips leading and trailing C0 controls and spaces and removes every tab and newline, so
 * `ht<LF>tps://x`, `/<TAB>/x` and `<U+0001>https://x` are absolute.
 */
export function mayBeAbsolute(raw: string, s: number, e: number): boolean {
  let p = s;
  let c = 0;
  while (p < e) {
    c = raw.charCodeAt(p);
    if (c > SPACE) break;
    p++;
  }
  if (p >= e) return false;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) {
    p++;
    while (p < e) {
      const d = raw.charCodeAt(p);
      if (!isSchemeChar(d) && d !== TAB && d !== LF && d !== CR) break;
      p++;
    }
    if (p >= e) return false;
    c = raw.charCodeAt(p);
    return c === COLON || c === AMP || c === BACKSLASH;
  }
  if (c === SLASH) {
    p++;
    while (p < e && isTabOrNewline(raw.charCodeAt(p))) p++;
    if (p >= e) return false;
    const c2 = raw.charCodeAt(p);
    return c2 === SLASH || c2 === BACKSLASH || c2 === AMP;
  }
  return c === AMP || c === BACKSLASH || c >= 0x80;
}

function isTabOrNewline(c: number): boolean {
  return c === TAB || c === LF || c === CR;
}

/** Every tab and newline (after leading and trailing C0 controls and spaces): what the URL parser removes before it reads a URL. */
const TAB_OR_NEWLINE = /[\t\n\r]/g;
/** A scheme, or two slashes or backslashes in any mix (a path-absolute URL with a backslash is one to another host). */
const ABSOLUTE_FORM = /^(?:[a-z][a-z0-9+.-]*:|[\\/]{2})/i;

/** `url` cleaned up as the URL parser does (trimC0, then TAB_OR_NEWLINE) when it is absolute, or null when it is relative to the document. */
export function absoluteUrlForm(url: string): string | null {
  const clean = trimC0(url).replace(TAB_OR_NEWLINE, '');
  return ABSOLUTE_FORM.test(clean) ? clean : null;
}

/** Whether some URL of a whitespace- or comma-separated list (srcset, ping) in `raw` may be absolute. */
export function listMayHaveAbsolute(raw: string): boolean {
  return MAYBE_ABSOLUTE_IN_LIST.test(raw);
}
