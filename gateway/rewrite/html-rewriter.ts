// Streaming HTML rewriter: maps the URLs of markup (attributes, style attributes, <style>,
// srcdoc, meta refresh) and inserts the sync script where HeadInjector does. Untouched bytes leave
// as slices of the input; the scanning itself is html-scanner.ts.

import { Transform, type TransformCallback } from 'node:stream';
import { Edits } from './edits.js';
import type { HtmlMapUrl, MetaPolicy } from './html-attributes.js';
import { skipPlainBytes, textTicket } from './html-fast-skip.js';
import { HtmlScanner } from './html-scanner.js';
import type { PageScriptContext } from './html-script-text.js';
import { byteCodec, type TextCodec, UTF8_CODEC } from './text-codec.js';

export type { HtmlMapUrl, HtmlUrlContext } from './html-attributes.js';

/** Options of HtmlRewriter and HtmlRewriteStream. */
export interface HtmlRewriteOptions {
  /** Called for every URL candidate; a throw counts as null. */
  mapUrl: HtmlMapUrl;
  /** Script tag inserted at the start of <head>. */
  snippet: Buffer;
  /** Charset of the document's bytes (default UTF-8). */
  charset?: string;
  /** mapUrl keeps every URL that is not absolute (no scheme, not `//`): such URLs are not decoded nor passed to it. */
  relativeUrlsStay?: boolean;
  /** The page's policies for inline scripts, the gateway's nonce and the page's URL (html-script-text.ts). */
  scripts?: PageScriptContext | null;
  /** With relativeUrlsStay: skip plain markup with html-fast-skip.ts (default true; false runs the tokenizer over every tag, the reference the fast path is tested against). */
  fastPath?: boolean;
  /** Rewrites the policy of a `<meta http-equiv="content-security-policy">` (null keeps it); without it the policy is kept. */
  metaPolicy?: MetaPolicy | null;
  /** The runtime's tag (markup) for the HTML data: documents of the page's frames, asked for when one is met; without it they get none. */
  dataDocumentTag?: (() => string) | null;
}

const EMPTY = Buffer.alloc(0);

/** The first window of a chunk fed with the fast path (feedWindows): a page's head up to its body's plain markup, mostly. */
const FIRST_WINDOW = 4096;

/** Adds `piece` to `out`, joined to the last piece when it continues it in the same buffer (so that a page crossed in windows leaves in as few pieces as before). */
function pushPiece(out: Buffer[], piece: Buffer): void {
  if (piece.length === 0) return;
  const last = out.length > 0 ? out[out.length - 1]! : null;
  if (last !== null && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
    out[out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + piece.length);
    return;
  }
  out.push(piece);
}

/** What a scanner is made with: the rewriter's options, the snippet optional. */
type ScannerOptions = Omit<HtmlRewriteOptions, 'snippet' | 'charset'> & { snippet?: Buffer | null };

function scannerFor(options: ScannerOptions, codec: TextCodec): HtmlScanner {
  const { mapUrl } = options;
  const safeMap: HtmlMapUrl = (url, context) => {
    try {
      return mapUrl(url, context);
    } catch {
      return null;
    }
  };
  return new HtmlScanner(
    safeMap,
    codec,
    options.snippet ? options.snippet.toString('latin1') : null,
    0,
    options.relativeUrlsStay ?? false,
    options.fastPath ?? true,
    options.scripts ?? null,
    options.metaPolicy ?? null,
    options.dataDocumentTag ?? null,
  );
}

/** Rewrites an HTML document pushed in chunks (bytes in, bytes out); a token cut by a chunk's end waits for the next chunk. */
export class HtmlRewriter {
  private readonly scanner: HtmlScanner | null;
  private readonly edits = new Edits();
  private tail: Buffer | null = null;

  constructor(options: HtmlRewriteOptions) {
    const codec = byteCodec(options.charset);
    this.scanner = codec ? scannerFor(options, codec) : null;
  }

  /** Rewrites the next chunk; returns the bytes to send now, in order (slices of `chunk` where nothing changed). */
  write(chunk: Buffer): Buffer[] {
    const scanner = this.scanner;
    if (scanner === null) return [chunk];
    const bytes = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    const out: Buffer[] = [];
    // A chunk of one window is fed whole: crossing its plain markup first would scan it twice.
    const consumed =
      scanner.usesFastPath && bytes.length > FIRST_WINDOW ? this.feedWindows(scanner, bytes, out) : this.feedText(scanner, bytes, 0, bytes.length, out);
    this.tail = consumed < bytes.length ? Buffer.from(bytes.subarray(consumed)) : null;
    return out;
  }

  /** Feeds bytes[from, to) to the scanner as a string, adds what leaves to `out`; returns how much was consumed. */
  private feedText(scanner: HtmlScanner, bytes: Buffer, from: number, to: number, out: Buffer[]): number {
    const edits = this.edits;
    edits.clear();
    const text = bytes.toString('latin1', from, to);
    const consumed = scanner.feed(text, false, edits);
    const part = from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to);
    for (const piece of edits.applyToBytes(part, text, consumed)) pushPiece(out, piece);
    return consumed;
  }

  /**
   * With the fast path, a chunk is fed in windows and the plain markup between them is crossed on
   * the bytes (skipPlainBytes), so that no string is made of it: a page's string was its largest
   * allocation, and the windows save ~2-4 µs of the loaded gateway's main thread per 50 KB page
   * (bench/README.md, session 22). A window grows while the scanner is not back in plain data
   * after it (a long script, a head full of stops), so the strings made add up to about twice the
   * bytes the scanner reads itself at most. What leaves is what one feed of the whole chunk gives:
   * the scanner consumes the same whatever the cuts (html-rewriter.test.ts feeds documents cut at
   * every byte), and skipPlainBytes answers as the scanner's own skip (html-fast-skip.test.ts
   * compares both on long documents, whole and cut).
   */
  private feedWindows(scanner: HtmlScanner, bytes: Buffer, out: Buffer[]): number {
    const n = bytes.length;
    const ticket = textTicket();
    let pos = 0;
    let window = FIRST_WINDOW;
    while (pos < n) {
      if (scanner.inPlainData) {
        const stop = skipPlainBytes(bytes, pos, ticket);
        if (stop > pos) {
          pushPiece(out, bytes.subarray(pos, stop));
          pos = stop;
          window = FIRST_WINDOW;
          if (pos >= n) break;
        }
      }
      const to = n - pos <= window ? n : pos + window;
      pos += this.feedText(scanner, bytes, pos, to, out);
      // The whole rest was fed: what the scanner did not consume waits for the next chunk.
      if (to === n) break;
      window *= 2;
    }
    return pos;
  }

  /** Ends the document; returns the last bytes to send. */
  end(): Buffer[] {
    const scanner = this.scanner;
    if (scanner === null) return [];
    const bytes = this.tail ?? EMPTY;
    this.tail = null;
    const edits = this.edits;
    edits.clear();
    const text = bytes.toString('latin1');
    const consumed = scanner.feed(text, true, edits);
    return edits.applyToBytes(bytes, text, consumed);
  }
}

/** A Transform (bytes in, bytes out) that maps URLs in an HTML document and inserts `snippet` at the start of <head>. */
export class HtmlRewriteStream extends Transform {
  private readonly rewriter: HtmlRewriter;

  constructor(options: HtmlRewriteOptions) {
    super();
    this.rewriter = new HtmlRewriter(options);
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

/** Rewrites a whole document held as a string, as HtmlRewriteStream would (the snippet is optional here). */
export function rewriteHtml(html: string, options: ScannerOptions): string {
  const scanner = scannerFor(options, UTF8_CODEC);
  const text = Buffer.from(html, 'utf8').toString('latin1');
  const edits = new Edits();
  const consumed = scanner.feed(text, true, edits);
  return Buffer.from(edits.applyToString(text, 0, consumed), 'latin1').toString('utf8');
}
