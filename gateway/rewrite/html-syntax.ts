// Character predicates and ASCII name helpers shared by the HTML rewriter's parts (text is a
// latin1-held byte string: every character is one byte). The hot loops (html-tag.ts,
// html-scanner.ts, html-raw-text.ts, html-attributes.ts, css-scanner.ts) keep their own one-line
// predicates and tables instead: vite-node (vitest, bench/rewriter-throughput.ts) turns every
// access to an imported binding into a getter call, which made the split rewriter 3x slower there.

/** HTML whitespace. */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || (c >= 0x30 && c <= 0x39);
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
