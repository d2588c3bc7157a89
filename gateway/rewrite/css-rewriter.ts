// Streaming CSS URL rewriter: maps the URLs of url(...), @import strings and image-set() strings
// and copies every other byte through (untouched spans leave as slices of the input).

import { Transform, type TransformCallback } from 'node:stream';
import { type CssMapUrl, CssScanner } from './css-scanner.js';
import { Edits } from './edits.js';
import { byteCodec, UNICODE_CODEC } from './text-codec.js';

function safe(map: CssMapUrl): CssMapUrl {
  return (url) => {
    try {
      return map(url);
    } catch {
      return null;
    }
  };
}

/** Maps the URLs of url(...), @import strings and image-set() strings in `css`; comments and other strings stay as they are. */
export function rewriteCss(css: string, mapUrl: (url: string) => string | null): string {
  const edits = new Edits();
  new CssScanner(safe(mapUrl), UNICODE_CODEC).scan(css, 0, css.length, true, edits);
  return edits.applyToString(css, 0, css.length);
}

/** Options of CssRewriter and CssRewriteStream. */
export interface CssRewriteStreamOptions {
  /** Charset of the stylesheet's bytes (default UTF-8); URLs are decoded with it before mapping. */
  charset?: string;
  /** mapUrl keeps every URL that is not absolute (no scheme, not `//`): such URLs are not decoded nor passed to it. */
  relativeUrlsStay?: boolean;
}

/** Rewrites a stylesheet pushed in chunks (bytes in, bytes out), never splitting a token across chunks. */
export class CssRewriter {
  private readonly scanner: CssScanner | null;
  private readonly edits = new Edits();
  private tail: Buffer | null = null;

  constructor(mapUrl: (url: string) => string | null, options: CssRewriteStreamOptions = {}) {
    const codec = byteCodec(options.charset);
    this.scanner = codec ? new CssScanner(safe(mapUrl), codec, options.relativeUrlsStay ?? false) : null;
  }

  /** Rewrites the next chunk; returns the bytes to send now, in order (a token cut by the chunk's end waits for the next). */
  write(chunk: Buffer): Buffer[] {
    if (this.scanner === null) return [chunk];
    return this.process(this.tail === null ? chunk : Buffer.concat([this.tail, chunk]), false);
  }

  /** The bytes held back at the end of the input. */
  end(): Buffer[] {
    if (this.scanner === null || this.tail === null) return [];
    return this.process(this.tail, true);
  }

  private process(bytes: Buffer, final: boolean): Buffer[] {
    const edits = this.edits;
    edits.clear();
    const text = bytes.toString('latin1');
    const consumed = this.scanner!.scan(text, 0, bytes.length, final, edits);
    this.tail = consumed < bytes.length ? Buffer.from(bytes.subarray(consumed)) : null;
    return edits.applyToBytes(bytes, text, consumed);
  }
}

/** A Transform (bytes in, bytes out) that rewrites a stylesheet's URLs as rewriteCss does. */
export class CssRewriteStream extends Transform {
  private readonly rewriter: CssRewriter;

  constructor(mapUrl: (url: string) => string | null, options: CssRewriteStreamOptions = {}) {
    super();
    this.rewriter = new CssRewriter(mapUrl, options);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let out: Buffer[];
    try {
      out = this.rewriter.write(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    for (const piece of out) this.push(piece);
    done();
  }

  override _flush(done: TransformCallback): void {
    let out: Buffer[];
    try {
      out = this.rewriter.end();
    } catch (err) {
      done(err as Error);
      return;
    }
    for (const piece of out) this.push(piece);
    done();
  }
}
