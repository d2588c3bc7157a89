// The one wire protocol between the gateway hub and the injected script. Both sides import this
// module; no other file declares a message shape.

/**
 * Bumped on every incompatible change of a message below. 2: text fields' changes as splices
 * (input and mutations), contenteditable text in parts.
 */
export const PROTOCOL_VERSION = 2;

/** Error code of the hub's answer to a hello of another protocol version (the socket is closed after it, 4400). */
export const VERSION_MISMATCH = 'VERSION_MISMATCH';

/** What a page whose script speaks another protocol version than the hub tells its user. */
export const RELOAD_NOTICE = 'The cobrowsing gateway was updated: reload this page to go on.';

/**
 * True for the hub's refusal of this page's hello for its protocol version: VERSION_MISMATCH, or
 * the BAD_MESSAGE about the hello's `v` every hub sends for it without that code (validate.ts).
 */
export function isVersionRefusal(error: { code: string; message: string }): boolean {
  return error.code === VERSION_MISMATCH || (error.code === 'BAD_MESSAGE' && error.message.startsWith('v: '));
}

/** Attribute on the follower view page's <html> that starts the bundle in mirror mode. */
export const VIEW_PAGE_MARKER = 'data-cobrowse-view';

/** Attribute on elements the gateway adds to a page; they are never mirrored. */
export const OWN_NODE_MARKER = 'data-cobrowse';

/** Largest WebSocket message the hub accepts (a snapshot of a big page fits). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Limits of a socket that is not the host's live page (the hub closes it past them, before the
 * message is parsed): its largest message, and the bytes per second it may sustain with the burst
 * above it. The follower's runtime keeps under them (text edits are split, large ones refused).
 */
export const FOLLOWER_MAX_MESSAGE_BYTES = 64 * 1024;
export const FOLLOWER_BYTES_PER_SECOND = 256 * 1024;
export const FOLLOWER_BYTES_BURST = 1024 * 1024;

/** Longest value a form control's state or a text splice's result may have (UTF-16 units). */
export const MAX_VALUE_CHARS = 1_000_000;

/** Most text one splice inserts (UTF-16 units): more than a follower's message can carry anyway. */
export const MAX_SPLICE_CHARS = FOLLOWER_MAX_MESSAGE_BYTES;

/** Most parts one contenteditable edit's text is sent in (its parts fill follower messages, within the byte burst). */
export const MAX_EDIT_PARTS = 256;

/** Deepest node tree a snapshot or mutation may carry. */
export const MAX_TREE_DEPTH = 512;

/** Most mutations in one batch. */
export const MAX_BATCH = 10_000;

/** What a participant may do in a session; enforced by the gateway. */
export type Role = 'host' | 'controller' | 'observer';

/** A DOM node as sent over the wire, with the stable id the host assigned to it. */
export type SerializedNode =
  | { t: 'doc'; id: number; c: SerializedNode[]; as?: string[] }
  | { t: 'sr'; id: number; c: SerializedNode[]; as?: string[] }
  | { t: 'dt'; id: number; name: string; pub: string; sys: string }
  | {
      t: 'el';
      id: number;
      tag: string;
      ns?: 'svg' | 'math';
      a: Record<string, string>;
      c: SerializedNode[];
      /** Form state of a control. */
      f?: FormState;
      /** Scroll offset of a scrolled element. */
      sc?: ScrollPos;
      /** Open shadow root. */
      sr?: SerializedNode;
      /** Document of a same-origin iframe. */
      cd?: SerializedNode;
      /** Rules of a <style> changed through the CSSOM. */
      css?: string;
      /** State of a <video> or <audio>. */
      m?: MediaState;
    }
  | { t: 'txt'; id: number; v: string }
  | { t: 'cm'; id: number; v: string };

/** Live state of a form control (masked in the host's page before it is sent). */
export interface FormState {
  value?: string;
  checked?: boolean;
}

/** Playback state of a media element; `time` in seconds. */
export interface MediaState {
  paused: boolean;
  time: number;
  rate: number;
  volume: number;
  muted: boolean;
}

/** A text selection between two text or element nodes. */
export interface SelectionRange {
  a: number;
  ao: number;
  f: number;
  fo: number;
}

/** A scroll offset in CSS pixels. */
export interface ScrollPos {
  x: number;
  y: number;
}

/**
 * One change of the host's page; ids refer to nodes of earlier snapshots or mutations. `value`
 * carries form state (`splice` a long text value's change), `scroll` the scroll offset of an
 * element or (with the document's id) of the window, `viewport` the host's window size.
 */
export type Mutation =
  | { k: 'add'; parent: number; before: number | null; node: SerializedNode }
  | { k: 'remove'; id: number }
  | { k: 'attr'; id: number; name: string; value: string | null }
  | { k: 'text'; id: number; v: string }
  | ({ k: 'value'; id: number } & FormState)
  /** A text field's value changed by a splice against the value the last `value` or `splice` gave it (see RemoteInput). */
  | { k: 'splice'; id: number; at: number; remove: number; text: string; base: SpliceBase }
  | ({ k: 'scroll'; id: number } & ScrollPos)
  | ({ k: 'viewport' } & Viewport)
  | { k: 'location'; url: string }
  | { k: 'shadow'; id: number; root: SerializedNode }
  | { k: 'css'; id: number; text: string }
  | { k: 'adopted'; id: number; sheets: string[] }
  | { k: 'frame'; id: number; doc: SerializedNode | null }
  | ({ k: 'media'; id: number } & MediaState)
  | { k: 'canvas'; id: number; data: string }
  | { k: 'focus'; id: number | null }
  | { k: 'selection'; range: SelectionRange | null }
  /** Structure checksum of the host's document; a follower whose mirror differs resyncs. */
  | { k: 'check'; n: number; hash: number };

/** Keyboard modifiers held during a remote input. */
export interface Modifiers {
  alt: boolean;
  ctrl: boolean;
  shift: boolean;
  meta: boolean;
}

/** What a participant with control does to the host's page; applied there, once. */
export type RemoteInput =
  | { kind: 'click'; target: number; x: number; y: number }
  | ({ kind: 'value'; target: number } & FormState)
  /**
   * A key press. In a contenteditable element a caret key (arrows, Home, End, Page keys) moves the
   * participant's caret in the host's page: from `range`, where the mirror's selection was, or with
   * `follows` from where the participant's previous input there left it (see the edit's).
   */
  | ({ kind: 'key'; target: number | null; key: string; code: string; range?: SelectionRange | null; follows?: boolean } & Modifiers)
  | ({ kind: 'scroll'; target: number } & ScrollPos)
  | { kind: 'navigate'; url: string }
  | { kind: 'history'; action: 'back' | 'forward' | 'reload' }
  /**
   * Editing in a contenteditable element: text inserted, or another input type (deleteContentBackward,
   * insertParagraph...). A text too long for one message comes in parts (`part`, the first one with
   * the input type and range): the host's page inserts it once its last part came.
   * `follows`: this input continues the participant's previous edit or caret key in the element, so
   * it goes where that one left the participant's caret in the host's page (which moves with the
   * page's own changes), not at `range`: the mirror took `range` before the previous input's result
   * came back, and typing faster than the round trip put letters before the ones typed earlier.
   */
  | { kind: 'edit'; target: number; inputType: string; data: string | null; range: SelectionRange | null; follows?: boolean; part?: EditPart }
  /**
   * A change of a text field's value: `remove` UTF-16 units at `at` replaced by `text`. Applied
   * only to the value it was computed against (`base`); else refused (`splice-refused`).
   */
  | { kind: 'splice'; target: number; at: number; remove: number; text: string; base: SpliceBase };

/**
 * The value a splice was computed against, as the host's page checks it: its length, and the
 * FNV-1a hash of the text the splice removes with up to SPLICE_CONTEXT units either side.
 */
export interface SpliceBase {
  length: number;
  hash: number;
}

/** Which part of an edit's text this is: `index` (from 0) of `count`. */
export interface EditPart {
  index: number;
  count: number;
}

/** Units either side of a splice that its base's hash covers. */
export const SPLICE_CONTEXT = 32;

/** Host viewport size in CSS pixels. */
export interface Viewport {
  w: number;
  h: number;
}

/** Messages a browser sends to the hub. */
export type ClientMessage =
  | { type: 'hello'; v: number; mode: 'live' | 'mirror'; lastSeq?: number }
  | { type: 'snapshot'; url: string; title: string; viewport: Viewport; tree: SerializedNode }
  | { type: 'mutations'; batch: Mutation[] }
  | { type: 'input'; event: RemoteInput }
  | { type: 'presence'; cursor: CursorPos | null }
  | { type: 'chat'; text: string }
  | { type: 'name'; name: string }
  | { type: 'control'; action: ControlAction; participantId?: string }
  | ({ type: 'highlight' } & Highlight)
  | { type: 'end' }
  /** From the host's page: a remote input it did not apply (host-only element or URL). */
  | { type: 'input-refused'; participantId: string; reason: string }
  /**
   * From the host's page: a splice of a participant's that did not fit the field's value (it
   * changed meanwhile); `value` is the field's value now, masked as followers see it.
   */
  | { type: 'splice-refused'; participantId: string; target: number; base: SpliceBase; value?: string };

/** Who may act on the host's page: only the host; participants who asked and were granted; anyone with control. */
export type ControlPolicy = 'host-only' | 'request' | 'take';

/** Control requests and decisions. */
export type ControlAction = 'request' | 'release' | 'grant' | 'deny' | 'revoke' | 'make-host';

/** A cursor anchored to an element: offset in CSS pixels from the element's top-left corner. */
export interface CursorPos {
  target: number;
  x: number;
  y: number;
}

/**
 * A highlight drawn by a participant: a marked element, a laser-pointer dot, a click ripple, or an
 * area (w by h pixels from x, y inside the target element).
 */
export interface Highlight {
  kind: 'mark' | 'laser' | 'ripple' | 'area';
  target: number;
  x: number;
  y: number;
  w?: number;
  h?: number;
}

/** One participant as everyone sees them. */
export interface RosterEntry {
  id: string;
  name: string;
  color: string;
  role: Role;
  connected: boolean;
}

/** Longest chat message and display name. */
export const MAX_CHAT_CHARS = 2000;
export const MAX_NAME_CHARS = 60;

/** Messages the hub sends to a browser. */
export type ServerMessage =
  // No join links: this socket is open to any script of the proxied page (its cookie, its Origin).
  // The host reads them on the gateway's own host (GET /s/<sessionId>/invite, gateway/api.ts).
  | { type: 'welcome'; v: number; sessionId: string; participantId: string; role: Role }
  | { type: 'snapshot'; seq: number; url: string; title: string; viewport: Viewport; tree: SerializedNode }
  | { type: 'mutations'; seq: number; batch: Mutation[] }
  | { type: 'request-snapshot' }
  | { type: 'input'; from: string; event: RemoteInput }
  | { type: 'promoted'; url: string }
  | { type: 'cookies-changed' }
  | { type: 'waiting-for-host' }
  | { type: 'ended'; reason: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'roster'; participants: RosterEntry[]; controlHolder: string | null; policy: ControlPolicy }
  | { type: 'presence'; from: string; cursor: CursorPos | null }
  | { type: 'chat'; from: string; name: string; text: string; at: number }
  | { type: 'control-request'; from: string; name: string }
  | ({ type: 'highlight'; from: string } & Highlight)
  | { type: 'notice'; text: string }
  /** To the participant who sent it: the host's page did not apply this splice (the field changed meanwhile). */
  | { type: 'splice-refused'; target: number; base: SpliceBase; value?: string };

/** Outcome of validating one message; `code` VERSION_MISMATCH when a hello speaks another protocol version. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; code?: typeof VERSION_MISMATCH };

/** Serializes a message for the wire; typed so that only declared shapes go out. */
export function encodeMessage(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

export { parseClientMessage, parseServerMessage } from './validate.js';
