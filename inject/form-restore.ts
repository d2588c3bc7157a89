// Host handoff: the promoted participant's mirror hands its form state to the live page it is
// about to load (same origin, so sessionStorage carries it across the navigation).

import type { FormState } from '../protocol/messages.js';
import { MASKED_VALUE, type Masker } from './masking.js';

const STORAGE_KEY = 'cobrowse:handoff-form-state';

interface SavedField extends FormState {
  path: string;
}

/** A structural path from <html> to `el` (tag and position among same-tag siblings). */
export function cssPath(el: Element): string {
  const parts: string[] = [];
  for (let node: Element | null = el; node?.parentElement; node = node.parentElement) {
    const tag = node.localName;
    let index = 1;
    for (let sib = node.previousElementSibling; sib; sib = sib.previousElementSibling) if (sib.localName === tag) index++;
    parts.unshift(`${tag}:nth-of-type(${index})`);
  }
  return parts.length ? `html > ${parts.join(' > ')}` : 'html';
}

/**
 * Saves the form state shown in the mirror document for the live page at `url`. A control the
 * masker masks is left out: the mirror shows a placeholder for it (a masked region's boxes
 * unticked), not what the host's page had.
 */
export function saveFormState(doc: Document, url: string, storage: Storage, masker: Masker): void {
  const fields: SavedField[] = [];
  for (const el of Array.from(doc.querySelectorAll('input, textarea, select'))) {
    if (masker.masksControl(el)) continue;
    const control = el as HTMLInputElement;
    if (control.type === 'checkbox' || control.type === 'radio') fields.push({ path: cssPath(el), checked: control.checked });
    else if (control.type !== 'file' && control.type !== 'hidden' && control.value !== '' && control.value !== MASKED_VALUE)
      fields.push({ path: cssPath(el), value: control.value });
  }
  storage.setItem(STORAGE_KEY, JSON.stringify({ url, fields }));
}

/**
 * Applies saved form state when this page is the one it was saved for; the entry is used once.
 * Controls this page's masker masks keep what the page has: the mirror never had theirs (and a
 * mask selector on an attribute the mirror does not get finds no region there).
 */
export function restoreFormState(doc: Document, href: string, storage: Storage, masker: Masker, apply: (el: Element, state: FormState) => void): number {
  const raw = storage.getItem(STORAGE_KEY);
  if (!raw) return 0;
  storage.removeItem(STORAGE_KEY);
  const saved = JSON.parse(raw) as { url?: string; fields?: SavedField[] };
  if (saved.url !== href || !Array.isArray(saved.fields)) return 0;
  let n = 0;
  for (const field of saved.fields) {
    const el = doc.querySelector(field.path);
    if (!el || masker.masksControl(el)) continue;
    apply(el, field.checked !== undefined ? { checked: field.checked } : { value: field.value ?? '' });
    n++;
  }
  return n;
}
