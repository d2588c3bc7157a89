// The attribute URL policy: which attributes of which elements carry URLs, and how a tag's
// attributes are rewritten (link rel and integrity, meta refresh, srcset and ping lists, style,
// srcdoc, and the references to the top window in event handlers and javascript: URLs, see
// js-top.ts) into edits of the scanned text. Values are decoded (charset, character references)
// before mapping and encoded for their quotes after it.

import { isHtmlDataUrl } from '../../protocol/data-url.js';
import { mapFrameAllow } from '../../protocol/frame-allow.js';
import { javascriptUrl } from '../../protocol/javascript-url.js';
import { scriptWithTopReferences } from '../../protocol/top-references.js';
import { trimC0 } from '../../protocol/trim.js';
import { CHECKED_PRELOADS, withIntegrityMarker } from '../subresource-integrity.js';
import { CssScanner } from './css-scanner.js';
import { Edits } from './edits.js';
import { decodeAttributeEntities } from './html-entities.js';
import { ATTR as A, ATTR_NAMES, mayReferenceTop, Q_NONE, Q_UNQUOTED, type TagTokens } from './html-tag.js';
import { refreshUrlSpan } from './meta-refresh.js';
import { listMayHaveAbsolute, mayBeAbsolute } from './relative-url.js';
import { rewriteSrcset } from './srcset.js';
import { type TextCodec, UNICODE_CODEC } from './text-codec.js';

/** Where a URL was found: lowercase tag name and attribute name ('' for element text such as <style>). */
export interface HtmlUrlContext {
  tag: string;
  attr: string;
}

/** Maps one URL found in markup: the replacement, or null to leave it as it is. */
export type HtmlMapUrl = (url: string, context: HtmlUrlContext) => string | null;

/** Rewrites the policy of a `<meta http-equiv="content-security-policy">` (its decoded content), or null to keep it. */
export type MetaPolicy = (policy: string) => string | null;

const DQ = 0x22;
const SQ = 0x27;
const SLASH = 0x2f;

const bit = (id: number): number => 1 << id;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

/** Attributes holding one URL, which the relativeUrlsStay check applies to. */
const SINGLE_URL = bit(A.HREF) | bit(A.SRC) | bit(A.ACTION) | bit(A.FORMACTION) | bit(A.POSTER) | bit(A.DATA) | bit(A.BACKGROUND) | bit(A.XLINK_HREF);
/** Attributes holding a list of URLs. */
const URL_LIST = bit(A.SRCSET) | bit(A.IMAGESRCSET) | bit(A.PING);

/** The style attribute, rewritten on every element. */
const STYLE = bit(A.STYLE);
/** Event handler attributes, on every element. */
const HANDLER = bit(A.HANDLER);
/** What every element may need rewritten, whatever its name. */
const ANY_ELEMENT = STYLE | HANDLER;

const TABLE_BACKGROUND = bit(A.BACKGROUND);
/** Elements whose `src` loads a document of its own (an HTML data: URL there is rewritten as one). */
const FRAME_SRC = new Set(['iframe', 'frame', 'embed']);
/** URL attributes of HTML elements. */
export const HTML_WANT = new Map<string, number>([
  ['a', bit(A.HREF) | bit(A.PING)],
  ['area', bit(A.HREF) | bit(A.PING)],
  ['base', bit(A.HREF)],
  ['link', bit(A.HREF) | bit(A.IMAGESRCSET)],
  ['img', bit(A.SRC) | bit(A.SRCSET)],
  ['image', bit(A.SRC) | bit(A.SRCSET)],
  ['source', bit(A.SRC) | bit(A.SRCSET)],
  ['script', bit(A.SRC)],
  ['iframe', bit(A.SRC) | bit(A.SRCDOC) | bit(A.ALLOW)],
  ['frame', bit(A.SRC)],
  ['embed', bit(A.SRC)],
  ['track', bit(A.SRC)],
  ['audio', bit(A.SRC)],
  ['video', bit(A.SRC) | bit(A.POSTER)],
  ['input', bit(A.SRC) | bit(A.FORMACTION)],
  ['button', bit(A.FORMACTION)],
  ['form', bit(A.ACTION)],
  ['object', bit(A.DATA)],
  ['meta', bit(A.CONTENT)],
  ['body', TABLE_BACKGROUND],
  ['table', TABLE_BACKGROUND],
  ['thead', TABLE_BACKGROUND],
  ['tbody', TABLE_BACKGROUND],
  ['tfoot', TABLE_BACKGROUND],
  ['tr', TABLE_BACKGROUND],
  ['td', TABLE_BACKGROUND],
  ['th', TABLE_BACKGROUND],
]);
/** URL attributes of SVG and MathML elements. */
const FOREIGN_WANT = bit(A.HREF) | bit(A.XLINK_HREF);
/** <font> with one of these leaves SVG/MathML content. */
const FONT_BREAKOUT = bit(A.COLOR) | bit(A.FACE) | bit(A.SIZE);

/**
 * Link types whose href the browser loads, or connects to (preconnect, dns-prefetch: outside CSP),
 * by itself. Others (canonical, alternate, next) are read by the page's script and by crawlers, and
 * stay as written.
 */
const LINK_RELS = new Set([
  'preconnect',
  'dns-prefetch',
  'prerender',
  'compression-dictionary',
  'stylesheet',
  'preload',
  'modulepreload',
  'prefetch',
  'manifest',
  'icon',
  'apple-touch-icon',
  'apple-touch-icon-precomposed',
  'mask-icon',
]);

const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&#39;' };
const escapeAttrChar = (ch: string): string => ATTR_ESCAPES[ch] ?? `&#${ch.codePointAt(0)};`;
const NON_ASCII = /[^\x00-\x7f]/;
const NEEDS_QUOTES = /[\t\n\f\r "'=<>`]/;
const DQ_ESCAPES = /[&"]/g;
const SQ_ESCAPES = /[&']/g;
const DQ_ASCII_ESCAPES = /[&"]|[^\x00-\x7f]/gu;
const SQ_ASCII_ESCAPES = /[&']|[^\x00-\x7f]/gu;

/** Whether a URL is relative to the document (so it is served by the proxied host itself). */
function isRelativeUrl(url: string): boolean {
  const u = url.trim();
  return !/^[a-z][a-z0-9+.-]*:/i.test(u) && !/^[/\\]{2}/.test(u);
}

/** Rewrites the URL attributes of one tag at a time into edits; one per scanner. */
export class AttributeRewriter {
  private readonly styleAttr: CssScanner;
  private readonly styleEdits = new Edits();
  private cssContext: HtmlUrlContext = { tag: 'style', attr: '' };

  constructor(
    private readonly mapUrl: HtmlMapUrl,
    private readonly codec: TextCodec,
    private readonly relativeUrlsStay: boolean,
    /** Rewrites an srcdoc document (Unicode in, Unicode out), or null when nothing changed. */
    private readonly srcdoc: (html: string) => string | null,
    private readonly metaPolicy: MetaPolicy | null = null,
    /** Wrap references to the top window in event handlers and javascript: URLs (a document with the runtime in it). */
    private readonly topReferences = true,
    /** Rewrites the HTML document of a data: URL a frame loads (the URL in, a data: URL out), or null when nothing changed. */
    private readonly dataDocument: (url: string) => string | null = () => null,
  ) {
    this.styleAttr = new CssScanner((url) => this.mapUrl(url, this.cssContext), UNICODE_CODEC, relativeUrlsStay);
  }

  /** The content attribute being rewritten is a <meta> element's Content-Security-Policy. */
  private metaPolicyContent = false;

  /** The decoded value of the first attribute with id `id` (it must have been seen). */
  value(text: string, tag: TagTokens, id: number): string {
    return this.valueAt(text, tag, tag.first[id]!);
  }

  private valueAt(text: string, tag: TagTokens, k: number): string {
    const raw = text.slice(tag.valueStart(k), tag.valueEnd(k));
    return decodeAttributeEntities(this.codec.decode(raw));
  }

  /**
   * After rewriteElement: the module the element fetches with an integrity marker
   * (`<link rel=modulepreload>`, `<script type=module src>`), its URL as written (or mapped) and
   * the marked one; null for any other element.
   */
  markedModule: { url: string; marked: string } | null = null;

  /** Adds the edits for a start tag named `name` whose element has the URL attributes `want` (foreign: an SVG/MathML element). */
  rewriteElement(text: string, tag: TagTokens, name: string, foreign: boolean, want: number, edits: Edits): void {
    this.markedModule = null;
    const seen = tag.seen;
    const wanted = (foreign ? FOREIGN_WANT : want) | ANY_ELEMENT;
    if ((seen & wanted) !== 0) this.rewrite(text, tag, name, foreign, seen, wanted, edits);
  }

  /** Adds the edits for the style attribute and event handlers of an element that has no URL attributes. */
  rewriteAnyElement(text: string, tag: TagTokens, name: string, edits: Edits): void {
    this.rewrite(text, tag, name, false, tag.seen, ANY_ELEMENT, edits);
  }

  /** Whether a <font> start tag leaves SVG/MathML content (it has color, face or size). */
  fontBreaksOut(tag: TagTokens): boolean {
    return (tag.seen & FONT_BREAKOUT) !== 0;
  }

  private rewrite(text: string, tag: TagTokens, name: string, foreign: boolean, seen: number, want: number, edits: Edits): void {
    const first = tag.first;
    const n = tag.count;
    // The attribute (href or src) of a subresource whose bytes the gateway may change and whose integrity it then checks; 0: none.
    let checked = 0;
    let module = false;
    if (!foreign && name === 'link') {
      const rel =
        (seen & bit(A.REL)) !== 0
          ? this.value(text, tag, A.REL)
              .toLowerCase()
              .split(/[\t\n\f\r ]+/)
          : [];
      if (!rel.some((token) => LINK_RELS.has(token))) want &= ~(bit(A.HREF) | bit(A.IMAGESRCSET));
      const as = (seen & bit(A.AS)) !== 0 ? this.value(text, tag, A.AS).trim().toLowerCase() : '';
      if (rel.includes('stylesheet') || rel.includes('modulepreload') || (rel.includes('preload') && CHECKED_PRELOADS.has(as))) checked = A.HREF;
      module = rel.includes('modulepreload');
    } else if (!foreign && name === 'script') {
      checked = A.SRC;
      module = (seen & bit(A.TYPE)) !== 0 && this.value(text, tag, A.TYPE).trim().toLowerCase() === 'module';
    } else if (!foreign && name === 'meta') {
      const equiv = (seen & bit(A.HTTP_EQUIV)) !== 0 ? this.value(text, tag, A.HTTP_EQUIV).trim().toLowerCase() : '';
      this.metaPolicyContent = equiv === 'content-security-policy' && this.metaPolicy !== null;
      if (equiv !== 'refresh' && !this.metaPolicyContent) want &= ~bit(A.CONTENT);
    }
    if ((seen & want) === 0) return;
    if (checked !== 0 && (seen & bit(A.INTEGRITY)) === 0 && name === 'script') checked = 0;
    let reps: (string | null)[] | null = null;
    let dropIntegrity = false;
    for (let k = 0; k < n; k++) {
      const id = tag.id(k);
      // Every event handler counts (they have different names); of the other attributes the first.
      if ((first[id] !== k && id !== A.HANDLER) || (want & bit(id)) === 0) continue;
      if (this.relativeUrlsStay && checked === 0 && !this.mayChange(text, tag, k, id)) continue;
      const value = this.valueAt(text, tag, k);
      const rep = this.rewriteValue(id, value, name);
      if (checked === 0) {
        if (rep !== null) this.writeValue(tag, k, rep, edits);
        continue;
      }
      if (id === checked) dropIntegrity = rep !== null || (value.trim() !== '' && isRelativeUrl(value));
      if (rep !== null) {
        reps ??= [];
        reps[k] = rep;
      }
    }
    if (checked === 0 || (reps === null && !dropIntegrity)) return;
    // The browser cannot check bytes the gateway changes: the metadata travels in the URL, and the
    // gateway checks the site's bytes (see subresource-integrity.ts).
    const integrity = dropIntegrity && (seen & bit(A.INTEGRITY)) !== 0 ? this.value(text, tag, A.INTEGRITY).trim() : '';
    for (let k = 0; k < n; k++) {
      const id = tag.id(k);
      let rep = reps?.[k];
      if (integrity && id === checked && first[id] === k) {
        // Space around a URL is not part of it (URL standard); the marker goes at its end.
        const url = trimC0(rep ?? this.valueAt(text, tag, k));
        rep = withIntegrityMarker(url, integrity);
        if (module) this.markedModule = { url, marked: rep };
      }
      if (rep !== undefined && rep !== null) this.writeValue(tag, k, rep, edits);
      else if (dropIntegrity && id === A.INTEGRITY) this.removeAttr(text, tag, k, edits);
    }
  }

  /** False when a mapper that keeps relative URLs cannot change attribute k (of id `id`). */
  private mayChange(text: string, tag: TagTokens, k: number, id: number): boolean {
    const s = tag.valueStart(k);
    const e = tag.valueEnd(k);
    if ((SINGLE_URL & (1 << id)) !== 0) return mayBeAbsolute(text, s, e);
    if ((URL_LIST & (1 << id)) !== 0) return listMayHaveAbsolute(text.slice(s, e));
    if (id === A.HANDLER) return mayReferenceTop(text, s, e);
    return true;
  }

  /** The new value of attribute `id`, or null to keep it. */
  private rewriteValue(id: number, value: string, tag: string): string | null {
    const context: HtmlUrlContext = { tag, attr: ATTR_NAMES[id]! };
    switch (id) {
      case A.SRCSET:
      case A.IMAGESRCSET:
        return rewriteSrcset(value, (url) => this.mapUrl(url, context));
      case A.PING:
        return this.mapList(value, context);
      case A.CONTENT:
        if (this.metaPolicyContent) {
          this.metaPolicyContent = false;
          return this.rewriteMetaPolicy(value);
        }
        return this.mapRefresh(value, context);
      case A.STYLE:
        return this.rewriteStyleAttr(value, context);
      case A.SRCDOC:
        return value.indexOf('<') === -1 ? null : this.srcdoc(value);
      case A.ALLOW:
        return mapFrameAllow(value, (url) => this.mapUrl(url, context));
      case A.HANDLER:
        return this.topReferences ? scriptWithTopReferences(value) : null;
      default:
        if (((id === A.SRC && FRAME_SRC.has(tag)) || (id === A.DATA && tag === 'object')) && isHtmlDataUrl(value)) return this.dataDocument(value);
        return (this.topReferences ? javascriptUrl(value) : null) ?? this.mapOne(value, context);
    }
  }

  private writeValue(tag: TagTokens, k: number, value: string, edits: Edits): void {
    const q = tag.quote(k);
    if (q === Q_NONE) {
      edits.add(tag.nameEndOf(k), tag.nameEndOf(k), `="${this.encode(value, DQ)}"`);
      return;
    }
    let raw: string;
    if (q !== Q_UNQUOTED) raw = this.encode(value, q);
    else if (NEEDS_QUOTES.test(value)) raw = `"${this.encode(value, DQ)}"`;
    else raw = this.encode(value, Q_UNQUOTED);
    edits.add(tag.valueStart(k), tag.valueEnd(k), raw);
  }

  private encode(value: string, quote: number): string {
    if (value.indexOf('&') === -1 && value.indexOf(quote === SQ ? "'" : '"') === -1 && (!this.codec.asciiOnly || !NON_ASCII.test(value)))
      return this.codec.encode(value);
    const re = this.codec.asciiOnly ? (quote === SQ ? SQ_ASCII_ESCAPES : DQ_ASCII_ESCAPES) : quote === SQ ? SQ_ESCAPES : DQ_ESCAPES;
    return this.codec.encode(value.replace(re, escapeAttrChar));
  }

  /** Removes attribute k with the whitespace before it (unless '/' follows, which must stay apart from an unquoted value). */
  private removeAttr(text: string, tag: TagTokens, k: number, edits: Edits): void {
    const q = tag.quote(k);
    const end = q === Q_NONE ? tag.nameEndOf(k) : q === Q_UNQUOTED ? tag.valueEnd(k) : tag.valueEnd(k) + 1;
    let start = tag.nameStartOf(k);
    const floor = edits.lastEnd;
    if (text.charCodeAt(end) !== SLASH) while (start > floor && isWs(text.charCodeAt(start - 1))) start--;
    edits.add(start, end, '');
  }

  private mapOne(value: string, context: HtmlUrlContext): string | null {
    let s = 0;
    let e = value.length;
    while (s < e && isWs(value.charCodeAt(s))) s++;
    while (e > s && isWs(value.charCodeAt(e - 1))) e--;
    if (s === e) return null;
    const mapped = this.mapUrl(s === 0 && e === value.length ? value : value.slice(s, e), context);
    if (mapped === null) return null;
    return value.slice(0, s) + mapped + value.slice(e);
  }

  private mapList(value: string, context: HtmlUrlContext): string | null {
    let changed = false;
    const out = value.replace(/[^\t\n\f\r ]+/g, (url) => {
      const mapped = this.mapUrl(url, context);
      if (mapped === null) return url;
      changed = true;
      return mapped;
    });
    return changed ? out : null;
  }

  private mapRefresh(value: string, context: HtmlUrlContext): string | null {
    const span = refreshUrlSpan(value);
    if (span === null) return null;
    const mapped = this.mapUrl(value.slice(span[0], span[1]), context);
    return mapped === null ? null : value.slice(0, span[0]) + mapped + value.slice(span[1]);
  }

  private rewriteMetaPolicy(policy: string): string | null {
    try {
      const rewritten = this.metaPolicy?.(policy) ?? null;
      return rewritten === policy ? null : rewritten;
    } catch {
      return null;
    }
  }

  private rewriteStyleAttr(value: string, context: HtmlUrlContext): string | null {
    if (value.indexOf('(') === -1 && value.indexOf('@') === -1) return null;
    this.cssContext = context;
    const edits = this.styleEdits;
    edits.clear();
    this.styleAttr.scan(value, 0, value.length, true, edits);
    return edits.length > 0 ? edits.applyToString(value, 0, value.length) : null;
  }
}
