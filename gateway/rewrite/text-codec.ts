// How scanned text relates to Unicode. The scanners hold bytes as latin1 strings (one character
// per byte, so offsets are byte offsets for any ASCII-compatible charset); a codec turns a span of
// such bytes into the Unicode a URL mapper sees, and a replacement back into bytes.

/** Decoding of scanned spans and encoding of replacements for one charset. */
export interface TextCodec {
  decode(raw: string): string;
  encode(text: string): string;
  /** Non-ASCII characters must be written as escapes (the charset is not UTF-8). */
  asciiOnly: boolean;
  /**
   * Bytes whose presence means the text cannot be lexed byte by byte as JavaScript: non-ASCII in
   * Shift_JIS, Big5, GBK and gb18030 (a character's second byte may be `\\` or a quote), ESC in
   * ISO-2022-JP (its two-byte mode is made of ASCII bytes).
   */
  notLexable?: RegExp;
}

/** The codec for text that is already Unicode. */
export const UNICODE_CODEC: TextCodec = { decode: (s) => s, encode: (s) => s, asciiOnly: false };

const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes held as latin1. */
export const UTF8_CODEC: TextCodec = {
  decode: (raw) => (NON_ASCII.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw),
  encode: (text) => (NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text),
  asciiOnly: false,
};

/** Encodings whose two-byte characters may end with an ASCII byte. */
const ASCII_TRAIL_ENCODINGS = new Set(['shift_jis', 'big5', 'gbk', 'gb18030']);

/** Whether latin1-held `text` in `codec`'s charset can be lexed as JavaScript byte by byte (no ASCII byte there may be half a character). */
export function lexableAsBytes(text: string, codec: TextCodec): boolean {
  return codec.notLexable === undefined || !codec.notLexable.test(text);
}

/** Labels whose encoding whatwgEncoding remembers (a site's labels are few; unknown ones past that are resolved each time). */
const ENCODING_MEMO_MAX = 256;
const encodingMemo = new Map<string, string | null>();

/**
 * The WHATWG encoding TextDecoder reads `label` as (`latin1` -> `windows-1252`), or null when it
 * knows no such label. Remembered per label: a TextDecoder made only to read its `encoding` cost
 * ~1 µs of the loaded gateway, twice per page.
 */
export function whatwgEncoding(label: string): string | null {
  const known = encodingMemo.get(label);
  if (known !== undefined) return known;
  let encoding: string | null;
  try {
    encoding = new TextDecoder(label).encoding;
  } catch {
    encoding = null;
  }
  if (encodingMemo.size < ENCODING_MEMO_MAX) encodingMemo.set(label, encoding);
  return encoding;
}

/** A codec for bytes held as a latin1 string in `charset` (default UTF-8); null if the charset is not ASCII-compatible. */
export function byteCodec(charset?: string): TextCodec | null {
  const encoding = (charset ? whatwgEncoding(charset.trim()) : null) ?? 'utf-8';
  if (encoding.startsWith('utf-16') || encoding === 'replacement') return null;
  if (encoding === 'utf-8') return UTF8_CODEC;
  const decoder = new TextDecoder(encoding);
  return {
    decode: (raw) => (NON_ASCII.test(raw) ? decoder.decode(Buffer.from(raw, 'latin1')) : raw),
    encode: (text) => text,
    asciiOnly: true,
    notLexable: ASCII_TRAIL_ENCODINGS.has(encoding) ? NON_ASCII : encoding === 'iso-2022-jp' ? /\x1b/ : undefined,
  };
}
