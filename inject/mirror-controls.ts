// Follower side of control: what a participant does in the mirror is turned into RemoteInput for
// the host's page. Observers' mirrors are inert. The mirror is scaled to fit the follower's window.

import {
  encodeMessage,
  FOLLOWER_MAX_MESSAGE_BYTES,
  MAX_VALUE_CHARS,
  type RemoteInput,
  type Role,
  type SelectionRange,
  type SpliceBase,
  type Viewport,
} from '../protocol/messages.js';
import { looksLikeCardNumber, type Masker } from './masking.js';
import type { Mirror } from './mirror.js';
import { planEdits } from './paste-text.js';
import { applyEdit, diffText, planSplices, utf8Bytes } from './text-splice.js';

/** Keys that do something besides typing text; sent as key input (typing travels as values). */
const ACTION_KEYS = new Set(['Enter', 'Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

/** Keys that move the caret in editable text (the host's page moves it: see remote-input's key). */
const CARET_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

/** Sends one input to the hub; false when it was not sent (not connected, or over the hub's limits). */
type SendInput = (input: RemoteInput) => boolean | undefined;

/** Input types whose value is text the participant types: their changes travel as splices. */
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'url', 'tel', 'email', 'password']);

/** Bytes of one input as its message goes to the hub. */
function inputBytes(event: RemoteInput): number {
  return utf8Bytes(encodeMessage({ type: 'input', event }));
}

/** Largest input message this side sends: under the hub's limit for a follower's message. */
const MAX_INPUT_BYTES = FOLLOWER_MAX_MESSAGE_BYTES - 1024;

const PRIVATE_FIELD = 'This field is private: only the host can fill it in.';
const TOO_MUCH_TEXT = 'That is too much text to send at once, so it was not sent: paste it in smaller parts.';
const HOST_CHANGED = 'The host’s page changed this text while you typed: it shows the host’s text again.';

/**
 * Sends what a participant changes in the mirror's text fields to the host's page, as splices
 * against the value both sides last agreed on (`Mirror.agreedValue`), split under the hub's
 * message limit and never over its byte budget; takes the host's refusals of stale ones.
 */
export class TextSender {
  /** Bases of the splices sent for each field since it last fell back: a refusal of an older one is stale. */
  private readonly pending = new Map<number, Set<string>>();

  constructor(
    private readonly mirror: Mirror,
    private readonly masker: Masker,
    private readonly send: SendInput,
    private readonly notice: (text: string) => void,
    /** Bytes the hub's byte budget lets this follower send now. */
    private readonly spareBytes: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  /** Bytes the socket can send now without passing the hub's byte budget. */
  spare(): number {
    return this.spareBytes();
  }

  /** True for the controls whose changes travel as splices (text inputs and textareas). */
  static isTextField(el: Element): el is HTMLInputElement | HTMLTextAreaElement {
    return el.localName === 'textarea' || (el.localName === 'input' && TEXT_INPUT_TYPES.has((el as HTMLInputElement).type));
  }

  /** Field `id` (`el`) changed in the mirror: sends the change. Masked fields are checked by the caller. */
  changed(el: HTMLInputElement | HTMLTextAreaElement, id: number): void {
    const before = this.mirror.agreedValue(id);
    const after = el.value;
    // The hub refuses (and closes the socket for) a longer value, whole or spliced.
    if (after.length > MAX_VALUE_CHARS) {
      this.tooMuch(id);
      return;
    }
    if (before === undefined) {
      if (!this.sendWhole(el, id)) this.tooMuch(id);
      return;
    }
    let caret: number | null = null;
    try {
      caret = el.selectionEnd;
    } catch {
      // A field type without a selection.
    }
    const edit = diffText(before, after, caret);
    if (!edit) return;
    const splices = planSplices(id, before, edit, inputBytes, MAX_INPUT_BYTES);
    // All or nothing: a paste is never half sent because the budget ran out in its middle.
    if (!splices || splices.reduce((sum, s) => sum + inputBytes(s), 0) > this.spareBytes()) {
      this.tooMuch(id);
      return;
    }
    // What the host's page has once it applied the ones sent (all of them unless the socket closed meanwhile).
    let value: string | null = null;
    for (const splice of splices) {
      if (this.send(splice) === false) break;
      this.remember(id, splice.base);
      value = applyEdit(value ?? before, splice);
    }
    if (value !== null) this.mirror.noteTypedValue(id, value);
  }

  /** The host's page did not apply a splice of field `target` (its value changed meanwhile, to `value`): falls back. */
  refused(target: number, base: SpliceBase, value?: string): void {
    const pending = this.pending.get(target);
    // One from before the last fallback: that one already settled it.
    if (!pending?.has(baseKey(base))) return;
    pending.clear();
    const el = this.mirror.nodeById(target) as Element | undefined;
    if (!el || el.nodeType !== Node.ELEMENT_NODE || !TextSender.isTextField(el)) return;
    // A value that fits one message replaces the host's, as a value always did; a larger one does not travel.
    if (!this.masker.masksControl(el) && !looksLikeCardNumber(el.value) && this.sendWhole(el, target)) return;
    this.mirror.resyncValue(target, value);
    this.notice(HOST_CHANGED);
  }

  private sendWhole(el: HTMLInputElement | HTMLTextAreaElement, id: number): boolean {
    const event: RemoteInput = { kind: 'value', target: id, value: el.value };
    const bytes = inputBytes(event);
    if (bytes > MAX_INPUT_BYTES || bytes > this.spareBytes() || this.send(event) === false) return false;
    this.pending.get(id)?.clear();
    this.mirror.noteTypedValue(id, el.value);
    return true;
  }

  /** A change that is not sent: the field shows what the host's page has (or is getting) again. */
  private tooMuch(id: number): void {
    this.mirror.restoreAgreedValue(id);
    this.notice(TOO_MUCH_TEXT);
  }

  private remember(id: number, base: SpliceBase): void {
    let set = this.pending.get(id);
    if (!set) {
      set = new Set();
      this.pending.set(id, set);
    }
    set.add(baseKey(base));
    // Bounded: the oldest ones are long settled.
    if (set.size > 256) set.delete(set.values().next().value as string);
  }
}

function baseKey(base: SpliceBase): string {
  return `${base.length}:${base.hash}`;
}

/** Lays the mirror frame out at the host's viewport and scales it to fit the stage. */
export function fitMirror(frame: HTMLIFrameElement, stage: HTMLElement, viewport: Viewport): number {
  const scale = Math.min(stage.clientWidth / Math.max(1, viewport.w), stage.clientHeight / Math.max(1, viewport.h));
  frame.style.width = `${viewport.w}px`;
  frame.style.height = `${viewport.h}px`;
  frame.style.transformOrigin = '0 0';
  frame.style.transform = `scale(${scale})`;
  return scale;
}

function isTextControl(el: Element): el is HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement {
  return el.localName === 'input' || el.localName === 'textarea' || el.localName === 'select';
}

/** Draws the host's focus as an outline over the mirror (the mirror frame itself never has focus). */
export function drawFocus(frame: HTMLIFrameElement, box: HTMLElement, mirror: Mirror, scale: number): void {
  const node = mirror.focusedId === null ? undefined : mirror.nodeById(mirror.focusedId);
  const el = node as Element | undefined;
  if (!el || el.ownerDocument !== frame.contentDocument || typeof el.getBoundingClientRect !== 'function' || !el.isConnected) {
    box.hidden = true;
    return;
  }
  const r = el.getBoundingClientRect();
  box.hidden = false;
  box.style.left = `${r.left * scale - 2}px`;
  box.style.top = `${r.top * scale - 2}px`;
  box.style.width = `${r.width * scale + 4}px`;
  box.style.height = `${r.height * scale + 4}px`;
}

/** Wires one mirror document (the top one or a mirrored iframe's) for a participant of `role`; returns a function that detaches it. */
export function attachMirrorControls(
  doc: Document,
  mirror: Mirror,
  role: Role,
  masker: Masker,
  send: SendInput,
  notice: (text: string) => void,
  texts: TextSender = new TextSender(mirror, masker, send, notice),
): () => void {
  const win = doc.defaultView;
  const canControl = role === 'host' || role === 'controller';
  const listeners: [EventTarget, string, EventListener][] = [];
  const on = (target: EventTarget, type: string, fn: (ev: Event) => void) => {
    const wrapped: EventListener = (ev) => {
      try {
        fn(ev);
      } catch (err) {
        console.debug('[cobrowse]', err);
      }
    };
    target.addEventListener(type, wrapped, true);
    listeners.push([target, type, wrapped]);
  };
  const targetId = (ev: Event): number | undefined => {
    for (let n = (ev.composedPath()[0] ?? ev.target) as Node | null; n; n = n.parentNode ?? (n as ShadowRoot).host ?? null) {
      const id = mirror.idOfNode(n);
      if (id !== undefined) return id;
    }
    return undefined;
  };

  on(doc, 'submit', (ev) => ev.preventDefault());
  on(doc, 'click', (ev) => {
    ev.preventDefault();
    if (!canControl) return;
    const el = (ev.composedPath()[0] ?? ev.target) as Element;
    const id = targetId(ev);
    // The mirror's events and nodes come from the frame's realm: no instanceof checks here.
    const mouse = ev as MouseEvent;
    if (id === undefined || typeof mouse.clientX !== 'number') return;
    const rect = el.getBoundingClientRect?.() ?? { left: 0, top: 0 };
    send({ kind: 'click', target: id, x: mouse.clientX - rect.left, y: mouse.clientY - rect.top });
  });
  if (!canControl) {
    // Observers watch: nothing they type or pick changes the mirror's controls.
    for (const type of ['beforeinput', 'keydown', 'mousedown', 'paste', 'drop']) on(doc, type, (ev) => ev.preventDefault());
    return () => detach(listeners);
  }

  const sendValue = (el: Element) => {
    const id = mirror.idOfNode(el);
    if (id === undefined || !isTextControl(el)) return;
    if (el.localName === 'input' && ((el as HTMLInputElement).type === 'checkbox' || (el as HTMLInputElement).type === 'radio')) return;
    if (masker.masksControl(el) || looksLikeCardNumber(el.value)) {
      notice(PRIVATE_FIELD);
      return;
    }
    if (TextSender.isTextField(el)) {
      texts.changed(el, id);
      return;
    }
    mirror.noteTypedValue(id, el.value);
    send({ kind: 'value', target: id, value: el.value });
  };
  /**
   * Sends an edit of a contenteditable element; a text over the message limit goes in parts (the
   * host's page inserts it once all came), never more than the hub's byte budget allows just then:
   * false when it was not sent (too much text for that, or no connection).
   */
  const sendEdit = (target: number, inputType: string, data: string | null, range: SelectionRange | null, follows: boolean): boolean => {
    const sent = sendEditParts(target, inputType, data, range, follows);
    // What comes next in this element goes where this left the caret in the host's page.
    ownCaret(sent ? target : null);
    return sent;
  };
  const sendEditParts = (target: number, inputType: string, data: string | null, range: SelectionRange | null, follows: boolean): boolean => {
    const extra = follows ? { follows } : {};
    if (data === null) return send({ kind: 'edit', target, inputType, data, range, ...extra }) !== false;
    const edits = planEdits(target, inputType, data, range, inputBytes, MAX_INPUT_BYTES, follows);
    // All or nothing, as in a text field: a paste is never half sent because the budget ran out in its middle.
    if (!edits || edits.reduce((sum, e) => sum + inputBytes(e), 0) > texts.spare()) return false;
    return edits.every((edit) => send(edit) !== false);
  };
  /**
   * The contenteditable element (by id) where this participant's last edit or caret key was, while
   * their caret there is the one the host's page keeps for them: their next input there follows
   * it. The mirror's own selection is the host's, echoed back after each input; typing faster
   * than that round trip would put each key at the caret from before the last one. A click or a
   * touch puts the caret where the mirror's selection is again.
   */
  let caretIn: number | null = null;
  const ownCaret = (id: number | null) => {
    caretIn = id;
    mirror.ownSelection = id === null ? null : ((mirror.nodeById(id) as Element | undefined) ?? null);
  };
  const editableOf = (el: Element): HTMLElement | null =>
    el.nodeType === Node.ELEMENT_NODE && (el as HTMLElement).isContentEditable
      ? ((el.closest('[contenteditable]') as HTMLElement | null) ?? (el as HTMLElement))
      : null;
  // A click or a touch: the caret is where the mirror puts it, in the editable element there (if any).
  const pointed = (ev: Event) => {
    caretIn = null;
    mirror.ownSelection = editableOf((ev.composedPath()[0] ?? ev.target) as Element);
  };
  on(doc, 'pointerdown', pointed);
  on(doc, 'touchstart', pointed);
  on(doc, 'beforeinput', (ev) => {
    const el = ev.target as Element;
    if (isTextControl(el) && masker.masksControl(el)) {
      ev.preventDefault();
      notice(PRIVATE_FIELD);
      return;
    }
    // In a contenteditable element the edit is made in the host's page; the mirror shows its result.
    const editable = editableOf(el);
    const id = editable ? mirror.idOfNode(editable) : undefined;
    if (!editable || id === undefined) return;
    if ((ev as InputEvent).inputType !== 'insertCompositionText') ev.preventDefault();
    if (masker.insideMaskedRegion(editable)) {
      notice(PRIVATE_FIELD);
      return;
    }
    const input = ev as InputEvent;
    // Composition (IME) cannot be cancelled: it is sent whole when it ends (compositionend below).
    if (input.inputType === 'insertCompositionText') return;
    // Where the edit happens, as node ids and offsets: the host's caret is put there first. (An
    // event without target ranges, as a script's is, happens at the selection.)
    const selection = doc.getSelection();
    const target: AbstractRange | undefined = input.getTargetRanges()[0] ?? (selection?.rangeCount ? selection.getRangeAt(0) : undefined);
    const a = target ? mirror.idOfNode(target.startContainer) : undefined;
    const f = target ? mirror.idOfNode(target.endContainer) : undefined;
    const range = target && a !== undefined && f !== undefined ? { a, ao: target.startOffset, f, fo: target.endOffset } : null;
    // A paste's or drop's text is in its data transfer (the event's data is null in contenteditable).
    const data = input.data ?? input.dataTransfer?.getData('text/plain') ?? null;
    if (!sendEdit(id, input.inputType, data, range, caretIn === id) && data) notice(TOO_MUCH_TEXT);
  });
  on(doc, 'input', (ev) => {
    if ((ev as InputEvent).isComposing) return;
    sendValue(ev.target as Element);
  });
  on(doc, 'change', (ev) => sendValue(ev.target as Element));
  /** The mirror's selection as node ids and offsets (anchor, then focus), or null. */
  const selectionRange = (): SelectionRange | null => {
    const sel = doc.getSelection();
    const a = sel?.anchorNode ? mirror.idOfNode(sel.anchorNode) : undefined;
    const f = sel?.focusNode ? mirror.idOfNode(sel.focusNode) : undefined;
    return sel && a !== undefined && f !== undefined ? { a, ao: sel.anchorOffset, f, fo: sel.focusOffset } : null;
  };
  let composing: { target: number; range: SelectionRange | null; follows: boolean } | null = null;
  on(doc, 'compositionstart', (ev) => {
    const host = editableOf(ev.target as Element);
    const target = host ? mirror.idOfNode(host) : undefined;
    if (target === undefined) return;
    composing = { target, range: selectionRange(), follows: caretIn === target };
  });
  on(doc, 'compositionend', (ev) => {
    const started = composing;
    composing = null;
    if (!started) {
      sendValue(ev.target as Element);
      return;
    }
    // The composed text is made in the host's page; its diff then replaces what the mirror composed.
    const data = (ev as CompositionEvent).data;
    if (data && !sendEdit(started.target, 'insertText', data, started.range, started.follows)) notice(TOO_MUCH_TEXT);
  });
  on(doc, 'keydown', (ev) => {
    const k = ev as KeyboardEvent;
    if (k.isComposing) return;
    const editable = editableOf(ev.target as Element);
    const editableId = editable ? mirror.idOfNode(editable) : undefined;
    // Select all, in editable text: the host's page selects it (the mirror's text may not have
    // caught up with the participant's last keys yet); the mirror shows the host's selection.
    const selectAll = editableId !== undefined && (k.ctrlKey || k.metaKey) && !k.altKey && k.key.toLowerCase() === 'a';
    if (!ACTION_KEYS.has(k.key) && !selectAll) return;
    const id = targetId(ev);
    const inField = isTextControl(ev.target as Element);
    if (k.key === 'Enter' || k.key === 'Tab' || !inField) ev.preventDefault();
    const key: RemoteInput = { kind: 'key', target: id ?? null, key: k.key, code: k.code, alt: k.altKey, ctrl: k.ctrlKey, shift: k.shiftKey, meta: k.metaKey };
    // In editable text a caret key moves the participant's caret in the host's page, from where it is.
    if (editableId === undefined || !(selectAll || CARET_KEYS.has(k.key))) {
      send(key);
      return;
    }
    const sent = send({ ...key, range: selectionRange(), ...(caretIn === editableId ? { follows: true } : {}) }) !== false;
    ownCaret(sent ? editableId : null);
  });
  let scrollTimer: ReturnType<typeof setTimeout> | null = null;
  const dirty = new Set<number>();
  on(doc, 'scroll', (ev) => {
    const target = ev.target as Node;
    const id = mirror.idOfNode(target);
    if (id === undefined || !mirror.followScroll) return;
    const el = target.nodeType === Node.DOCUMENT_NODE ? null : (target as Element);
    const x = el ? el.scrollLeft : (win?.scrollX ?? 0);
    const y = el ? el.scrollTop : (win?.scrollY ?? 0);
    // The echo of a scroll the host applied (clamped or not) is not sent back.
    if (mirror.isAppliedScroll(id, x, y)) return;
    dirty.add(id);
    if (scrollTimer !== null) return;
    scrollTimer = setTimeout(() => {
      scrollTimer = null;
      for (const d of dirty) {
        const node = d === mirror.idOfNode(doc) ? null : (mirror.nodeById(d) as Element | undefined);
        if (node === undefined) continue;
        const sx = node ? node.scrollLeft : (win?.scrollX ?? 0);
        const sy = node ? node.scrollTop : (win?.scrollY ?? 0);
        // Back where the host's scroll put it meanwhile: nothing to send.
        if (mirror.isAppliedScroll(d, sx, sy)) continue;
        mirror.appliedScroll.set(d, { x: sx, y: sy });
        send({ kind: 'scroll', target: d, x: sx, y: sy });
      }
      dirty.clear();
    }, 50);
  });
  return () => detach(listeners);
}

function detach(listeners: [EventTarget, string, EventListener][]): void {
  for (const [target, type, fn] of listeners) target.removeEventListener(type, fn, true);
}
