// What the mirror applies besides DOM structure: form state, CSSOM text, adopted sheets, media
// state, canvas frames and the selection. All of it works on nodes of the mirror frame's realm.

import type { FormState, MediaState } from '../protocol/messages.js';

/** Sets a mirrored control's value or checked state. */
export function applyFormState(node: Node, state: FormState): void {
  const el = node as HTMLInputElement;
  if (state.checked !== undefined && 'checked' in el) el.checked = state.checked;
  if (state.value !== undefined && 'value' in el && el.value !== state.value) el.value = state.value;
}

/** Gives a mirrored <style> the rules the host's page set through the CSSOM, keeping its text node (and id). */
export function applyStyleText(style: Node, text: string): void {
  const only = style.firstChild;
  if (only && !only.nextSibling && only.nodeType === Node.TEXT_NODE) (only as Text).data = text;
  else style.textContent = text;
}

/** Sets the adopted style sheets of a mirrored document or shadow root. */
export function applyAdoptedSheets(root: Node, texts: readonly string[]): void {
  const doc = root.nodeType === Node.DOCUMENT_NODE ? (root as Document) : root.ownerDocument;
  const Sheet = doc?.defaultView?.CSSStyleSheet;
  if (!Sheet) return;
  const sheets = texts.map((text) => {
    const sheet = new Sheet();
    try {
      sheet.replaceSync(text);
    } catch {
      // Rules this browser rejects; the rest of the mirror still renders.
    }
    return sheet;
  });
  (root as Document | ShadowRoot).adoptedStyleSheets = sheets;
}

/** Brings a mirrored <video>/<audio> to the host's state; the clock is corrected past 0.5 s of drift. */
export function applyMediaState(node: Node, state: MediaState): void {
  const el = node as HTMLMediaElement;
  if (typeof el.play !== 'function') return;
  el.muted = state.muted;
  el.volume = Math.min(1, Math.max(0, state.volume));
  if (state.rate > 0 && state.rate <= 16) el.playbackRate = state.rate;
  if (Math.abs((el.currentTime || 0) - state.time) > 0.5) {
    try {
      el.currentTime = state.time;
    } catch {
      // Not seekable yet; the next state update tries again.
    }
  }
  if (state.paused && !el.paused) el.pause();
  else if (!state.paused && el.paused) void el.play().catch(() => {});
}

/** Paints a canvas frame (an image data URL) onto a mirrored <canvas>. */
export function applyCanvasFrame(node: Node, data: string): void {
  const canvas = node as HTMLCanvasElement;
  const ctx = typeof canvas.getContext === 'function' ? canvas.getContext('2d') : null;
  const Img = canvas.ownerDocument?.defaultView?.Image;
  if (!ctx || !Img) return;
  const img = new Img();
  img.onload = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  };
  img.src = data;
}

function clampOffset(node: Node, offset: number): number {
  const length = node.nodeType === Node.TEXT_NODE ? (node as Text).length : node.childNodes.length;
  return Math.min(offset, length);
}

/** Shows the host's text selection in the mirror document (or clears it). */
export function applySelection(doc: Document, range: { anchor: Node; ao: number; focus: Node; fo: number } | null): void {
  const sel = doc.getSelection();
  if (!sel) return;
  if (!range) {
    sel.removeAllRanges();
    return;
  }
  sel.setBaseAndExtent(range.anchor, clampOffset(range.anchor, range.ao), range.focus, clampOffset(range.focus, range.fo));
}
