// srcset / imagesrcset candidate lists, split as the HTML standard's "parse a srcset attribute" does.

const COMMA = 0x2c;
const LPAREN = 0x28;
const RPAREN = 0x29;

const OTHER_SPACE = /[\t\n\f\r]/;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** Maps every candidate URL of a srcset value, keeping descriptors and separators; null when nothing was mapped. */
export function rewriteSrcset(value: string, mapUrl: (url: string) => string | null): string | null {
  const n = value.length;
  const spacesOnly = !OTHER_SPACE.test(value);
  let out: string[] | null = null;
  let emit = 0;
  let p = 0;
  while (p < n) {
    let c = value.charCodeAt(p);
    while (p < n && (isSpace(c) || c === COMMA)) c = value.charCodeAt(++p);
    if (p >= n) break;
    const start = p;
    if (spacesOnly) {
      p = value.indexOf(' ', p);
      if (p === -1) p = n;
    } else while (p < n && !isSpace(value.charCodeAt(p))) p++;
    let urlEnd = p;
    if (value.charCodeAt(urlEnd - 1) === COMMA) {
      while (urlEnd > start && value.charCodeAt(urlEnd - 1) === COMMA) urlEnd--;
    } else {
      const comma = value.indexOf(',', p);
      const paren = value.indexOf('(', p);
      if (paren === -1 || (comma !== -1 && comma < paren)) p = comma === -1 ? n : comma + 1;
      else {
        let inParens = false;
        while (p < n) {
          c = value.charCodeAt(p++);
          if (c === LPAREN) inParens = true;
          else if (c === RPAREN) inParens = false;
          else if (c === COMMA && !inParens) break;
        }
      }
    }
    if (urlEnd > start) {
      const mapped = mapUrl(value.slice(start, urlEnd));
      if (mapped !== null) {
        out ??= [];
        out.push(value.slice(emit, start), mapped);
        emit = urlEnd;
      }
    }
  }
  if (out === null) return null;
  out.push(value.slice(emit));
  return out.join('');
}
