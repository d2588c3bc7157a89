// Follower side of control: what a participant does in the mirror is turned into RemoteInput for
// the host's page. Observers' mirrors are inert. The mirror is scaled to fit the follower's window.

import type { RemoteInput, Role, Viewport } from '../protocol/messages.js';
import { looksLikeCardNumber, type Masker } from './masking.js';
import type { Mirror } from './mirror.js';

/** Keys that do something besides typing text; sent as key input (typing travels as values). */
const ACTION_KEYS = new Set(['Enter', 'Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End']);

type SendInput = (input: RemoteInput) => void;

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
export function attachMirrorControls(doc: Document, mirror: Mirror, role: Role, masker: Masker, send: SendInput, notice: (text: string) => void): () => void {
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
      notice('This field is private: only the host can fill it in.');
      return;
    }
    mirror.noteTypedValue(id, el.value);
    send({ kind: 'value', target: id, value: el.value });
  };
  on(doc, 'beforeinput', (ev) => {
    const el = ev.target as Element;
    if (isTextControl(el) && masker.masksControl(el)) {
      ev.preventDefault();
      notice('This field is private: only the host can fill it in.');
      return;
    }
    // In a contenteditable element the edit is made in the host's page; the mirror shows its result.
    const editable = (el as HTMLElement).isContentEditable ? (el as HTMLElement) : null;
    const id = editable ? mirror.idOfNode(editable.closest('[contenteditable]') ?? editable) : undefined;
    if (!editable || id === undefined) return;
    if ((ev as InputEvent).inputType !== 'insertCompositionText') ev.preventDefault();
    if (masker.insideMaskedRegion(editable)) {
      notice('This field is private: only the host can fill it in.');
      return;
    }
    const input = ev as InputEvent;
    // Composition (IME) cannot be cancelled: it is sent whole when it ends (compositionend below).
    if (input.inputType === 'insertCompositionText') return;
    // Where the edit happens, as node ids and offsets: the host's caret is put there first.
    const target = input.getTargetRanges()[0];
    const a = target ? mirror.idOfNode(target.startContainer) : undefined;
    const f = target ? mirror.idOfNode(target.endContainer) : undefined;
    const range = target && a !== undefined && f !== undefined ? { a, ao: target.startOffset, f, fo: target.endOffset } : null;
    send({ kind: 'edit', target: id, inputType: input.inputType, data: input.data, range });
  });
  on(doc, 'input', (ev) => {
    if ((ev as InputEvent).isComposing) return;
    sendValue(ev.target as Element);
  });
  on(doc, 'change', (ev) => sendValue(ev.target as Element));
  let composing: { target: number; range: { a: number; ao: number; f: number; fo: number } | null } | null = null;
  on(doc, 'compositionstart', (ev) => {
    const el = ev.target as HTMLElement;
    const host = el.isContentEditable ? (el.closest('[contenteditable]') ?? el) : null;
    const target = host ? mirror.idOfNode(host) : undefined;
    if (target === undefined) return;
    const sel = doc.getSelection();
    const a = sel?.anchorNode ? mirror.idOfNode(sel.anchorNode) : undefined;
    const f = sel?.focusNode ? mirror.idOfNode(sel.focusNode) : undefined;
    composing = { target, range: sel && a !== undefined && f !== undefined ? { a, ao: sel.anchorOffset, f, fo: sel.focusOffset } : null };
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
    if (data) send({ kind: 'edit', target: started.target, inputType: 'insertText', data, range: started.range });
  });
  on(doc, 'keydown', (ev) => {
    const k = ev as KeyboardEvent;
    if (!ACTION_KEYS.has(k.key) || k.isComposing) return;
    const id = targetId(ev);
    const inField = isTextControl(ev.target as Element);
    if (k.key === 'Enter' || k.key === 'Tab' || !inField) ev.preventDefault();
    send({ kind: 'key', target: id ?? null, key: k.key, code: k.code, alt: k.altKey, ctrl: k.ctrlKey, shift: k.shiftKey, meta: k.metaKey });
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
