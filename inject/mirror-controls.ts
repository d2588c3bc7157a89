// Follower side of control: what a participant does in the mirror is turned into RemoteInput for
// the host's page. Observers' mirrors are inert. The mirror is scaled to fit the follower's window.

import type { RemoteInput, Role, SelectionRange, Viewport } from '../protocol/messages.js';
import { looksLikeCardNumber, type Masker } from './masking.js';
import type { Mirror } from './mirror.js';
import { editingHostOf, planEdits } from './paste-text.js';
import { inputBytes, MAX_INPUT_BYTES, PRIVATE_FIELD, type SendInput, TextSender, TOO_MUCH_TEXT } from './text-sender.js';

/** Keys that do something besides typing text; sent as key input (typing travels as values). */
const ACTION_KEYS = new Set(['Enter', 'Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

/** Keys that move the caret in editable text (the host's page moves it: see remote-input's key). */
const CARET_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

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
  // A click or a touch: the caret is where the mirror puts it, in the editable element there (if any).
  const pointed = (ev: Event) => {
    caretIn = null;
    mirror.ownSelection = editingHostOf((ev.composedPath()[0] ?? ev.target) as Element);
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
    const editable = editingHostOf(el);
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
    const host = editingHostOf(ev.target as Element);
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
    const editable = editingHostOf(ev.target as Element);
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
