// The charset prescan (issue 3): BOM, <meta charset>, <meta http-equiv=content-type>, @charset,
// as the WHATWG HTML prescan and CSS Syntax decide them, and the body read ahead without loss.

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  bomEncoding,
  charsetFromContent,
  encodingForLabel,
  isTranscoded,
  peekBody,
  prescanCss,
  prescanHtml,
  sniffCharset,
  utf8From,
} from '../../gateway/charset.js';
import { whatwgEncoding } from '../../gateway/rewrite/text-codec.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('prescanHtml', () => {
  const cases: [string, string, string | null][] = [
    ['meta charset', '<!DOCTYPE html><meta charset="windows-1252"><title>x</title>', 'windows-1252'],
    ['unquoted, uppercase', '<HTML><HEAD><META CHARSET=GB2312>', 'gbk'],
    ['latin1 label', "<meta charset='latin1'>", 'windows-1252'],
    ['http-equiv pragma', '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', 'gbk'],
    ['content before http-equiv', '<meta content="text/html;charset=shift_jis" http-equiv=content-type>', 'shift_jis'],
    ['content without the pragma is ignored', '<meta content="text/html; charset=gb2312">', null],
    ['meta in a comment is ignored', '<!-- <meta charset="gb2312"> --><meta charset="koi8-r">', 'koi8-r'],
    ['"<!-->" ends the comment', '<!--><meta charset="koi8-r">', 'koi8-r'],
    ["inside another tag's attribute is ignored", '<div title="<meta charset=gb2312>"><meta charset=euc-kr>', 'euc-kr'],
    ['utf-16 declared means utf-8', '<meta charset="utf-16le">', 'utf-8'],
    ['x-user-defined means windows-1252', '<meta charset="x-user-defined">', 'windows-1252'],
    ['unknown label: keeps looking', '<meta charset="no-such"><meta charset="iso-8859-2">', 'iso-8859-2'],
    ['first of duplicate attributes wins', '<meta charset="iso-8859-2" charset="gb2312">', 'iso-8859-2'],
    ['no declaration', '<!DOCTYPE html><html><head><title>t</title></head>', null],
    ['past 1024 bytes', `<meta name="d" content="${'x'.repeat(1100)}"><meta charset="gb2312">`, null],
    ['slash before attributes', '<meta/charset="iso-8859-5">', 'iso-8859-5'],
    ['processing instruction and end tags skipped', '<?xml version="1.0"?></x a="<meta charset=gb2312>"><meta charset=iso-8859-7>', 'iso-8859-7'],
  ];
  for (const [name, html, expected] of cases) {
    it(name, () => expect(prescanHtml(bytes(html))).toBe(expected));
  }
});

describe('the other sources', () => {
  it('reads a byte order mark', () => {
    expect(bomEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x3c]))).toBe('utf-8');
    expect(bomEncoding(Buffer.from([0xff, 0xfe, 0x3c, 0]))).toBe('utf-16le');
    expect(bomEncoding(Buffer.from([0xfe, 0xff, 0, 0x3c]))).toBe('utf-16be');
    expect(bomEncoding(bytes('<!DOCTYPE html>'))).toBe(null);
  });

  it('extracts a charset from a content value', () => {
    expect(charsetFromContent('text/html; charset=gb2312')).toBe('gb2312');
    expect(charsetFromContent('text/html; CHARSET = "big5"')).toBe('big5');
    expect(charsetFromContent("text/html; charset='koi8-r';x")).toBe('koi8-r');
    expect(charsetFromContent('text/html; charsetx; charset=utf-8')).toBe('utf-8');
    expect(charsetFromContent('text/html; charset="unterminated')).toBe(null);
    expect(charsetFromContent('text/html')).toBe(null);
  });

  it('reads a leading @charset rule only', () => {
    expect(prescanCss(bytes('@charset "windows-1252"; a { }'))).toBe('windows-1252');
    expect(prescanCss(bytes(' @charset "windows-1252";'))).toBe(null);
    expect(prescanCss(bytes("@charset 'windows-1252';"))).toBe(null);
    expect(prescanCss(bytes('@charset "utf-16be";'))).toBe('utf-8');
  });

  it('resolves labels to WHATWG encoding names', () => {
    expect(encodingForLabel(' ISO-8859-1 ')).toBe('windows-1252');
    expect(encodingForLabel('gb2312')).toBe('gbk');
    expect(encodingForLabel('nonsense')).toBe(null);
  });
});

describe('reading ahead of the body', () => {
  async function all(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('gives back every byte, whether the head ends the body or not', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`chunk ${i};`));
    const whole = Buffer.concat(parts);
    const peeked = await peekBody(Readable.from(parts), 64);
    expect(peeked.head.length).toBeGreaterThanOrEqual(64);
    expect(await all(peeked.body)).toEqual(whole);
    const small = await peekBody(Readable.from([Buffer.from('tiny')]));
    expect(small.head.toString()).toBe('tiny');
    expect((await all(small.body)).toString()).toBe('tiny');
  });

  it('decides on what arrived when the rest is slow, and loses nothing after', async () => {
    async function* slow() {
      yield Buffer.from('<meta charset="koi8-r">');
      await new Promise((r) => setTimeout(r, 1500));
      yield Buffer.from('<p>late</p>');
    }
    const started = Date.now();
    const sniffed = await sniffCharset(slow(), 'html');
    expect(Date.now() - started).toBeLessThan(1200);
    expect(sniffed).toMatchObject({ charset: 'koi8-r', source: 'declaration' });
    expect((await all(sniffed.body)).toString()).toBe('<meta charset="koi8-r"><p>late</p>');
  });

  it('a BOM wins over a declaration', async () => {
    const sniffed = await sniffCharset(Readable.from([Buffer.from([0xef, 0xbb, 0xbf]), bytes('<meta charset="gb2312">')]), 'html');
    expect(sniffed).toMatchObject({ charset: 'utf-8', source: 'bom' });
  });
});

describe('utf8From (UTF-16, ISO-2022-JP)', () => {
  const text = '<p>Grüße 日本 😀</p>';
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.from(le.map((_, i) => le[i ^ 1]!));
  async function transcode(bytes: Buffer, label: string, cuts: number[]): Promise<string> {
    const chunks: Buffer[] = [];
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      chunks.push(bytes.subarray(at, cut));
      at = cut;
    }
    const out: Buffer[] = [];
    for await (const piece of utf8From(
      (async function* () {
        yield* chunks;
      })(),
      label,
    ))
      out.push(piece);
    return Buffer.concat(out).toString('utf8');
  }

  it('decodes by the byte order mark (dropped) or the label, for every cut into two chunks', async () => {
    const cases: [Buffer, string][] = [
      [Buffer.concat([Buffer.from([0xff, 0xfe]), le]), 'utf-16le'],
      [Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'utf-16le'],
      [le, 'utf-16le'],
      [be, 'UTF-16BE'],
    ];
    for (const [bytes, label] of cases)
      for (let cut = 0; cut <= bytes.length; cut++) expect(await transcode(bytes, label, [cut]), `${label} ${cut}`).toBe(text);
    // A UTF-8 byte order mark wins over a UTF-16 label, as in the browser.
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    for (let cut = 0; cut <= utf8.length; cut++) expect(await transcode(utf8, 'utf-16', [cut]), `utf-8 BOM ${cut}`).toBe(text);
    expect(await transcode(Buffer.from([0x41]), 'utf-16le', [])).toBe('\ufffd');
    expect(await transcode(Buffer.alloc(0), 'utf-16le', [])).toBe('');
    expect(isTranscoded('utf-16')).toBe(true);
    expect(isTranscoded('UTF-16BE')).toBe(true);
    expect(isTranscoded('csISO2022JP')).toBe(true);
    expect(isTranscoded('utf-8')).toBe(false);
    expect(isTranscoded('shift_jis')).toBe(false);
    expect(isTranscoded(undefined)).toBe(false);
  });

  it('decodes ISO-2022-JP (escape sequences and two-byte mode cut anywhere)', async () => {
    // 実<a href="/x"> in ISO-2022-JP: ESC $ B, then the kanji as the bytes "<B", ESC ( B, then ASCII.
    const jis = Buffer.from('1b24423c421b28423c6120687265663d222f78223e', 'hex');
    for (let cut = 0; cut <= jis.length; cut++) expect(await transcode(jis, 'iso-2022-jp', [cut]), `cut ${cut}`).toBe('実<a href="/x">');
  });
});

describe('whatwgEncoding', () => {
  it('reads labels as TextDecoder does, the same answer again from memory, null for unknown ones', () => {
    for (const [label, encoding] of [
      ['latin1', 'windows-1252'],
      ['ISO-8859-1', 'windows-1252'],
      ['utf8', 'utf-8'],
      ['UTF-8', 'utf-8'],
      ['gb2312', 'gbk'],
      ['utf-16', 'utf-16le'],
      ['no-such-charset', null],
      ['', null],
    ] as const) {
      expect(whatwgEncoding(label)).toBe(encoding);
      expect(whatwgEncoding(label)).toBe(encoding);
    }
  });

  it('still answers for labels past the ones it remembers', () => {
    for (let i = 0; i < 300; i++) expect(whatwgEncoding(`x-unknown-${i}`)).toBeNull();
    expect(whatwgEncoding('windows-1251')).toBe('windows-1251');
    expect(whatwgEncoding('csISOLatin1')).toBe('windows-1252');
  });
});
