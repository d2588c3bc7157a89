// Streams an HTML document and inserts the sync script as the first element of <head>.
// It reads only the document's prologue (BOM, comments, doctype, <html>) and passes the rest
// through untouched, so the first bytes leave as soon as <head> has been seen.

import { Transform, type TransformCallback } from 'node:stream';
import { OWN_NODE_MARKER } from '../protocol/messages.js';
import { NOT_ASCII } from './byte-text.js';
import { escapeHtml } from './errors.js';

/** How much prologue is buffered while looking for <head> before inserting anyway. */
const MAX_PROLOGUE = 64 * 1024;

type Scan = { kind: 'insert-at'; index: number } | { kind: 'need-more' };

/** Finds where the script goes in `text` (latin1, so indexes are byte offsets). */
export function findInjectionPoint(text: string, final: boolean): Scan {
  let i = 0;
  const bom = '\u00ef\u00bb\u00bf';
  if (text.startsWith(bom)) i = 3;
  else if (!final && text.length < 3 && bom.startsWith(text)) return { kind: 'need-more' };
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) return final ? { kind: 'insert-at', index: text.length } : { kind: 'need-more' };
    if (text[i] !== '<') return { kind: 'insert-at', index: i };
    const rest = text.slice(i, i + 6).toLowerCase();
    if (!final && rest.length < 6 && !text.slice(i).includes('>')) return { kind: 'need-more' };
    if (rest.startsWith('<!--')) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) return final ? { kind: 'insert-at', index: i } : { kind: 'need-more' };
      i = end + 3;
      continue;
    }
    const isHtml = opensTag(rest, '<html') || (rest === '<html' && final);
    const isHead = opensTag(rest, '<head');
    if (rest.startsWith('<!') || rest.startsWith('<?') || isHtml || isHead) {
      const end = tagEnd(text, i + 1);
      if (end === -1) return final ? { kind: 'insert-at', index: text.length } : { kind: 'need-more' };
      if (isHead) return { kind: 'insert-at', index: end + 1 };
      i = end + 1;
      continue;
    }
    return { kind: 'insert-at', index: i };
  }
}

/** Index of the `>` closing the tag that starts before `from`, skipping quoted attribute values. */
function tagEnd(text: string, from: number): number {
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return i;
  }
  return -1;
}

/** HTML whitespace: tab, LF, FF, CR, space. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** `rest` (lowercased, 6 characters or fewer) opens the tag `open` (`<html`, `<head`): whitespace, `>` or `/` follows its name. */
function opensTag(rest: string, open: string): boolean {
  if (rest.length <= open.length || !rest.startsWith(open)) return false;
  const c = rest.charCodeAt(open.length);
  return isSpace(c) || c === 0x3e || c === 0x2f;
}

/** A Transform that inserts `snippet` at the start of <head> (created implicitly when absent). */
export class HeadInjector extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private injected = false;

  constructor(private readonly snippet: Buffer) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.injected) {
      done(null, chunk);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.tryInject(this.pendingBytes >= MAX_PROLOGUE);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.injected) this.tryInject(true);
    done();
  }

  private tryInject(final: boolean): void {
    const buf = Buffer.concat(this.pending);
    const scan = findInjectionPoint(buf.toString('latin1'), final);
    if (scan.kind === 'need-more') return;
    this.injected = true;
    this.pending = [];
    this.push(buf.subarray(0, scan.index));
    this.push(this.snippet);
    if (scan.index < buf.length) this.push(buf.subarray(scan.index));
  }
}

/** What the injected tag carries to the page's runtime. */
export interface SnippetOptions {
  /** CSP nonce, when the page has a policy. */
  nonce?: string | null;
  /** The site's masked selectors. */
  mask?: readonly string[];
  /** What document.cookie starts with (script-visible cookies of the page). */
  cookies?: string | null;
  /** When the first of those cookies expires (epoch ms). */
  cookiesExpire?: number | null;
  /** The page's real origin and the session's real -> proxied origin table (URL runtime). */
  origin?: string;
  origins?: Readonly<Record<string, string>>;
  /** Proxied origins whose hosts do not hold the participant's cookie yet. */
  enter?: readonly string[];
  /** Selectors of elements only the host may use. */
  hostOnly?: readonly string[];
  /** Path patterns only the host may open. */
  hostOnlyUrls?: readonly string[];
  /** The charset the page's forms submit in, when the page was transcoded from it (ISO-2022-JP). */
  formCharset?: string;
  /** The proxied origin the runtime is loaded from and whose endpoints it uses, for a document of another origin (a data: frame's); default the page's own. */
  gateway?: string;
}

/** The tag that loads the sync script, as bytes for the HTML stream. */
export function injectionSnippet(options: SnippetOptions = {}): Buffer {
  return Buffer.from(injectionTag(options), 'utf8');
}

/** jsonAttribute's answers for frozen values (they cannot change, so neither can their text). */
const frozenJson = new WeakMap<object, string>();

/**
 * `value` as JSON escaped for a quoted attribute. A frozen value's text is remembered (the frozen
 * values here hold strings, so nothing below them can change): the session's origin table
 * (proxy.ts proxiedOriginTable) comes frozen, the same object from page to page, and serializing
 * it again cost ~2 µs of the loaded gateway per page.
 */
function jsonAttribute(value: object): string {
  if (!Object.isFrozen(value)) return escapeHtml(JSON.stringify(value));
  let text = frozenJson.get(value);
  if (text === undefined) {
    text = escapeHtml(JSON.stringify(value));
    frozenJson.set(value, text);
  }
  return text;
}

/** The same tag as text, for pages the gateway writes itself. */
export function injectionTag(options: SnippetOptions = {}): string {
  // Every attribute with a value: an XHTML page (parsed as XML) refuses one without.
  const attrs: string[] = [`src="${options.gateway ? escapeHtml(options.gateway) : ''}/__cobrowse/inject.js"`, `${OWN_NODE_MARKER}=""`];
  if (options.gateway) attrs.push(`data-gateway="${escapeHtml(options.gateway)}"`);
  if (options.nonce) attrs.push(`nonce="${escapeHtml(options.nonce)}"`);
  if (options.mask && options.mask.length > 0) attrs.push(`data-mask="${jsonAttribute(options.mask)}"`);
  if (options.cookies !== undefined && options.cookies !== null) attrs.push(`data-cookies="${escapeHtml(options.cookies)}"`);
  if (options.cookiesExpire) attrs.push(`data-cookies-expire="${options.cookiesExpire}"`);
  if (options.origin) attrs.push(`data-origin="${escapeHtml(options.origin)}"`);
  if (options.origins) attrs.push(`data-origins="${jsonAttribute(options.origins)}"`);
  if (options.hostOnly && options.hostOnly.length > 0) attrs.push(`data-host-only="${jsonAttribute(options.hostOnly)}"`);
  if (options.hostOnlyUrls && options.hostOnlyUrls.length > 0) attrs.push(`data-host-only-urls="${jsonAttribute(options.hostOnlyUrls)}"`);
  if (options.enter && options.enter.length > 0) attrs.push(`data-enter="${jsonAttribute(options.enter)}"`);
  if (options.formCharset) attrs.push(`data-form-charset="${escapeHtml(options.formCharset)}"`);
  const tag = `<script ${attrs.join(' ')}></script>`;
  // ASCII whatever the page's charset (a cookie or a mask selector may hold any character): the
  // rest as character references, which the attribute's reader gets back as the same text.
  return NOT_ASCII.test(tag) ? tag.replace(NOT_ASCII_CHARS, (c) => `&#${c.codePointAt(0)};`) : tag;
}

const NOT_ASCII_CHARS = /[^\x00-\x7f]/gu;
