// Trimming by loops, not by end-anchored regular expressions: V8 tries /[\x00-\x20]+$/ again
// from every position of a run that does not reach the end, so a value with a long run of spaces
// inside took quadratic time (an 80 KB attribute value: 5 s of the gateway's event loop).

/** `text` without its leading and trailing C0 controls and spaces (what the URL parser strips). */
export function trimC0(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `text` without its trailing C0 controls and spaces. */
export function trimEndC0(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) <= 0x20) end--;
  return end === text.length ? text : text.slice(0, end);
}

function isAsciiWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** `text` without its leading and trailing ASCII whitespace (HTML: "strip leading and trailing ASCII whitespace"). */
export function trimAsciiWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
