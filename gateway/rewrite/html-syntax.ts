// Character classes and ASCII name helpers of the HTML tokenizer, shared by the scanner's parts.
// Text is a latin1-held byte string: every character is one byte.

/** HTML whitespace (tab, LF, FF, CR, space). */
export const C_WS = 1;
/** Ends a tag name: whitespace, '/', '>'. */
export const C_NAME_END = 2;
/** Ends an attribute name: whitespace, '/', '>', '='. */
export const C_ATTR_NAME_END = 4;
/** Ends an unquoted attribute value: whitespace, '>'. */
export const C_UNQUOTED_END = 8;

/** Character classes of the tag tokenizer, indexed by byte. */
export const CLASS = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x09, 0x0d, 0x0c]) CLASS[c] = C_WS | C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[0x2f] = C_NAME_END | C_ATTR_NAME_END;
CLASS[0x3e] = C_NAME_END | C_ATTR_NAME_END | C_UNQUOTED_END;
CLASS[0x3d] = C_ATTR_NAME_END;

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

/** A cheap hash of a name from its length and first, second and last characters, case-folded; < 1024. */
export function nameHash(text: string, s: number, e: number): number {
  const second = e - s > 1 ? text.charCodeAt(s + 1) | 0x20 : 0;
  return ((e - s) ^ ((text.charCodeAt(s) | 0x20) * 3) ^ (text.charCodeAt(e - 1) | 0x20) ^ (second << 1)) & 1023;
}

/** A key of a name from its length (up to 15) and first letter in either case; < 512. Names with different keys differ. */
export function nameKey(text: string, s: number, e: number): number {
  const n = e - s;
  return (Math.min(n, 15) << 5) | (text.charCodeAt(s) & 31);
}

/** Whether text[s, e) is `lower` in any ASCII case. */
export function sameName(text: string, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(s + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
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
