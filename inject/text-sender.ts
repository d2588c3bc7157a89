// The follower's text fields: what a participant changes in one travels to the host's page as
// splices against the value both sides last agreed on, under the hub's message limit and byte
// budget, with the fallbacks when the host's page refuses a stale one.

import { encodeMessage, FOLLOWER_MAX_MESSAGE_BYTES, MAX_VALUE_CHARS, type RemoteInput, type SpliceBase } from '../protocol/messages.js';
import { looksLikeCardNumber, type Masker } from './masking.js';
import type { Mirror } from './mirror.js';
import { applyEdit, diffText, planSplices, utf8Bytes } from './text-splice.js';

/** Sends one input to the hub; false when it was not sent (not connected, or over the hub's limits). */
export type SendInput = (input: RemoteInput) => boolean | undefined;

/** Input types whose value is text the participant types: their changes travel as splices. */
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'url', 'tel', 'email', 'password']);

/** Bytes of one input as its message goes to the hub. */
export function inputBytes(event: RemoteInput): number {
  return utf8Bytes(encodeMessage({ type: 'input', event }));
}

/** Largest input message this side sends: under the hub's limit for a follower's message. */
export const MAX_INPUT_BYTES = FOLLOWER_MAX_MESSAGE_BYTES - 1024;

export const PRIVATE_FIELD = 'This field is private: only the host can fill it in.';
export const TOO_MUCH_TEXT = 'That is too much text to send at once, so it was not sent: paste it in smaller parts.';
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
