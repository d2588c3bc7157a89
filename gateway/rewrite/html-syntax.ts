// Character predicates and ASCII name helpers shared by the HTML rewriter's parts (text is a
// latin1-held byte string: every character is one byte). The tokenizer's own tables are in html-tag.ts.

/** HTML whitespace. */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** ASCII letter. */
export function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/** text[s, e) in ASCII lowercase. */
export function lowerName(text: string, s: number, e: number): string {
  const name = text.slice(s, e);
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}
