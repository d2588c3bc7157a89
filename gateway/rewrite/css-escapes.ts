// CSS escapes of URLs (CSS Syntax Module Level 3): resolving them in a URL as read, and writing
// the escapes a replacement URL needs for its quoting style (and charset).

const TAB = 0x09;
const LF = 0x0a;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const LPAREN = 0x28;
const RPAREN = 0x29;
const BACKSLASH = 0x5c;

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR || c === FF;
}

function isNewline(c: number): boolean {
  return c === LF || c === CR || c === FF;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Resolves the CSS escapes of a URL or string value. */
export function cssUnescape(s: string): string {
  if (s.indexOf('\\') === -1) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const b = s.indexOf('\\', i);
    if (b === -1) break;
    out += s.slice(i, b);
    i = b + 1;
    if (i >= n) break;
    const c = s.charCodeAt(i);
    if (isNewline(c)) {
      i += c === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
    } else if (isHex(c)) {
      let j = i;
      while (j < n && j - i < 6 && isHex(s.charCodeAt(j))) j++;
      const cp = Number.parseInt(s.slice(i, j), 16);
      out += String.fromCodePoint(cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp);
      i = j;
      if (i < n && isWs(s.charCodeAt(i))) i += s.charCodeAt(i) === CR && s.charCodeAt(i + 1) === LF ? 2 : 1;
    } else {
      const cp = s.codePointAt(i) ?? c;
      out += String.fromCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return out + s.slice(i);
}

const UNQUOTED_SPECIAL = /[\x00-\x20"'()\\\x7f]/;
const QUOTED_SPECIAL = /[\x00-\x1f"'\\\x7f]/;
const UNQUOTED_SPECIAL_ASCII = /[\x00-\x20"'()\\\x7f-\uffff]/;
const QUOTED_SPECIAL_ASCII = /[\x00-\x1f"'\\\x7f-\uffff]/;

function hexEscape(cp: number): string {
  return `\\${cp.toString(16)} `;
}

/** Escapes a URL for a CSS string delimited by `quote` ('"' or "'") or, with quote '', for an unquoted url(). */
export function cssEscapeUrl(url: string, quote: string, asciiOnly: boolean): string {
  const special = asciiOnly ? (quote === '' ? UNQUOTED_SPECIAL_ASCII : QUOTED_SPECIAL_ASCII) : quote === '' ? UNQUOTED_SPECIAL : QUOTED_SPECIAL;
  if (!special.test(url)) return url;
  let out = '';
  let from = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    let rep: string | null = null;
    if (c === BACKSLASH) rep = '\\\\';
    else if (c < 0x20 || c === 0x7f) rep = hexEscape(c);
    else if (quote !== '') {
      if (c === quote.charCodeAt(0)) rep = `\\${quote}`;
    } else if (c === SPACE) rep = '\\20 ';
    else if (c === DQUOTE || c === SQUOTE || c === LPAREN || c === RPAREN) rep = `\\${url[i]}`;
    if (rep === null && asciiOnly && c >= 0x80) {
      const cp = url.codePointAt(i) ?? c;
      rep = hexEscape(cp);
      if (cp > 0xffff) {
        out += url.slice(from, i) + rep;
        i++;
        from = i + 1;
        continue;
      }
    }
    if (rep !== null) {
      out += url.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return from === 0 ? url : out + url.slice(from);
}
