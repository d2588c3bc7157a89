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

  constructor(selectors: readonly string[]) {
    this.selector = selectors.filter((s) => isValidSelector(s)).join(',');
  }

  /** True when `el` or an ancestor matches a configured selector. */
  insideMaskedRegion(el: Element | null): boolean {
    if (!el || !this.selector) return false;
    try {
      return el.closest(this.selector) !== null;
    } catch {
      return false;
    }
  }

  /** True when the control's value must never be sent. */
  masksControl(el: Element): boolean {
    if (this.insideMaskedRegion(el)) return true;
    if (el.localName !== 'input') return false;
    const input = el as HTMLInputElement;
    const type = (input.getAttribute('type') ?? '').toLowerCase();
    if (type === 'password' || type === 'hidden') return true;
    const autocomplete = (input.getAttribute('autocomplete') ?? '').toLowerCase();
    return autocomplete.split(/\s+/).some((token) => token.startsWith('cc-'));
  }

  /** The value to send for a control: masked when the rules say so or it looks like a card number. */
  controlValue(el: Element, value: string): string {
    if (value === '') return value;
    return this.masksControl(el) || looksLikeCardNumber(value) ? MASKED_VALUE : value;
  }

  /** The attribute value to send. */
  attribute(el: Element, name: string, value: string): string {
    if (!MASKED_ATTRS.has(name)) return value;
    if (name === 'value' && (el.localName === 'input' || el.localName === 'option' || el.localName === 'button')) return this.controlValue(el, value);
    return this.insideMaskedRegion(el) && value !== '' ? MASKED_VALUE : value;
  }

  /** The text to send for a text node: inside a masked region every visible character becomes a dot. */
  text(node: Node, value: string): string {
    const parent = node.parentElement;
    if (parent?.localName === 'textarea' && this.masksControl(parent)) return value === '' ? '' : MASKED_VALUE;
    return this.insideMaskedRegion(parent) ? value.replace(/\S/g, '•') : value;
  }
}

function isValidSelector(selector: string): boolean {
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}
