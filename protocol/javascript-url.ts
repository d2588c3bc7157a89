// javascript: URLs (HTML: "evaluate a javascript: URL"): the script a URL attribute or a URL set
// by script runs, with its references to the top window wrapped as in scripts
// (top-references.ts). Shared by the gateway (URL attributes of pages) and the page runtime.

import { scriptWithTopReferences } from './top-references.js';
import { trimEndC0 } from './trim.js';

/** `javascript:` as the URL parser reads it: after leading C0 controls and spaces, tabs and newlines anywhere, in any case. */
const JAVASCRIPT_SCHEME = /^[\x00-\x20]*j[\t\n\r]*a[\t\n\r]*v[\t\n\r]*a[\t\n\r]*s[\t\n\r]*c[\t\n\r]*r[\t\n\r]*i[\t\n\r]*p[\t\n\r]*t[\t\n\r]*:/i;

function isHexDigit(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
}

/** Percent-decodes `text` (its UTF-8 bytes) and reads the bytes as UTF-8 (HTML: how a javascript: URL becomes script source). */
function percentDecoded(text: string): string {
  if (text.indexOf('%') === -1) return text;
  const src = new TextEncoder().encode(text);
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === 0x25 && isHexDigit(src[i + 1]) && isHexDigit(src[i + 2])) {
      out[n++] = Number.parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16);
      i += 2;
    } else out[n++] = src[i]!;
  }
  return new TextDecoder().decode(out.subarray(0, n));
}

/**
 * A javascript: URL (an attribute's decoded value) whose script references the top window, with
 * the references wrapped; null for any other value. The script is what the browser runs: the
 * percent-decoded rest of the URL (tabs and newlines, which the URL parser drops, and trailing
 * spaces removed); in the new URL `%`, C0 controls and DEL are percent-encoded (the HTML parser
 * would turn a raw NUL into U+FFFD).
 */
/** Whether a URL as written is a javascript: URL (as the URL parser reads the scheme). */
export function isJavascriptUrl(value: string): boolean {
  return JAVASCRIPT_SCHEME.test(value);
}

export function javascriptUrl(value: string): string | null {
  const scheme = JAVASCRIPT_SCHEME.exec(value);
  if (scheme === null) return null;
  const rest = trimEndC0(value.slice(scheme[0].length).replace(/[\t\n\r]/g, ''));
  const code = percentDecoded(rest);
  const rewritten = scriptWithTopReferences(code);
  if (rewritten === null) return null;
  return `javascript:${rewritten.replace(/[%\x00-\x1f\x7f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}
