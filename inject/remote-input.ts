// Applies, in the host's page, what a participant with control did in the mirror. Each input is
// applied once, here; its effects reach every follower as ordinary diffs.

import type { FormState, RemoteInput, SelectionRange } from '../protocol/messages.js';
import { looksLikeCardNumber, type Masker } from './masking.js';
import { editingHostOf, insertPlainText } from './paste-text.js';
import { formStateOf, type NodeIds } from './serializer.js';
import { applyEdit, baseMatches, type Splice } from './text-splice.js';

/** Where remote navigation goes when the URL is not on this page's own host. */
export const GO_PATH = '/__cobrowse/go';

function nativeSetter(el: Element, prop: 'value' | 'checked'): ((v: unknown) => void) | undefined {
  const proto = Object.getPrototypeOf(el) as object;
  return Object.getOwnPropertyDescriptor(proto, prop)?.set;
}

/** Sets a control's value or checked state as a user would, firing input and change events. */
export function setFormState(el: Element, state: FormState): void {
  if (state.checked !== undefined && el instanceof HTMLInputElement) {
    if (el.checked !== state.checked) el.click();
    return;
  }
  if (state.value === undefined) return;
  if (!(el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement)) return;
  if (el.value === state.value) return;
  // The prototype's setter, so that frameworks that track the value property see the change.
  const setter = nativeSetter(el, 'value');
  if (setter) setter.call(el, state.value);
  else el.value = state.value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

/** The value of a text field as followers may see it (masked), for a refused splice; undefined for anything else. */
export function fieldValue(node: Node | undefined, masker: Masker): string | undefined {
  if (!node || node.nodeType !== Node.ELEMENT_NODE) return undefined;
  const name = (node as Element).localName;
  if (name !== 'textarea' && (name !== 'input' || NOT_TEXT_INPUTS.has((node as HTMLInputElement).type))) return undefined;
  return formStateOf(node as Element, masker)?.value;
}

/** Input types whose value is not text a participant types. */
const NOT_TEXT_INPUTS = new Set(['checkbox', 'radio', 'file', 'button', 'submit', 'reset', 'image', 'range', 'color']);

/** A text control's selection, where it has one (not email or number fields). */
function selectionOf(el: HTMLInputElement | HTMLTextAreaElement): { start: number; end: number; direction: 'forward' | 'backward' | 'none' } | null {
  try {
    if (el.selectionStart === null || el.selectionEnd === null) return null;
    return { start: el.selectionStart, end: el.selectionEnd, direction: el.selectionDirection ?? 'none' };
  } catch {
    return null;
  }
}

/**
 * Applies a splice to a text field as `setFormState` applies a value (the prototype's setter,
 * input and change events), when the field's value is the one the splice was computed against;
 * returns false, changing nothing, when it is not (the host's page or its script changed it
 * meanwhile). The caret and the field's scroll stay with the text around them: before the
 * splice they stay, after it they move with it, inside it they go to the end of the new text.
 */
export function applySplice(node: Node | undefined, splice: Splice): boolean {
  // By name, not instanceof: a field of a same-origin frame is of another realm.
  if (!node || node.nodeType !== Node.ELEMENT_NODE || !node.isConnected) return false;
  const name = (node as Element).localName;
  if (name !== 'textarea' && (name !== 'input' || NOT_TEXT_INPUTS.has((node as HTMLInputElement).type))) return false;
  const el = node as HTMLInputElement | HTMLTextAreaElement;
  const value = el.value;
  if (!baseMatches(value, splice)) return false;
  const next = applyEdit(value, splice);
  const selection = selectionOf(el);
  const { scrollTop, scrollLeft } = el;
  const setter = nativeSetter(el, 'value');
  if (setter) setter.call(el, next);
  else el.value = next;
  if (selection) {
    const end = splice.at + splice.remove;
    const delta = splice.text.length - splice.remove;
    const moved = (pos: number) => (pos < splice.at ? pos : pos >= end ? pos + delta : splice.at + splice.text.length);
    try {
      el.setSelectionRange(moved(selection.start), moved(selection.end), selection.direction);
    } catch {
      // A field type without a selection.
    }
  }
  el.scrollTop = scrollTop;
  el.scrollLeft = scrollLeft;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}

function mouse(type: string, x: number, y: number): MouseEventInit & { bubbles: true } {
  return {
    bubbles: true,
    cancelable: true,
    composed: true,
    clientX: x,
    clientY: y,
    button: 0,
    buttons: type.endsWith('down') ? 1 : 0,
    view: window,
  } as MouseEventInit & {
    bubbles: true;
  };
}

function click(el: Element, offsetX: number, offsetY: number): void {
  const rect = el.getBoundingClientRect();
  const x = rect.left + offsetX;
  const y = rect.top + offsetY;
  el.dispatchEvent(new PointerEvent('pointerdown', { ...mouse('pointerdown', x, y), pointerType: 'mouse', isPrimary: true }));
  el.dispatchEvent(new MouseEvent('mousedown', mouse('mousedown', x, y)));
  if (el instanceof HTMLElement && el.tabIndex >= 0) el.focus({ preventScroll: true });
  el.dispatchEvent(new PointerEvent('pointerup', { ...mouse('pointerup', x, y), pointerType: 'mouse', isPrimary: true }));
  el.dispatchEvent(new MouseEvent('mouseup', mouse('mouseup', x, y)));
  // click() runs the element's activation behaviour: links navigate, buttons submit, boxes toggle.
  if (el instanceof HTMLElement) el.click();
  else el.dispatchEvent(new MouseEvent('click', mouse('click', x, y)));
}

/** A point of a selection: a node and an offset in it. */
interface Point {
  a: Node;
  ao: number;
  f: Node;
  fo: number;
}

/**
 * Where each participant's last edit or caret key left their caret in a contenteditable element of
 * this page, as live ranges (anchor and focus), which move with every change the page makes to the
 * text around them: the next input that `follows` goes there, whatever the mirror's selection was
 * when it was sent. Keyed by participant id (one entry per participant who edited).
 */
const carets = new Map<string, { anchor: Range; focus: Range }>();

function livePoint(node: Node, offset: number): Range {
  const r = document.createRange();
  r.setStart(node, offset);
  return r;
}

/** Keeps where the selection now is as participant `from`'s caret. */
function keepCaret(from: string): void {
  const sel = document.getSelection();
  if (!from || !sel?.anchorNode || !sel.focusNode) return;
  carets.set(from, { anchor: livePoint(sel.anchorNode, sel.anchorOffset), focus: livePoint(sel.focusNode, sel.focusOffset) });
}

/**
 * Where an input of participant `from` in contenteditable `el` happens: their kept caret when the
 * input follows their previous one and the caret is still in `el`, else the range the mirror sent
 * (its nodes in `el`), else null (at the page's selection).
 */
function editPoint(el: HTMLElement, from: string, follows: boolean | undefined, range: SelectionRange | null | undefined, ids: NodeIds): Point | null {
  const kept = follows ? carets.get(from) : undefined;
  if (kept && el.contains(kept.anchor.startContainer) && el.contains(kept.focus.startContainer))
    return { a: kept.anchor.startContainer, ao: kept.anchor.startOffset, f: kept.focus.startContainer, fo: kept.focus.startOffset };
  const a = range ? ids.node(range.a) : undefined;
  const f = range ? ids.node(range.f) : undefined;
  return range && a && f && el.contains(a) && el.contains(f) ? { a, ao: range.ao, f, fo: range.fo } : null;
}

function select(el: HTMLElement, at: Point | null): void {
  const sel = document.getSelection();
  const length = (n: Node) => (n.nodeType === Node.TEXT_NODE ? (n as Text).length : n.childNodes.length);
  if (sel && at) sel.setBaseAndExtent(at.a, Math.min(at.ao, length(at.a)), at.f, Math.min(at.fo, length(at.f)));
  else if (sel && (!sel.anchorNode || !el.contains(sel.anchorNode))) {
    sel.selectAllChildren(el);
    sel.collapseToEnd();
  }
}

/** How each caret key moves a caret in editable text (Selection.modify's direction and granularity), and with Ctrl. */
const CARET_KEYS: Record<string, [dir: 'backward' | 'forward', plain: string, ctrl: string]> = {
  ArrowLeft: ['backward', 'character', 'word'],
  ArrowRight: ['forward', 'character', 'word'],
  ArrowUp: ['backward', 'line', 'paragraph'],
  ArrowDown: ['forward', 'line', 'paragraph'],
  Home: ['backward', 'lineboundary', 'documentboundary'],
  End: ['forward', 'lineboundary', 'documentboundary'],
  PageUp: ['backward', 'paragraphboundary', 'documentboundary'],
  PageDown: ['forward', 'paragraphboundary', 'documentboundary'],
};

type KeyInput = Extract<RemoteInput, { kind: 'key' }>;

function key(target: Element | null, input: KeyInput, ids: NodeIds, from: string): void {
  const el = target ?? document.activeElement ?? document.body;
  const k = input.key;
  const init: KeyboardEventInit = {
    key: k,
    code: input.code,
    altKey: input.alt,
    ctrlKey: input.ctrl,
    shiftKey: input.shift,
    metaKey: input.meta,
    bubbles: true,
    cancelable: true,
    composed: true,
  };
  const proceed = el.dispatchEvent(new KeyboardEvent('keydown', init));
  el.dispatchEvent(new KeyboardEvent('keyup', init));
  if (!proceed) return;
  // Synthetic key events have no default action. A caret key (or select all) in editable text
  // moves the participant's caret as the key would, from where they had it, and it is kept for
  // what they type next.
  const move = CARET_KEYS[k];
  const selectAll = (input.ctrl || input.meta) && k.toLowerCase() === 'a';
  const editable = editingHostOf(el);
  if ((move || selectAll) && editable && !input.alt) {
    const sel = document.getSelection();
    if (!sel) return;
    editable.focus({ preventScroll: true });
    if (move) {
      select(editable, editPoint(editable, from, input.follows, input.range, ids));
      sel.modify(input.shift ? 'extend' : 'move', move[0], input.ctrl || input.meta ? move[2] : move[1]);
    } else sel.selectAllChildren(editable);
    keepCaret(from);
    return;
  }
  if (k !== 'Enter') return;
  // Enter in a single-line field submits its form.
  if (el instanceof HTMLInputElement && el.form && !['button', 'checkbox', 'radio', 'reset', 'file', 'color'].includes(el.type)) el.form.requestSubmit();
  else if (el instanceof HTMLAnchorElement || el instanceof HTMLButtonElement) el.click();
}

/** Edits a contenteditable element as typing would, where the participant's caret was (or at the end). */
function edit(el: HTMLElement, inputType: string, data: string | null, at: Point | null): void {
  el.focus({ preventScroll: true });
  select(el, at);
  // execCommand edits as the user would: undo history, input events and the site's listeners all see it.
  switch (inputType) {
    case 'insertText':
    case 'insertReplacementText':
      if (data) document.execCommand('insertText', false, data);
      return;
    case 'insertFromPaste':
    case 'insertFromDrop':
      if (data) insertPlainText(el, data);
      return;
    case 'insertParagraph':
    case 'insertLineBreak':
      document.execCommand(inputType, false);
      return;
    case 'deleteContentBackward':
      document.execCommand('delete', false);
      return;
    case 'deleteContentForward':
      document.execCommand('forwardDelete', false);
      return;
    default:
      return;
  }
}

function navigate(url: string): void {
  let target: URL;
  try {
    target = new URL(url, location.href);
  } catch {
    return;
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return;
  if (target.host === location.host) location.assign(target.href);
  // Any other URL is resolved by the gateway: a proxied host when the site is allowed.
  else location.assign(`${GO_PATH}?url=${encodeURIComponent(target.href)}`);
}

/** What only the host may use in this page: element selectors and path patterns. */
export interface HostOnlyRules {
  selector: string;
  paths: readonly string[];
  /** A rule the host's browser cannot read (alone, or once joined): every remote input is refused. */
  unreadable?: boolean;
}

function pathPattern(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function hostOnlyPath(url: string, rules: HostOnlyRules): boolean {
  if (rules.paths.length === 0) return false;
  let target: URL;
  try {
    target = new URL(url, location.href);
  } catch {
    return false;
  }
  return target.origin === location.origin && rules.paths.some((p) => pathPattern(p).test(target.pathname));
}

/** What a participant is told when an input aims at a private field. */
export const PRIVATE_FIELD_REFUSAL = 'This field is private: only the host can fill it in.';

/**
 * Why an input that would change a private field is refused, or null: a masked control or region
 * (or a field whose value looks like a card number, which the mirror shows masked), for values,
 * splices, keys and edits. Checked before anything is compared with the field's value, and the
 * answer does not depend on what the field holds: a splice's base check answered "refused" or
 * "applied" against the real value, which let a controller guess a password one try at a time.
 */
export function maskedRefusal(input: RemoteInput, ids: NodeIds, masker: Masker): string | null {
  if (input.kind !== 'value' && input.kind !== 'splice' && input.kind !== 'key' && input.kind !== 'edit') return null;
  const node = input.target === null ? document.activeElement : ids.node(input.target);
  if (!node) return null;
  if (masker.insideMaskedRegion(node)) return PRIVATE_FIELD_REFUSAL;
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const el = node as Element;
  if (masker.masksControl(el)) return PRIVATE_FIELD_REFUSAL;
  const value = (el as HTMLInputElement).value;
  return (el.localName === 'input' || el.localName === 'textarea') && typeof value === 'string' && looksLikeCardNumber(value) ? PRIVATE_FIELD_REFUSAL : null;
}

/** Why a remote input is refused in this page (an element or a page only the host may use), or null. */
export function refusalFor(input: RemoteInput, ids: NodeIds, rules: HostOnlyRules): string | null {
  if (input.kind === 'navigate') return hostOnlyPath(input.url, rules) ? 'Only the host can open this page.' : null;
  if (input.kind !== 'click' && input.kind !== 'value' && input.kind !== 'splice' && input.kind !== 'key' && input.kind !== 'edit') return null;
  const target = input.target === null ? document.activeElement : ids.node(input.target);
  if (!target || target.nodeType !== Node.ELEMENT_NODE) return null;
  const el = target as Element;
  const unreadable = "Only the host can use this page: one of the site's host-only rules cannot be read.";
  if (rules.unreadable) return unreadable;
  try {
    if (rules.selector && el.closest(rules.selector)) return 'Only the host can use this part of the page.';
  } catch {
    // A rule this browser cannot read may be the one reserving this element: fail closed, the
    // page is the host's alone until the site's hostOnly rules are fixed.
    return unreadable;
  }
  const link = el.closest('a[href]');
  if (input.kind === 'click' && link && hostOnlyPath(link.getAttribute('href') ?? '', rules)) return 'Only the host can open this page.';
  const form = (el as HTMLButtonElement).form ?? el.closest('form');
  if ((input.kind === 'click' || input.kind === 'key') && form && hostOnlyPath(form.getAttribute('action') ?? location.href, rules))
    return 'Only the host can send this form.';
  return null;
}

/**
 * Applies one remote input to the live page; returns the element whose value it changed, if any.
 * A splice that does not fit its field's value is not applied: `onStale` is told.
 */
export function applyRemoteInput(input: RemoteInput, ids: NodeIds, onStale: (splice: Splice) => void = () => {}, from = ''): Element | null {
  switch (input.kind) {
    case 'splice': {
      const el = ids.node(input.target);
      if (applySplice(el, input)) return el as Element;
      onStale(input);
      return null;
    }
    case 'click': {
      const el = ids.node(input.target);
      if (el instanceof Element && el.isConnected) click(el, input.x, input.y);
      return null;
    }
    case 'value': {
      const el = ids.node(input.target);
      if (!(el instanceof Element) || !el.isConnected) return null;
      setFormState(el, input);
      return el;
    }
    case 'key': {
      const el = input.target === null ? null : ids.node(input.target);
      key(el instanceof Element && el.isConnected ? el : null, input, ids, from);
      return null;
    }
    case 'scroll': {
      const node = ids.node(input.target);
      if (node instanceof Document) window.scrollTo(input.x, input.y);
      else if (node instanceof Element) node.scrollTo(input.x, input.y);
      return null;
    }
    case 'navigate':
      navigate(input.url);
      return null;
    case 'edit': {
      const el = ids.node(input.target);
      if (el instanceof HTMLElement && el.isConnected && el.isContentEditable) {
        edit(el, input.inputType, input.data, editPoint(el, from, input.follows, input.range, ids));
        keepCaret(from);
      }
      return null;
    }
    case 'history':
      if (input.action === 'back') history.back();
      else if (input.action === 'forward') history.forward();
      else location.reload();
      return null;
    default: {
      const unknown: never = input;
      throw new Error(`unknown input ${JSON.stringify(unknown)}`);
    }
  }
}
