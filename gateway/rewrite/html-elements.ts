// The elements the scanner must know: those with URL attributes, those that switch the tokenizer
// to raw text, script or plaintext, and SVG/MathML with the HTML standard's rules for where
// foreign content ends ("parsing main inforeign") and where HTML starts again inside it.

import { HTML_WANT } from './html-attributes.js';
import { NameTable } from './html-tag.js';

/** Where an element's start tag takes the tokenizer: script data, <style> text, raw text, plaintext or SVG/MathML (0: nowhere). */
export const TO_SCRIPT = 1;
export const TO_STYLE = 2;
export const TO_RAW = 3;
export const TO_PLAIN = 4;
export const TO_FOREIGN = 5;

const RAW_TEXT = ['textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript'];

/** Start tags that leave SVG/MathML content (HTML standard, "parsing main inforeign"). */
export const BREAKOUT = new Set(
  'b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var'.split(
    ' ',
  ),
);
/** End tags of HTML-only elements; seen inside SVG/MathML they close it. */
const HTML_CLOSERS = new Set([
  ...BREAKOUT,
  ...'html form section article nav header footer main aside button label select option tbody thead tfoot tr td th caption details summary figure'.split(' '),
]);
const SVG_HTML_POINTS = new Set(['foreignobject', 'desc', 'title']);
const MATH_TEXT_POINTS = new Set(['mi', 'mo', 'mn', 'ms', 'mtext']);

const TRANSITIONS = new Map<string, number>([
  ['script', TO_SCRIPT],
  ['style', TO_STYLE],
  ['plaintext', TO_PLAIN],
  ['svg', TO_FOREIGN],
  ['math', TO_FOREIGN],
  ...RAW_TEXT.map((name) => [name, TO_RAW] as const),
]);
const KNOWN = [...new Set([...HTML_WANT.keys(), ...TRANSITIONS.keys()])];

/** The HTML elements the scanner knows, by tag index. */
export const ELEMENTS = new NameTable(KNOWN);
/** The URL attributes (ids as bits) of each known element, by tag index. */
export const TAG_WANT: readonly number[] = KNOWN.map((name) => HTML_WANT.get(name) ?? 0);
/** The transition (TO_*) of each known element, by tag index. */
export const TAG_TRANSITION: readonly number[] = KNOWN.map((name) => TRANSITIONS.get(name) ?? 0);

/** The transition of a lowercase element name (0 for elements the scanner need not know). */
export function tagTransition(name: string): number {
  return TRANSITIONS.get(name) ?? 0;
}

/** Most open SVG/MathML elements and integration points tracked; deeper ones are not. */
const MAX_FRAMES = 1024;

interface Frame {
  name: string;
  foreign: boolean;
}

/** The open SVG/MathML elements and the HTML integration points inside them, as far as tokenizing depends on them. */
export class ForeignContent {
  /** The current element is SVG or MathML (CDATA sections are text, every start tag matters). */
  active = false;
  private readonly frames: Frame[] = [];

  /** The current element is SVG (its <style> holds CSS; MathML's does not). */
  get inSvg(): boolean {
    return this.active && this.frames[this.frames.length - 1]!.name === 'svg';
  }

  /** Whether any frame is open (end tags matter only then). */
  get open(): boolean {
    return this.frames.length > 0;
  }

  /** An <svg> or <math> start tag in HTML content. */
  enterRoot(name: string, selfClosing: boolean): void {
    if (!selfClosing) this.push(name, true);
  }

  /** A start tag in foreign content, after the breakout check; `encoding` is annotation-xml's. */
  enter(name: string, selfClosing: boolean, encoding: string): void {
    if (selfClosing) return;
    const ns = this.frames[this.frames.length - 1]!.name;
    if (name === 'svg' || name === 'math') this.push(name, true);
    else if (ns === 'svg' ? SVG_HTML_POINTS.has(name) : MATH_TEXT_POINTS.has(name)) this.push(name, false);
    else if (ns === 'math' && name === 'annotation-xml' && (encoding === 'text/html' || encoding === 'application/xhtml+xml')) this.push(name, false);
  }

  /** Closes the foreign elements up to the nearest HTML one (a breakout start or end tag). */
  breakOut(): void {
    const frames = this.frames;
    while (frames.length > 0 && frames[frames.length - 1]!.foreign) frames.pop();
    this.active = false;
  }

  /** An end tag (lowercase name) while a frame is open. */
  endTag(name: string): void {
    const frames = this.frames;
    if (this.active && (name === 'br' || name === 'p' || HTML_CLOSERS.has(name))) {
      this.breakOut();
      return;
    }
    for (let f = frames.length - 1; f >= 0; f--) {
      if (frames[f]!.name === name) {
        frames.length = f;
        this.active = f > 0 && frames[f - 1]!.foreign;
        return;
      }
    }
  }

  private push(name: string, foreign: boolean): void {
    if (this.frames.length < MAX_FRAMES) {
      this.frames.push({ name, foreign });
      this.active = foreign;
    }
  }
}
