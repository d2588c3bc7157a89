// The HTML scanner: a scanner, not a parser. It follows the tokenizer states that decide where
// markup is (data, tags, comments, raw text, script data and its escapes, CDATA in foreign
// content), jumps between them with indexOf, tokenizes the attributes only of tags that may need
// rewriting, and records its replacements as edits; every other byte stays where it is. Text is
// bytes held as a latin1 string, so offsets are byte offsets for any ASCII-compatible charset.

import { decodeDataUrl, decodeHtml, isMappedDataDocument, mappedDataUrl } from '../../protocol/data-url.js';
import { findInjectionPoint } from '../html-inject.js';
import { CssScanner } from './css-scanner.js';
import { Edits } from './edits.js';
import { AttributeRewriter, type HtmlMapUrl, type MetaPolicy } from './html-attributes.js';
import {
  BREAKOUT,
  ELEMENTS,
  ForeignContent,
  TAG_TRANSITION,
  TAG_WANT,
  TO_FOREIGN,
  TO_PLAIN,
  TO_RAW,
  TO_SCRIPT,
  TO_STYLE,
  tagTransition,
} from './html-elements.js';
import { skipPlainMarkup, textTicket } from './html-fast-skip.js';
import { TextEnd } from './html-raw-text.js';
import { type PageScriptContext, ScriptText, scriptTextKind } from './html-script-text.js';
import { lowerName } from './html-syntax.js';
import { ATTR, bit, LongTag, TagTokens } from './html-tag.js';
import { integrityImportMap } from './import-map.js';
import { type TextCodec, UTF8_CODEC } from './text-codec.js';

/** How much prologue is read while looking for <head> before the snippet goes in anyway. */
const MAX_PROLOGUE = 64 * 1024;
const MAX_SRCDOC_DEPTH = 8;

/** Longest tag held back across chunks; a longer one is copied through unmodified. */
const MAX_TAG = 1 << 20;

const BANG = 0x21;
const DASH = 0x2d;
const SLASH = 0x2f;
const GT = 0x3e;
const QUESTION = 0x3f;

function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c;
}

const S_PROLOGUE = 0;
const S_DATA = 1;
const S_COMMENT = 2;
const S_BOGUS = 3;
const S_CDATA = 4;
const S_RAW = 5;
const S_SCRIPT = 6;
const S_STYLE = 7;
const S_LONG_TAG = 8;
const S_PLAIN = 9;

/** Scans one document fed in pieces: `feed` gets the unconsumed tail of the last piece plus the next one. */
export class HtmlScanner {
  /** Set once anything was inserted or rewritten. */
  changed = false;
  private state: number;
  private rawName = '';
  private holdPos = 0;
  private edits = new Edits();
  private readonly tag = new TagTokens();
  // Tables read per tag are held here, not read as imports: vite-node (vitest, bench/rewriter-throughput.ts)
  // turns every access to an imported binding into a getter call.
  private readonly elements = ELEMENTS;
  private readonly wants = TAG_WANT;
  private readonly transitions = TAG_TRANSITION;
  private readonly rest = new TextEnd();
  private readonly longTag = new LongTag();
  private readonly foreign = new ForeignContent();
  private readonly attributes: AttributeRewriter;
  private readonly styleText: CssScanner;
  /** The fast path (html-fast-skip.ts) applies: the mapper keeps relative URLs. */
  private readonly fast: boolean;
  private readonly skipPlain = skipPlainMarkup;
  private readonly newTicket = textTicket;
  /** The fast path's name for the text being fed (html-fast-skip.ts). */
  private ticket = 0;
  private readonly scriptText: ScriptText;
  /** In an SVG <style> (foreign content, so its text is data and CDATA): that text is CSS, mapped as an HTML <style>'s. */
  private svgStyle = false;

  /** `snippet` (latin1-held bytes) goes at the start of <head>; `depth` counts srcdoc nesting. */
  constructor(
    private readonly mapUrl: HtmlMapUrl,
    codec: TextCodec,
    private readonly snippet: string | null,
    private readonly depth: number,
    private readonly relativeUrlsStay: boolean,
    fastPath = true,
    private readonly page: PageScriptContext | null = null,
    private readonly metaPolicy: MetaPolicy | null = null,
    /** The runtime's tag for an HTML data: document a frame of this page loads (Unicode markup); null: its markup is rewritten, no runtime goes in. */
    private readonly dataDocumentTag: (() => string) | null = null,
  ) {
    this.fast = relativeUrlsStay && fastPath;
    this.state = snippet === null ? S_DATA : S_PROLOGUE;
    const styleContext = { tag: 'style', attr: '' };
    this.styleText = new CssScanner((url) => mapUrl(url, styleContext), codec, relativeUrlsStay);
    // An srcdoc document parsed from the page gets the runtime only if the parent's runtime adopted
    // the frame's first window in time: no hook to count on, so its references to the top window
    // stay. A document with the runtime's tag first (the page, a data: frame's) has the hook.
    const withRuntime = depth === 0 || snippet !== null;
    this.attributes = new AttributeRewriter(
      mapUrl,
      codec,
      relativeUrlsStay,
      (html) => this.rewriteSrcdoc(html),
      metaPolicy,
      withRuntime,
      (url) => this.rewriteDataDocument(url),
    );
    this.scriptText = new ScriptText(this.rest, mapUrl, codec, page?.inlineScripts ?? null, withRuntime);
  }

  /** The fast path (html-fast-skip.ts) is used: the mapper keeps relative URLs and the fast path was not turned off. */
  get usesFastPath(): boolean {
    return this.fast;
  }

  /**
   * The next text is read from plain data with the fast path (html-fast-skip.ts): what
   * skipPlainMarkup skips from its start would be consumed with no edit and no change of state, so
   * the caller may cross it itself (skipPlainBytes) and feed from where it stops.
   */
  get inPlainData(): boolean {
    return this.state === S_DATA && this.fast && !this.foreign.open;
  }

  /** Adds the edits of text to `edits` and returns how much of it was consumed; the rest must be fed again with more input. */
  feed(text: string, final: boolean, edits: Edits): number {
    this.edits = edits;
    this.ticket = this.newTicket();
    let i = 0;
    if (this.state === S_PROLOGUE) {
      const at = this.prologue(text, final);
      if (at < 0) return 0;
      if (this.state === S_PROLOGUE) {
        this.state = S_DATA;
        this.run(text, 0, at, true);
        edits.add(at, at, this.snippet!);
        i = at;
      }
    }
    i = this.run(text, i, text.length, final);
    if (edits.length > 0) this.changed = true;
    return i;
  }

  private run(text: string, i: number, end: number, final: boolean): number {
    const rest = this.rest;
    while (i < end) {
      let r: number;
      const state = this.state;
      if (state === S_DATA) {
        r = this.data(text, i, end, final);
        if (r < 0) return this.holdPos;
        i = r;
        continue;
      }
      switch (state) {
        case S_COMMENT:
          r = rest.comment(text, i, end, final);
          break;
        case S_BOGUS:
          r = rest.bogus(text, i, end);
          break;
        case S_CDATA:
          if (this.svgStyle) {
            r = this.svgStyleCdata(text, i, end, final);
            if (r < 0) return this.holdPos;
            i = r;
            continue;
          }
          r = rest.cdata(text, i, end, final);
          break;
        case S_RAW:
          r = rest.rawText(text, i, end, final, this.rawName);
          break;
        case S_SCRIPT:
          r = this.scriptText.scan(text, i, end, final, this.edits);
          if (r < 0) return this.scriptText.restart ? this.restartScript() : this.scriptText.holdPos;
          if (this.scriptText.ended) this.state = S_DATA;
          i = r;
          continue;
        case S_STYLE:
          r = this.style(text, i, end, final);
          if (r < 0) return this.holdPos;
          i = r;
          continue;
        case S_LONG_TAG:
          i = this.longTagEnd(text, i, end);
          continue;
        default:
          return end;
      }
      if (r < 0) return rest.holdPos;
      if (rest.ended) this.state = S_DATA;
      i = r;
    }
    return i;
  }

  private hold(p: number): number {
    this.holdPos = p;
    return -1;
  }

  /**
   * A module fetched with an integrity marker (its URL as written and the marked one): an import
   * map goes before its element (at `lt`), so that an import of the plain URL gets the same record.
   */
  private mapMarkedModule(lt: number, module: { url: string; marked: string }): void {
    const page = this.page;
    const map = integrityImportMap(module.url, module.marked, {
      nonce: page?.nonce ?? null,
      baseUrl: page?.baseUrl ?? null,
      pageKeys: this.scriptText.importMapKeys,
    });
    if (map !== null) this.edits.insertBefore(lt, map);
  }

  /** A script element held with its start tag (html-script-text.ts): the tag is tokenized again with the next chunk. */
  private restartScript(): number {
    const at = this.scriptText.holdPos;
    this.edits.dropFrom(at);
    this.state = S_DATA;
    return at;
  }

  private prologue(text: string, final: boolean): number {
    const n = text.length;
    const b0 = text.charCodeAt(0);
    if (n < 2 && !final && (n === 0 || b0 === 0xfe || b0 === 0xff)) return -1;
    const b1 = text.charCodeAt(1);
    if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) {
      this.state = S_PLAIN;
      return 0;
    }
    if (n >= MAX_PROLOGUE) {
      const head = text.slice(0, MAX_PROLOGUE);
      const scan = findInjectionPoint(head, false);
      if (scan.kind === 'insert-at') return scan.index;
      const forced = findInjectionPoint(head, true);
      return forced.kind === 'insert-at' ? forced.index : 0;
    }
    const scan = findInjectionPoint(text, final);
    return scan.kind === 'insert-at' ? scan.index : -1;
  }

  private data(text: string, i: number, end: number, final: boolean): number {
    // Not before the snippet's place (end < text.length): the prologue is scanned up to there only.
    const fast = this.fast && end === text.length;
    for (;;) {
      if (fast && !this.foreign.open) i = this.skipPlain(text, i, this.ticket);
      if (this.svgStyle) {
        i = this.svgStyleText(text, i, end, final);
        if (i < 0) return i;
      }
      const lt = text.indexOf('<', i);
      if (lt === -1 || lt >= end) return end;
      if (lt + 1 >= end) return final ? end : this.hold(lt);
      const c = text.charCodeAt(lt + 1);
      let r: number;
      if (isAlpha(c)) r = this.tagAt(text, lt, end, final, false);
      else if (c === SLASH) {
        if (lt + 2 >= end) return final ? end : this.hold(lt);
        const c2 = text.charCodeAt(lt + 2);
        if (isAlpha(c2)) r = this.tagAt(text, lt, end, final, true);
        else if (c2 === GT) r = lt + 3;
        else {
          this.state = S_BOGUS;
          return lt + 2;
        }
      } else if (c === BANG) r = this.markupDeclaration(text, lt, end, final);
      else if (c === QUESTION) {
        this.state = S_BOGUS;
        return lt + 1;
      } else r = lt + 1;
      if (r < 0 || this.state !== S_DATA) return r;
      i = r;
    }
  }

  private markupDeclaration(text: string, lt: number, end: number, final: boolean): number {
    if (text.charCodeAt(lt + 2) === DASH) {
      if (lt + 3 >= end) return final ? this.enter(S_BOGUS, lt + 2) : this.hold(lt);
      if (text.charCodeAt(lt + 3) === DASH) {
        const p = lt + 4;
        if (p >= end) return final ? this.enter(S_COMMENT, end) : this.hold(lt);
        const c = text.charCodeAt(p);
        if (c === GT) return p + 1;
        if (c === DASH) {
          if (p + 1 >= end) return final ? this.enter(S_COMMENT, end) : this.hold(lt);
          if (text.charCodeAt(p + 1) === GT) return p + 2;
        }
        return this.enter(S_COMMENT, p);
      }
      return this.enter(S_BOGUS, lt + 2);
    }
    if (lt + 2 >= end) return final ? end : this.hold(lt);
    if (text.charCodeAt(lt + 2) === 0x5b && this.foreign.active) {
      const avail = Math.min(end - lt, 9);
      if (text.startsWith('<![CDATA['.slice(0, avail), lt)) {
        if (avail === 9) return this.enter(S_CDATA, lt + 9);
        if (!final) return this.hold(lt);
      }
    }
    return this.enter(S_BOGUS, lt + 2);
  }

  private enter(state: number, p: number): number {
    this.state = state;
    return p;
  }

  private style(text: string, i: number, end: number, final: boolean): number {
    const rest = this.rest;
    const r = rest.rawText(text, i, end, final, 'style');
    const found = rest.ended;
    if (found) this.state = S_DATA;
    const regionEnd = r < 0 ? rest.holdPos : r;
    const consumed = this.styleText.scan(text, i, regionEnd, found || final, this.edits);
    if (found || consumed === end) return regionEnd;
    return this.hold(consumed);
  }

  /** Text of an SVG <style> from i up to the next markup: CSS; where the text ends, or -1 (hold) for a token that may go on in the next chunk. */
  private svgStyleText(text: string, i: number, end: number, final: boolean): number {
    const lt = text.indexOf('<', i);
    const to = lt === -1 || lt >= end ? end : lt;
    if (to === i) return i;
    const consumed = this.styleText.scan(text, i, to, to < end || final, this.edits);
    return consumed < to ? this.hold(consumed) : to;
  }

  /** A CDATA section in an SVG <style>: its text is CSS too. */
  private svgStyleCdata(text: string, i: number, end: number, final: boolean): number {
    const rest = this.rest;
    const r = rest.cdata(text, i, end, final);
    const found = rest.ended;
    if (found) this.state = S_DATA;
    const regionEnd = r < 0 ? rest.holdPos : found ? r - 3 : r;
    const consumed = this.styleText.scan(text, i, regionEnd, found || final, this.edits);
    if (found || consumed === end) return r;
    return this.hold(consumed);
  }

  /** An end tag named `name` while foreign content is open. */
  private foreignEndTag(name: string): void {
    this.foreign.endTag(name);
    if (this.svgStyle && (name === 'style' || !this.foreign.active)) this.svgStyle = false;
  }

  /** A start or end tag at lt: where it ends, after acting on it; -1 (hold) when it is not complete yet. */
  private tagAt(text: string, lt: number, end: number, final: boolean, isEnd: boolean): number {
    const nameStart = lt + (isEnd ? 2 : 1);
    const limit = Math.min(lt + MAX_TAG, end);
    const tag = this.tag;
    let r = -1;
    if (tag.scanName(text, nameStart, limit)) {
      if (!isEnd) {
        r = this.startTag(text, nameStart, limit);
        // A script held with its start tag (html-script-text.ts) whose text starts in the next chunk.
        if (r >= end && !final && this.state === S_SCRIPT && this.scriptText.holdsTag()) {
          this.edits.dropFrom(lt);
          this.state = S_DATA;
          return this.hold(lt);
        }
      } else {
        const ne = tag.nameEnd;
        r = text.charCodeAt(ne) === GT ? ne + 1 : tag.skip(text, limit);
        if (r >= 0 && this.foreign.open) this.foreignEndTag(lowerName(text, nameStart, ne));
      }
    }
    if (r >= 0) return r;
    if (lt + MAX_TAG < end) return this.beginLongTag(text, lt, nameStart, isEnd);
    return final ? end : this.hold(lt);
  }

  private startTag(text: string, nameStart: number, limit: number): number {
    const tag = this.tag;
    const t = this.elements.find(text, nameStart, tag.nameEnd);
    if (t < 0 && !this.foreign.active) {
      if (text.charCodeAt(tag.nameEnd) === GT) return tag.nameEnd + 1;
      // Only a style attribute or event handlers can need rewriting here; the tag is tokenized again only if it has them.
      const r = tag.skip(text, limit);
      if (r >= 0 && tag.rewritable) {
        tag.parse(text, limit);
        this.attributes.rewriteAnyElement(text, tag, lowerName(text, nameStart, tag.nameEnd), this.edits);
      }
      return r;
    }
    const r = tag.parse(text, limit);
    if (r >= 0) this.element(text, nameStart, t, r);
    return r;
  }

  /** A parsed start tag of a known element (tag index t) or any element in foreign content. */
  private element(text: string, nameStart: number, t: number, tagEnd: number): void {
    const tag = this.tag;
    const attributes = this.attributes;
    const fc = this.foreign;
    let foreign = fc.active;
    const name = t >= 0 ? this.elements.names[t]! : lowerName(text, nameStart, tag.nameEnd);
    if (foreign && (BREAKOUT.has(name) || (name === 'font' && attributes.fontBreaksOut(tag)))) {
      fc.breakOut();
      foreign = fc.active;
      this.svgStyle = false;
    }
    const html = !foreign && t >= 0;
    if (tag.count > 0) {
      attributes.rewriteElement(text, tag, name, foreign, html ? this.wants[t]! : 0, this.edits);
      if (attributes.markedModule !== null) this.mapMarkedModule(nameStart - 1, attributes.markedModule);
    }
    if (foreign) {
      const encoding =
        name === 'annotation-xml' && (tag.seen & bit(ATTR.ENCODING)) !== 0 ? attributes.value(text, tag, ATTR.ENCODING).trim().toLowerCase() : '';
      if (name === 'style' && !tag.selfClosing && fc.inSvg) this.svgStyle = true;
      fc.enter(name, tag.selfClosing, encoding);
    } else if (html && this.transitions[t] !== 0) {
      if (this.transitions[t] === TO_SCRIPT)
        this.scriptText.begin(scriptTextKind(text, tag, attributes), nameStart - 1, tagEnd, (tag.seen & bit(ATTR.NONCE)) !== 0);
      this.enterHtml(name, this.transitions[t]!, tag.selfClosing);
    }
  }

  private enterHtml(name: string, transition: number, selfClosing: boolean): void {
    switch (transition) {
      case TO_SCRIPT:
        this.state = S_SCRIPT;
        this.rest.startScript();
        break;
      case TO_STYLE:
        this.state = S_STYLE;
        break;
      case TO_RAW:
        this.state = S_RAW;
        this.rawName = name;
        break;
      case TO_PLAIN:
        this.state = S_PLAIN;
        break;
      case TO_FOREIGN:
        this.foreign.enterRoot(name, selfClosing);
    }
  }

  /** A tag longer than MAX_TAG: copied through as it is while a resumable tokenizer looks for its end. */
  private beginLongTag(text: string, lt: number, nameStart: number, isEnd: boolean): number {
    const stop = lt + MAX_TAG;
    let j = nameStart;
    while (j < stop) {
      const c = text.charCodeAt(j);
      if (c === GT || c === SLASH || isWs(c)) break;
      j++;
    }
    this.longTag.begin(lowerName(text, nameStart, j), isEnd);
    this.longTag.run(text, nameStart, stop);
    this.state = S_LONG_TAG;
    return stop;
  }

  private longTagEnd(text: string, i: number, end: number): number {
    const long = this.longTag;
    const gt = long.run(text, i, end);
    if (gt < 0) return end;
    this.state = S_DATA;
    const name = long.name;
    const fc = this.foreign;
    if (long.isEnd) {
      if (fc.open) this.foreignEndTag(name);
    } else {
      if (fc.active && BREAKOUT.has(name)) {
        fc.breakOut();
        this.svgStyle = false;
      }
      if (fc.active) fc.enter(name, long.selfClosing, '');
      else {
        const transition = tagTransition(name);
        if (transition !== 0) this.enterHtml(name, transition, long.selfClosing);
      }
    }
    return gt + 1;
  }

  /**
   * The HTML document of a data: URL a frame loads (iframe, frame, embed src; object data),
   * rewritten as a document of its own with the runtime's tag first (it keeps its opaque origin
   * and its data: location, as on the real site), as a UTF-8 data: URL marked as mapped (the
   * runtime leaves it alone when the page's script sets it again); null when it cannot be read, was
   * mapped already, or nothing changed. Without it the frame's absolute URLs were refused by the
   * containment policy, where the real site shows them.
   */
  private rewriteDataDocument(url: string): string | null {
    const body = decodeDataUrl(url.replace(/^[\0- ]+/, ''));
    if (!body || isMappedDataDocument(body.type)) return null;
    const tag = this.dataDocumentTag?.() ?? null;
    const html = this.rewriteInner(decodeHtml(body), tag === null ? null : Buffer.from(tag, 'utf8').toString('latin1'));
    return html === null ? null : mappedDataUrl(html.toString('base64'), url);
  }

  /** An iframe's srcdoc document, rewritten as a document of its own (no snippet), or null when nothing changed. */
  private rewriteSrcdoc(html: string): string | null {
    return this.rewriteInner(html, null)?.toString('utf8') ?? null;
  }

  /** A document in this page (Unicode), rewritten as one of its own (UTF-8 bytes) with `snippet` first (latin1-held), or null when nothing changed. */
  private rewriteInner(html: string, snippet: string | null): Buffer | null {
    if (this.depth >= MAX_SRCDOC_DEPTH) return null;
    const inner = new HtmlScanner(
      this.mapUrl,
      UTF8_CODEC,
      snippet,
      this.depth + 1,
      this.relativeUrlsStay,
      this.fast,
      null,
      this.metaPolicy,
      this.dataDocumentTag,
    );
    const text = Buffer.from(html, 'utf8').toString('latin1');
    const edits = new Edits();
    inner.feed(text, true, edits);
    return inner.changed ? Buffer.from(edits.applyToString(text, 0, text.length), 'latin1') : null;
  }
}
