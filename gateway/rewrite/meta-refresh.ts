// The URL in a <meta http-equiv=refresh> content value (HTML standard, "shared declarative refresh steps").

import { isWs } from './html-syntax.js';

const DQ = 0x22;
const SQ = 0x27;
const EQ = 0x3d;

/** Span of the URL in a <meta http-equiv=refresh> content value (HTML standard, "shared declarative refresh steps"). */
export function refreshUrlSpan(v: string): [number, number] | null {
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
