// Privacy in the host's page: decides what is masked before anything leaves the browser.
// Masked: password fields, autocomplete cc-* fields, hidden inputs, values that look like card
// numbers (Luhn) and card numbers in text, and everything inside elements matching the site's
// configured selectors.

import { selectorMistake } from '../protocol/selector-check.js';
import { report } from './report.js';

/** What a masked form value, attribute or text is replaced with (fixed length: no length leak). */
export const MASKED_VALUE = '••••••••';

/** Attributes inside a masked region that keep a placeholder (the mirror shows where text was). */
const MASKED_ATTRS = new Set(['value', 'placeholder', 'title', 'alt', 'aria-label', 'data-value']);
/**
 * Attributes inside a masked region sent as they are: what lays it out and what the mirror's
 * controls need (style goes through maskedCss). Every other one (data-*, aria-*, href, src,
 * srcset, custom attributes, checked, SVG geometry) is left out: its value, or that it is there
 * at all, can be the region's content.
 */
const LAYOUT_ATTRS = new Set([
  'class',
  'id',
  'role',
  'dir',
  'lang',
  'hidden',
  'inert',
  'slot',
  'part',
  'tabindex',
  'type',
  'contenteditable',
  'disabled',
  'readonly',
  'multiple',
  'open',
  'width',
  'height',
  'size',
  'rows',
  'cols',
  'span',
  'colspan',
  'rowspan',
  'align',
  'valign',
  'border',
  'cellpadding',
  'cellspacing',
  'bgcolor',
  'xmlns',
  'viewbox',
]);
/** A <link>'s style sheet is layout too. */
const LINK_ATTRS = new Set(['rel', 'href', 'media', 'crossorigin']);

/** A masked region's text: one placeholder for whatever is visible (no length, no word boundaries), white space at its ends kept as one space. */
export function maskedText(value: string): string {
  if (!/\S/.test(value)) return value;
  return `${/^\s/.test(value) ? ' ' : ''}${MASKED_VALUE}${/\s$/.test(value) ? ' ' : ''}`;
}

const CSS_STRINGS =
  /\/\*[\s\S]*?(?:\*\/|$)|url\(\s*(?:"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\]|\\[\s\S])*'|(?:[^)\\]|\\[\s\S])*)\s*(?:\)|$)|"(?:[^"\\]|\\[\s\S])*(?:"|$)|'(?:[^'\\]|\\[\s\S])*(?:'|$)/gi;

/**
 * A masked region's style sheet: its quoted strings (content:, attribute selectors, custom
 * properties) become the placeholder, its url()s none and its comments go; the rules that lay
 * the region out stay.
 */
export function maskedCss(text: string): string {
  return text.replace(CSS_STRINGS, (m) => (m[0] === '/' ? '' : m[0] === 'u' || m[0] === 'U' ? 'none' : `"${MASKED_VALUE}"`));
}

/** True for digit strings of card-number length that pass the Luhn check. */
export function looksLikeCardNumber(value: string): boolean {
  const digits = value.replace(/[\s-]/g, '');
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Fewest digits of a card number written as one group in text (see maskCardNumbers). */
const MIN_UNGROUPED_CARD = 15;

/**
 * `text` with the digits of each card number in it (13 to 19 digits passing the Luhn check, in
 * groups of 3 to 6 split by single spaces or hyphens, or 15 to 19 in one group) as dots. The text
 * keeps its length, so the offsets a controller's edit of it is made at are the host's too. One
 * group of 13 or 14 digits is left alone: in page text that is a millisecond timestamp, an EAN or an
 * ISBN far more often than a card (13-digit cards are gone, 14-digit ones are printed grouped), and
 * one in ten of them passes the Luhn check.
 */
export function maskCardNumbers(text: string): string {
  if (!/\d{3}/.test(text)) return text;
  return text.replace(/\d+(?:[\s-]\d+)*/g, (run) => {
    // Digit groups at even indexes, their separators between.
    const parts = run.split(/([\s-])/);
    let out = '';
    for (let i = 0; i < parts.length; ) {
      // The longest card number starting at group i, if any.
      let end = -1;
      let digits = 0;
      const grouped = (n: number) => n >= 3 && n <= 6;
      for (let j = i; j < parts.length && digits <= 19; j += 2) {
        const group = (parts[j] ?? '').length;
        if (j > i && !(grouped(group) && grouped((parts[i] ?? '').length))) break;
        digits += group;
        if (digits >= (j > i ? 13 : MIN_UNGROUPED_CARD) && digits <= 19 && looksLikeCardNumber(parts.slice(i, j + 1).join(''))) end = j;
      }
      if (end >= 0) {
        out +=
          parts
            .slice(i, end + 1)
            .join('')
            .replace(/\d/g, '•') + (parts[end + 1] ?? '');
        i = end + 2;
      } else {
        out += (parts[i] ?? '') + (parts[i + 1] ?? '');
        i += 2;
      }
    }
    return out;
  });
}

/** Applies the masking rules of one page. */
export class Masker {
  private readonly selector: string;
  /** Inputs that were password fields: still masked after the site turns them into text (show-password buttons). */
  private readonly passwords = new WeakSet<Element>();
  /** Template contents met by the serializer, and their templates: the DOM links them only one way. */
  private readonly templates = new WeakMap<Node, Element>();
  /** Per tree root (shadow root, frame document): whether its host or frame element is masked; only during a pass. */
  private outer: Map<Node, boolean> | null = null;
  /** Per element: whether it is inside a masked region; only during a pass. */
  private inside: Map<Element, boolean> | null = null;
  /** Elements that matched a configured selector when serialized and have matched since: their content went out masked. */
  private readonly regions = new Set<Element>();

  constructor(selectors: readonly string[]) {
    // A rule this browser refuses, or one that reads otherwise in the joined list (an open quote or
    // bracket, a comment, a trailing backslash swallow the rules after it).
    const unreadable = selectors.filter((s) => !isValidSelector(s) || selectorMistake(s) !== null);
    // Fail closed: a rule this browser cannot read may be the one meant to hide a card number, so
    // the whole page is masked rather than that content sent (the rule must be fixed in the config).
    this.selector = unreadable.length > 0 ? '*' : selectors.join(',');
    if (unreadable.length > 0) report(new Error(`mask rules this browser cannot read, so the whole page is masked: ${unreadable.join(' | ')}`));
  }

  /**
   * Runs `fn` (one synchronous serialization or diff) with the answer for each tree root's
   * surroundings computed once: the DOM cannot change in between, as no site script runs.
   */
  pass<T>(fn: () => T): T {
    if (this.outer) return fn();
    this.outer = new Map();
    this.inside = new Map();
    try {
      return fn();
    } finally {
      this.outer = null;
      this.inside = null;
    }
  }

  /** The content of a template, remembered as belonging to it (its nodes are masked with it). */
  templateContent(template: HTMLTemplateElement): DocumentFragment {
    const content = template.content;
    this.templates.set(content, template);
    return content;
  }

  /**
   * True when `node` (an element, or any node for its parent's region) or an ancestor matches a
   * configured selector, across the boundaries closest() stops at: shadow roots (their host), the
   * documents of same-origin frames (their frame element) and template contents (their template).
   */
  insideMaskedRegion(node: Node | null): boolean {
    if (!node || !this.selector) return false;
    try {
      const el = node.nodeType === ELEMENT_NODE ? (node as Element) : node.parentElement;
      if (!el) return this.rootMasked(node.getRootNode());
      const cached = this.inside?.get(el);
      if (cached !== undefined) return cached;
      const masked = el.closest(this.selector) !== null || this.rootMasked(el.getRootNode());
      this.inside?.set(el, masked);
      return masked;
    } catch {
      return true; // Fail closed: a value the rules could not be checked for is not sent.
    }
  }

  /** True when the element containing this tree root (shadow host, frame element, template) is inside a masked region. */
  private rootMasked(root: Node): boolean {
    const cached = this.outer?.get(root);
    if (cached !== undefined) return cached;
    const container = this.containerOf(root);
    const masked = container !== null && (container.closest(this.selector) !== null || this.rootMasked(container.getRootNode()));
    this.outer?.set(root, masked);
    return masked;
  }

  private containerOf(root: Node): Element | null {
    if (root.nodeType === DOCUMENT_FRAGMENT_NODE) return (root as ShadowRoot).host ?? this.templates.get(root) ?? null;
    if (root.nodeType !== DOCUMENT_NODE) return null;
    try {
      // Null for the top document and a cross-origin parent; the guard is for browsers that throw.
      return (root as Document).defaultView?.frameElement ?? null;
    } catch {
      return null;
    }
  }

  /** True when the control's value must never be sent. */
  masksControl(el: Element): boolean {
    if (this.insideMaskedRegion(el)) return true;
    if (el.localName !== 'input') return false;
    const input = el as HTMLInputElement;
    const type = (input.getAttribute('type') ?? '').toLowerCase();
    if (type === 'password') {
      this.passwords.add(el);
      return true;
    }
    if (type === 'hidden' || this.passwords.has(el)) return true;
    const autocomplete = (input.getAttribute('autocomplete') ?? '').toLowerCase();
    return autocomplete.split(/\s+/).some((token) => token.startsWith('cc-'));
  }

  /** True when a control's scroll offsets must not be sent (they tell how long its masked text is). */
  masksScroll(el: Element): boolean {
    return (el.localName === 'textarea' || el.localName === 'input') && this.masksControl(el);
  }

  /** The value to send for a control: masked when the rules say so or it looks like a card number. */
  controlValue(el: Element, value: string): string {
    const masked = this.masksControl(el); // Also remembers a password field that is still empty.
    if (value === '') return value;
    return masked || looksLikeCardNumber(value) ? MASKED_VALUE : value;
  }

  /** The attribute value to send; null: the attribute is left out. */
  attribute(el: Element, name: string, value: string): string | null {
    if (name === 'type' && el.localName === 'input' && value.toLowerCase() === 'password') this.passwords.add(el);
    const lower = name.toLowerCase();
    // An inline style's strings and url()s (a background image) are content too.
    if (lower === 'style') return this.insideMaskedRegion(el) ? maskedCss(value) : value;
    if (LAYOUT_ATTRS.has(lower) || (el.localName === 'link' && LINK_ATTRS.has(lower))) return value;
    if (name === 'value' && (el.localName === 'input' || el.localName === 'option' || el.localName === 'button')) return this.controlValue(el, value);
    if (!this.insideMaskedRegion(el)) return MASKED_ATTRS.has(lower) ? maskCardNumbers(value) : value;
    return MASKED_ATTRS.has(lower) ? (value === '' ? '' : MASKED_VALUE) : null;
  }

  /** The text to send for a text or comment node: inside a masked region, the placeholder (a style sheet's text: maskedCss). */
  text(node: Node, value: string): string {
    const parent = node.parentElement;
    // Its text is the field's default value: masked as the value is (also a card number).
    if (parent?.localName === 'textarea') return this.controlValue(parent, value);
    if (parent?.localName === 'style') return this.insideMaskedRegion(node.parentNode) ? maskedCss(value) : value;
    if (!this.insideMaskedRegion(node.parentNode)) return maskCardNumbers(value);
    return maskedText(value);
  }

  /** The text of a style sheet owned by `owner` (a <style> or <link>, a document or shadow root adopting it). */
  css(owner: Node, text: string): string {
    return this.insideMaskedRegion(owner) ? maskedCss(text) : text;
  }

  /** Notes an element being serialized (a region root's content goes out masked from now on). */
  serialized(el: Element): void {
    if (this.selector && el.matches(this.selector)) this.regions.add(el);
  }

  /** Whether what the followers have of `node`, which was in `from`, went out masked (as far as is known now). */
  sentMasked(node: Node, from: Node): boolean {
    return (node.nodeType === ELEMENT_NODE && this.regions.has(node as Element)) || this.insideMaskedRegion(from);
  }

  /**
   * True when an element the followers have (`known`) matches a configured selector now but did
   * not when it was serialized, in the subtrees of `changed` (elements whose attributes changed),
   * or one stopped matching since: what they have of it went out unmasked (or is shown masked).
   */
  regionsChanged(changed: readonly Element[], known: (el: Element) => boolean): boolean {
    if (!this.selector || changed.length === 0) return false;
    let stopped = false;
    for (const region of this.regions) {
      if (region.isConnected && region.matches(this.selector)) continue;
      this.regions.delete(region);
      stopped ||= region.isConnected;
    }
    if (stopped) return true;
    for (const el of changed) {
      if (el.matches(this.selector) && !this.regions.has(el) && known(el)) return true;
      for (const m of Array.from(el.querySelectorAll(this.selector))) if (!this.regions.has(m) && known(m)) return true;
    }
    return false;
  }
}

const ELEMENT_NODE = 1;
const DOCUMENT_NODE = 9;
const DOCUMENT_FRAGMENT_NODE = 11;

export function isValidSelector(selector: string): boolean {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}
