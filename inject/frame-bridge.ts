// Cross-origin frames of the host's page (another proxied host of the session): the frame runs a
// recorder of its own, with an id range the top page hands it, and reports through postMessage;
// the top page forwards its snapshots and diffs to the hub and remote input back into it.

import { type Mutation, parseClientMessage, type RemoteInput, type SerializedNode, type SpliceBase } from '../protocol/messages.js';
import type { Masker } from './masking.js';
import { EditParts } from './paste-text.js';
import { Recorder } from './recorder.js';
import { applyRemoteInput, fieldValue, maskedRefusal, PRIVATE_FIELD_REFUSAL } from './remote-input.js';
import { report } from './report.js';

/** Ids each cross-origin frame of the top page may use; a frame's own frames get a hundredth of its range. */
const FRAME_RANGE = 1_000_000;
const NESTED_FRAMES = 100;
const TAG = '__cobrowse';

// Captured before the URL runtime wraps them: the bridge compares real window objects.
const sourceOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'source')?.get as (this: MessageEvent) => MessageEventSource | null;
const contentWindowOf = Object.getOwnPropertyDescriptor(HTMLIFrameElement.prototype, 'contentWindow')?.get as (this: HTMLIFrameElement) => Window | null;
const parentWindow: Window = window.parent;

type FrameMessage =
  | { [TAG]: 'frame-init'; base: number; range: number }
  | { [TAG]: 'frame-snapshot'; tree: SerializedNode }
  | { [TAG]: 'frame-mutations'; batch: Mutation[] }
  | { [TAG]: 'frame-input'; event: RemoteInput; from?: string }
  | { [TAG]: 'frame-splice-refused'; from: string; target: number; base: SpliceBase; value?: string }
  | { [TAG]: 'frame-input-refused'; from: string };

/** Input kinds a frame in a masked region does not get: they would change its fields (see maskedRefusal). */
const REFUSED_IN_REGION = new Set<RemoteInput['kind']>(['value', 'splice', 'key', 'edit']);

/** False for a part of an edit other than its last: an edit refused in parts is told once. */
function endsItsInput(event: RemoteInput): boolean {
  return event.kind !== 'edit' || !event.part || event.part.index === event.part.count - 1;
}

function isFrameMessage(data: unknown): data is FrameMessage {
  return typeof data === 'object' && data !== null && typeof (data as Record<string, unknown>)[TAG] === 'string';
}

const ownHandlers: ((ev: MessageEvent) => void)[] = [];

/**
 * Handles the bridge's own messages in this window before the site's listeners, which never see
 * them (issue 3: a site's message listener got the bridge's messages mixed with its own). The
 * listener is registered by the injected script, which runs before any of the site's scripts.
 */
function onFrameMessage(handler: (ev: MessageEvent) => void): void {
  if (ownHandlers.length === 0) {
    addEventListener(
      'message',
      (ev) => {
        if (!isFrameMessage(ev.data)) return;
        ev.stopImmediatePropagation();
        for (const h of ownHandlers) {
          try {
            h(ev);
          } catch (err) {
            report(err);
          }
        }
      },
      true,
    );
  }
  ownHandlers.push(handler);
}

/** The top page's side: registers cross-origin frames and relays between them and the hub. */
export class FrameBridge {
  private next = 0;
  /**
   * `synced` is false from each frame-init until the frame's next snapshot, and the frame's changes
   * are dropped meanwhile: register() always follows a reset of the frame's document in this
   * page's stream (the frame was serialized empty, or sent as {k: 'frame', doc: null}), so changes
   * the frame sent before it got the frame-init speak of nodes the followers no longer have (a
   * follower resynced, was replayed the same stream, and never caught up).
   */
  private readonly frames: { frame: HTMLIFrameElement; base: number; synced: boolean }[] = [];
  private readonly range: number;
  /** A frame did not apply a participant's splice to a field of its own (its value changed meanwhile). */
  onSpliceRefused: (participantId: string, target: number, base: SpliceBase, value?: string) => void = () => {};
  /** A participant's input aimed into a frame was refused: by this page (the frame is in a masked region) or by the frame. */
  onInputRefused: (participantId: string, reason: string) => void = () => {};

  /**
   * `space` is the id range this page hands out to its frames: the top page's ids are all below
   * FRAME_RANGE; a frame hands out sub-ranges of the upper half of its own range.
   */
  constructor(
    private readonly recorder: Recorder,
    private readonly masker: Masker,
    private readonly sendBatch: (batch: Mutation[]) => void,
    private readonly space: { base: number; range: number } = { base: 0, range: FRAME_RANGE * 2000 },
  ) {
    this.range = space.base === 0 ? FRAME_RANGE : Math.floor(space.range / 2 / NESTED_FRAMES);
    onFrameMessage((ev) => this.received(ev));
  }

  /** A cross-origin frame was met (serialized, or loaded again): hands it its id range. */
  register(frame: HTMLIFrameElement): void {
    let entry = this.frames.find((f) => f.frame === frame);
    if (!entry) {
      const slot = ++this.next;
      const limit = this.space.base === 0 ? 2000 : NESTED_FRAMES;
      if (slot >= limit) return;
      const base = this.space.base === 0 ? slot * FRAME_RANGE : this.space.base + this.space.range / 2 + (slot - 1) * this.range;
      entry = { frame, base, synced: false };
      this.frames.push(entry);
    }
    entry.synced = false;
    contentWindowOf.call(frame)?.postMessage({ [TAG]: 'frame-init', base: entry.base, range: this.range }, '*');
  }

  /**
   * Sends remote input aimed at a node of a cross-origin frame into that frame; false when it is
   * not one. The frame masks by its own site's rules, which know nothing of this page's regions:
   * input that would change a field of a frame in one is refused here, before the frame can apply
   * it or answer a splice with the field's value; clicks and scrolls go in, as maskedRefusal lets them.
   */
  forward(event: RemoteInput, from?: string): boolean {
    const target = 'target' in event ? event.target : null;
    if (typeof target !== 'number') return false;
    const entry = this.frames.find((f) => target >= f.base && target < f.base + this.range);
    if (!entry) return false;
    if (REFUSED_IN_REGION.has(event.kind) && this.masker.insideMaskedRegion(entry.frame)) {
      if (from !== undefined && endsItsInput(event)) this.onInputRefused(from, PRIVATE_FIELD_REFUSAL);
      return true;
    }
    contentWindowOf.call(entry.frame)?.postMessage({ [TAG]: 'frame-input', event, from }, '*');
    return true;
  }

  private received(ev: MessageEvent): void {
    if (!isFrameMessage(ev.data)) return;
    const source = sourceOf.call(ev);
    const entry = this.frames.find((f) => contentWindowOf.call(f.frame) === source);
    if (!entry) return;
    const frameId = this.recorder.ids.known(entry.frame);
    if (frameId === undefined) return;
    const data = ev.data;
    if (data[TAG] === 'frame-input-refused') {
      // Told with this page's own notice: a frame's text is not what a participant is shown.
      if (typeof data.from === 'string' && data.from.length <= 200) this.onInputRefused(data.from, PRIVATE_FIELD_REFUSAL);
      return;
    }
    if (data[TAG] === 'frame-splice-refused') {
      // Checked as the message the top page sends for it; a frame speaks only of its own ids.
      const checked = parseClientMessage(
        JSON.stringify({ type: 'splice-refused', participantId: data.from, target: data.target, base: data.base, value: data.value }),
      );
      if (!checked.ok || checked.value.type !== 'splice-refused') return;
      const { participantId, target, base, value } = checked.value;
      if (target >= entry.base && target < entry.base + this.range) this.onSpliceRefused(participantId, target, base, value);
      return;
    }
    if (data[TAG] === 'frame-snapshot') {
      const checked = parseClientMessage(JSON.stringify({ type: 'mutations', batch: [{ k: 'frame', id: frameId, doc: data.tree }] }));
      if (!checked.ok || checked.value.type !== 'mutations') return;
      this.sendBatch(checked.value.batch);
      entry.synced = true;
    } else if (data[TAG] === 'frame-mutations') {
      if (!entry.synced) return;
      const checked = parseClientMessage(JSON.stringify({ type: 'mutations', batch: data.batch }));
      if (!checked.ok || checked.value.type !== 'mutations') return;
      // A frame may only speak about its own range of ids.
      const inRange = (id: number) => id >= entry.base && id < entry.base + this.range;
      const batch = checked.value.batch.filter((m) => ('id' in m && typeof m.id === 'number' ? inRange(m.id) : 'parent' in m ? inRange(m.parent) : false));
      if (batch.length > 0) this.sendBatch(batch);
    }
  }
}

/** The frame's side: waits for its parent's id range, then records itself into the parent. */
export function startFrameRecorder(masker: Masker): void {
  let recorder: Recorder | null = null;
  let nested: FrameBridge | null = null;
  const editParts = new EditParts();
  onFrameMessage((ev) => {
    try {
      if (!isFrameMessage(ev.data) || sourceOf.call(ev) !== parentWindow) return;
      const data = ev.data;
      if (data[TAG] === 'frame-init' && !recorder) {
        const post = (message: FrameMessage) => parentWindow.postMessage(message, '*');
        const own = new Recorder(
          (message) => {
            if (message.type === 'snapshot') post({ [TAG]: 'frame-snapshot', tree: message.tree });
            else if (message.type === 'mutations') post({ [TAG]: 'frame-mutations', batch: message.batch });
          },
          masker,
          { base: data.base },
        );
        recorder = own;
        // This frame's own cross-origin frames: sub-ranges of its range, relayed up as its changes.
        nested = new FrameBridge(own, masker, (batch) => own.sendChanges(batch), { base: data.base, range: data.range });
        own.onCrossFrame = (frame) => nested?.register(frame);
        nested.onSpliceRefused = (from, target, base, value) => post({ [TAG]: 'frame-splice-refused', from, target, base, value });
        // Up to the top page, which tells the participant (a refusal of this frame's or of one of its frames').
        nested.onInputRefused = (from) => post({ [TAG]: 'frame-input-refused', from });
        own.start();
      } else if (data[TAG] === 'frame-init' && recorder) {
        recorder.snapshot();
      } else if (data[TAG] === 'frame-input' && recorder) {
        const from = data.from;
        if (!nested?.forward(data.event, from)) {
          const ids = recorder.ids;
          const event = editParts.join(data.event, from);
          if (!event) return;
          // A private field of this frame takes nothing, whatever it holds (see maskedRefusal).
          if (maskedRefusal(event, ids, masker)) {
            if (from) parentWindow.postMessage({ [TAG]: 'frame-input-refused', from } satisfies FrameMessage, '*');
            return;
          }
          applyRemoteInput(
            event,
            ids,
            (stale) => {
              const value = fieldValue(ids.node(stale.target), masker);
              if (from)
                parentWindow.postMessage({ [TAG]: 'frame-splice-refused', from, target: stale.target, base: stale.base, value } satisfies FrameMessage, '*');
            },
            from ?? '',
          );
        }
      }
    } catch (err) {
      report(err);
    }
  });
}
