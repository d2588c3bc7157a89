// JSON the gateway writes into a <script> element of a page (import maps, speculation rules).

/** ASCII JSON (right in any charset of the page) with no '<' that could end the script element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What parseLenientJson gives for text that no reading parses. */
export const UNREADABLE = Symbol('unreadable JSON');

/**
 * `text` parsed as JSON, or as Blink reads the JSON of rule sets and manifests when JSON.parse
 * refuses it: `/* *\/` and `//` comments outside strings (manifests) and the `\v` escape inside
 * them (both) are taken. UNREADABLE when neither reading parses it: the caller must then not pass
 * the text on as it is (the browser might read URLs in it that were never mapped).
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Read again below.
  }
  let out = '';
  let i = 0;
  let from = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: to its closing quote; `\v` becomes `\u000b`.
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        if (text.charCodeAt(i) === 0x5c) {
          if (text[i + 1] === 'v') {
            out += `${text.slice(from, i)}\\u000b`;
            from = i + 2;
          }
          i += 2;
        } else i++;
      }
      i++;
    } else if (c === 0x2f && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) return UNREADABLE;
      out += `${text.slice(from, i)} `;
      i = from = end + 2;
    } else if (c === 0x2f && text[i + 1] === '/') {
      let end = i + 2;
      while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
      out += text.slice(from, i);
      i = from = end;
    } else i++;
  }
  out += text.slice(from);
  try {
    return JSON.parse(out);
  } catch {
    return UNREADABLE;
  }
}

/**
 * The JSON object of a rule set or manifest `text`: null when it is blank or no object (the
 * browser reads none either), UNREADABLE when no reading parses it (parseLenientJson).
 */
export function readJsonObject(text: string): Record<string, unknown> | null | typeof UNREADABLE {
  if (text.trim() === '') return null;
  const value = parseLenientJson(text);
  if (value === UNREADABLE) return UNREADABLE;
  return isJsonObject(value) ? value : null;
}
