// The text of a <script> element in HTML: where it ends (html-raw-text.ts), and, for scripts the
// browser runs (classic and module) or reads as an import map or speculation rules, the URLs in
// it, mapped as in external scripts (js-imports.ts, import-map.ts, protocol/speculation-rules.ts),
// and references to the top window wrapped
// (js-top.ts). The text is copied through as it arrives until the word `import` (or `export`, in a
// module, or such a reference) shows up; from there it is held until </script>,
// then lexed whole (with the text before it as context) and edited. Import maps and speculation
// rules are held whole.
// In a page whose Content-Security-Policy works with hashes, a rewritten element no longer
// matches its hash: there the start tag is held with the text (the scanner feeds both again until
// </script> is in), so that the tag can get the gateway's nonce when the site's policy allows the
// original text (csp-inline-scripts.ts).

import { mapSpeculationRules } from '../../protocol/speculation-rules.js';
import { firstTopCandidate, referenceTailStart } from '../../protocol/top-references.js';
import { trimAsciiWhitespace } from '../../protocol/trim.js';
import { type InlineScriptPolicy, inlineSourceText } from '../csp-inline-scripts.js';
import type { Edits } from './edits.js';
import type { AttributeRewriter, HtmlMapUrl } from './html-attributes.js';
import { find, type TextEnd } from './html-raw-text.js';
import { ATTR, bit, type TagTokens } from './html-tag.js';
import { importMapKeys, rewriteImportMap } from './import-map.js';
import { addScriptEdits, JAVASCRIPT_ESSENCES, mayHaveImports, type ScriptImportOptions } from './js-imports.js';
import { scriptTextEdits } from './script-edits.js';
import { lexableAsBytes, type TextCodec } from './text-codec.js';

/** Script text longer than this is copied through as it is (it is held, and re-fed with every chunk, while it is looked at). */
export const MAX_INLINE_SCRIPT = 1 << 20;

/** What a page's scripts are rewritten with besides the URL mapper. */
export interface PageScriptContext {
  /** The site's policies for inline scripts, when one takes the gateway's nonce. */
  inlineScripts: InlineScriptPolicy | null;
  /** The gateway's nonce for this response (the page has a policy), for the elements it adds. */
  nonce: string | null;
  /** The document's (proxied) URL. */
  baseUrl: string | null;
}

/** What a script element's text is to the browser. */
export const SCRIPT_DATA = 0;
export const SCRIPT_CLASSIC = 1;
export const SCRIPT_MODULE = 2;
export const SCRIPT_IMPORT_MAP = 3;
export const SCRIPT_SPECULATION_RULES = 4;

/** What the browser makes of a <script> start tag's text (HTML standard, "prepare the script element"): an external script's text is not run. */
export function scriptTextKind(text: string, tag: TagTokens, attributes: AttributeRewriter): number {
  if ((tag.seen & bit(ATTR.SRC)) !== 0) return SCRIPT_DATA;
  if ((tag.seen & bit(ATTR.TYPE)) === 0) return SCRIPT_CLASSIC;
  const type = trimAsciiWhitespace(attributes.value(text, tag, ATTR.TYPE)).toLowerCase();
  if (type === '' || JAVASCRIPT_ESSENCES.has(type)) return SCRIPT_CLASSIC;
  if (type === 'module') return SCRIPT_MODULE;
  if (type === 'importmap') return SCRIPT_IMPORT_MAP;
  if (type === 'speculationrules') return SCRIPT_SPECULATION_RULES;
  return SCRIPT_DATA;
}

/** The text of the current script element; one per scanner. */
export class ScriptText {
  /** The last scan found </script>. */
  ended = false;
  /** Where to hold from after a scan returned -1. */
  holdPos = 0;
  private kind = SCRIPT_DATA;
  /** The rest of this script's text is left out (speculation rules too long to map). */
  private discard = false;
  /** The script's text already sent on, before the held part (context for the lexer). */
  private before = '';
  private holding = false;
  /** Where the search for </script> goes on, from the start of the held part. */
  private resume = 0;
  /** With a policy: where the start tag began and where its `>` is, in the text of this scan (-1: gone on). */
  private tagStart = -1;
  private tagGt = -1;
  private ownNonce = false;
  /** The last scan returned -1 to have the start tag fed again with the text (the scanner goes back to data). */
  restart = false;
  /** Top-level keys of the page's import maps so far. */
  readonly importMapKeys: string[] = [];
  private readonly mapSpecifier: (url: string) => string | null;

  constructor(
    private readonly rest: TextEnd,
    mapUrl: HtmlMapUrl,
    private readonly codec: TextCodec,
    private readonly policy: InlineScriptPolicy | null = null,
    /** Wrap references to the top window (a document with the runtime in it). */
    private readonly topReferences = true,
  ) {
    const context = { tag: 'script', attr: '' };
    this.mapSpecifier = (url) => mapUrl(url, context);
  }

  /** A <script> start tag text[tagStart, tagEnd) was seen; its text is of `kind` (scriptTextKind); `ownNonce`: it has a nonce attribute. */
  begin(kind: number, tagStart: number, tagEnd: number, ownNonce: boolean): void {
    this.kind = kind;
    this.discard = false;
    this.before = '';
    this.holding = false;
    this.resume = 0;
    this.restart = false;
    this.ownNonce = ownNonce;
    const withTag = this.holdsTag();
    this.tagStart = withTag ? tagStart : -1;
    this.tagGt = withTag ? tagEnd - 1 : -1;
  }

  /** Whether the start tag must be held with the text (a policy with hashes decides whether the rewritten element gets a nonce). */
  holdsTag(): boolean {
    return this.policy !== null && this.kind !== SCRIPT_DATA && !this.ownNonce;
  }

  /** In script data: at the `<` of </script>, with the edits of the text added, or -1 (hold from `holdPos`). */
  scan(text: string, i: number, end: number, final: boolean, edits: Edits): number {
    const rest = this.rest;
    if (this.kind === SCRIPT_DATA) {
      const r = rest.script(text, i, end, final);
      this.ended = rest.ended;
      if (r < 0) this.holdPos = rest.holdPos;
      if (this.discard) {
        this.drop(i, r < 0 ? rest.holdPos : r, edits);
        // The script ends here: what follows (another script entered without begin()) is kept.
        if (rest.ended) this.discard = false;
      }
      return r;
    }
    const r = rest.script(text, this.holding ? i + this.resume : i, end, final);
    this.ended = rest.ended;
    // The script's text runs at least to `stop`; it is complete at </script> or at the end of the document.
    const stop = r < 0 ? rest.holdPos : r;
    const complete = this.ended || (final && r >= 0);
    if (this.tagStart !== -1 && !complete) {
      if (stop - this.tagStart <= MAX_INLINE_SCRIPT) {
        // Tag and text are fed again with the next chunk, until </script> is in.
        this.restart = true;
        return this.hold(this.tagStart);
      }
      // Too long to hold with its tag: looked at as in a page without a policy (no nonce).
      this.tagStart = -1;
    }
    if (!this.holding) {
      const from = this.kind === SCRIPT_IMPORT_MAP || this.kind === SCRIPT_SPECULATION_RULES ? i : this.firstWord(text, i, stop);
      if (from !== -1 && !complete) {
        this.holding = true;
        this.before += text.slice(i, from);
        this.resume = stop - from;
        return this.hold(from);
      }
      if (from === -1) {
        if (complete) return this.done(r);
        // A reference to the top window the chunk ends inside of is held back whole (it holds
        // nothing the script-end scanner reacts to, so that scanner reads it again unchanged).
        const keep = referenceTailStart(text, i, stop);
        this.before += text.slice(i, keep);
        if (this.before.length > MAX_INLINE_SCRIPT) this.kind = SCRIPT_DATA;
        return this.hold(keep);
      }
    }
    if (complete) {
      this.rewrite(text, i, r, edits);
      return this.done(r);
    }
    if (this.before.length + stop - i > MAX_INLINE_SCRIPT) {
      // Too long to hold: sent on as it is. Speculation rules (held from their first byte) are
      // left out instead: unmapped, the browser would fetch their real URLs itself.
      if (this.kind === SCRIPT_SPECULATION_RULES) {
        this.discard = true;
        this.drop(i, stop, edits);
      }
      this.kind = SCRIPT_DATA;
      this.holding = false;
      return r < 0 ? this.hold(stop) : r;
    }
    this.resume = stop - i;
    return this.hold(i);
  }

  /**
   * Where the held part starts: the first `import`/`export` or reference to the top window
   * (js-top.ts) of text[i, stop) (or i, when a word runs into it from the text before), else -1.
   */
  private firstWord(text: string, i: number, stop: number): number {
    const module = this.kind === SCRIPT_MODULE;
    const seam = `${this.before.slice(-5)}${text.slice(i, Math.min(i + 5, stop))}`;
    if (mayHaveImports(seam, 0, seam.length, module)) return i;
    const k = find(text, 'import', i, stop);
    const e = module ? find(text, 'export', i, stop) : -1;
    const word = k === -1 ? e : e === -1 ? k : Math.min(k, e);
    const top = this.topReferences ? firstTopCandidate(text, i, word === -1 ? stop : word) : -1;
    return top === -1 ? word : top;
  }

  /** Adds the edits of the script's text: what was sent on, then text[i, r). */
  private rewrite(text: string, i: number, r: number, edits: Edits): void {
    if (this.kind === SCRIPT_SPECULATION_RULES) {
      const mapped = mapSpeculationRules(this.codec.decode(text.slice(i, r)), this.mapSpecifier);
      if (mapped === null) return;
      this.addNonce(text, i, r, edits);
      edits.add(i, r, mapped);
      return;
    }
    if (this.kind === SCRIPT_IMPORT_MAP) {
      const json = this.codec.decode(text.slice(i, r));
      const mapped = rewriteImportMap(json, this.mapSpecifier);
      this.importMapKeys.push(...importMapKeys(mapped ?? json));
      if (mapped === null) return;
      this.addNonce(text, i, r, edits);
      edits.add(i, r, mapped);
      return;
    }
    const options: ScriptImportOptions = {
      mapSpecifier: this.mapSpecifier,
      codec: this.codec,
      base: this.kind === SCRIPT_MODULE ? 'import.meta.url' : 'document.baseURI',
    };
    const source = `${this.before}${text.slice(i, r)}`;
    const offset = i - this.before.length;
    // Edits come after the word holding began at, so never in the text already sent on; checked all the same.
    // References to the top window: in a document the runtime answers for (not an srcdoc one), and in text the lexer can read byte by byte.
    const top = this.topReferences && firstTopCandidate(source, 0, source.length) !== -1 && lexableAsBytes(source, this.codec);
    const found = scriptTextEdits(source, options, top).filter((f) => offset + f.s >= i);
    if (found.length === 0) return;
    this.addNonce(text, i, r, edits);
    addScriptEdits(found, offset, edits);
  }

  /** The rewritten element's start tag (still in `text`) gets the gateway's nonce when the site's policy allows the original text[i, r). */
  private addNonce(text: string, i: number, r: number, edits: Edits): void {
    if (this.tagStart === -1 || this.policy === null || this.before !== '' || edits.lastEnd > this.tagGt) return;
    const nonce = this.policy.nonceFor(inlineSourceText(this.codec.decode(text.slice(i, r))), this.ownNonce);
    if (nonce !== null) edits.add(this.tagGt, this.tagGt, ` nonce="${nonce}"`);
  }

  /** Leaves text[i, end) out of the page (a script's text that must not reach the browser). */
  private drop(i: number, end: number, edits: Edits): void {
    if (end > i && i >= edits.lastEnd) edits.add(i, end, '');
  }

  private done(r: number): number {
    this.discard = false;
    this.tagStart = -1;
    this.kind = SCRIPT_DATA;
    this.before = '';
    this.holding = false;
    return r;
  }

  private hold(p: number): number {
    this.holdPos = p;
    return -1;
  }
}
