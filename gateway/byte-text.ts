// Byte strings and text. undici gives header values, and tough-cookie keeps cookies, as byte
// strings: one latin1 character per byte, so that they go back on the wire byte for byte. Where a
// browser reads such bytes as text (the URL of a Location, a cookie in document.cookie) it reads
// them as UTF-8; these two functions are that reading and its inverse.

import { TextDecoder } from 'node:util';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const HIGH_BYTE = /[\x80-\xff]/;
const NOT_LATIN1 = /[^\x00-\xff]/;

/** Any character outside ASCII. */
export const NOT_ASCII = /[^\x00-\x7f]/;

/** The text of a byte string whose bytes are UTF-8; the byte string itself otherwise (as latin1). */
export function utf8Text(bytes: string): string {
  if (!HIGH_BYTE.test(bytes)) return bytes;
  try {
    return UTF8.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return bytes;
  }
}

/** The byte string of `text` in UTF-8. */
export function utf8Bytes(text: string): string {
  return NOT_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/**
 * A header value with characters above 0x7f, for uWS, which writes a string as UTF-8. The site's
 * values are byte strings: they go as those bytes, so a filename or URL the site wrote in UTF-8
 * reaches the browser as it was sent, not encoded twice. A value with characters above 0xff is
 * text of the gateway's own: UTF-8.
 */
export function wireBytes(value: string): string | Buffer {
  return NOT_LATIN1.test(value) ? value : Buffer.from(value, 'latin1');
}
