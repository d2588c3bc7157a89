// Privacy in the host's page: decides what is masked before anything leaves the browser.
// Masked: password fields, autocomplete cc-* fields, hidden inputs, values that look like card
// numbers (Luhn), and everything inside elements matching the site's configured selectors.

/** What a masked form value or attribute is replaced with (fixed length: no length leak). */
export const MASKED_VALUE = '••••••••';

const MASKED_ATTRS = new Set(['value', 'placeholder', 'title', 'alt', 'aria-label', 'data-value']);

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

/** Applies the masking rules of one page. */
export class Masker {
  private readonly selector: string;
  /** Inputs that were password fields: still masked after the site turns them into text (show-password buttons). */
  private readonly passwords = new WeakSet<Element>();
  /** Template contents met by the serializer, and their templates: the DOM links them only one way. */
  private readonly templates = new WeakMap<Node, Element>();
  /** Per tree root (shadow root, frame document): whether its host or frame element is masked; only during a pass. */
  private outer: Map<Node, boolean> | null = null;

  constructor(selectors: readonly string[]) {
    this.selector = selectors.filter((s) => isValidSelector(s)).join(',');
  }

  /**
   * Runs `fn` (one synchronous serialization or diff) with the answer for each tree root's
   * surroundings computed once: the DOM cannot change in between, as no site script runs.
   */
  pass<T>(fn: () => T): T {
    if (this.outer) return fn();
    this.outer = new Map();
    try {
      return fn();
    } finally {
      this.outer = null;
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
      if (el?.closest(this.selector)) return true;
      return this.rootMasked((el ?? node).getRootNode());
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

  /** The value to send for a control: masked when the rules say so or it looks like a card number. */
  controlValue(el: Element, value: string): string {
    const masked = this.masksControl(el); // Also remembers a password field that is still empty.
    if (value === '') return value;
    return masked || looksLikeCardNumber(value) ? MASKED_VALUE : value;
  }

  /** The attribute value to send. */
  attribute(el: Element, name: string, value: string): string {
    if (name === 'type' && el.localName === 'input' && value.toLowerCase() === 'password') this.passwords.add(el);
    if (!MASKED_ATTRS.has(name)) return value;
    if (name === 'value' && (el.localName === 'input' || el.localName === 'option' || el.localName === 'button')) return this.controlValue(el, value);
    return this.insideMaskedRegion(el) && value !== '' ? MASKED_VALUE : value;
  }

  /** The text to send for a text node: inside a masked region every visible character becomes a dot. */
  text(node: Node, value: string): string {
    const parent = node.parentElement;
    if (parent?.localName === 'textarea' && this.masksControl(parent)) return value === '' ? '' : MASKED_VALUE;
    return this.insideMaskedRegion(node.parentNode) ? value.replace(/\S/g, '•') : value;
  }
}

const ELEMENT_NODE = 1;
const DOCUMENT_NODE = 9;
const DOCUMENT_FRAGMENT_NODE = 11;

function isValidSelector(selector: string): boolean {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}
