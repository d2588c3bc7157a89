// Live mode, in the host's page: a snapshot when the DOM is ready, then batches of changes:
// DOM mutations (document, open shadow roots, same-origin iframes), form values, scroll,
// viewport, route changes, CSSOM, media state, canvas frames, focus and selection.

import { type ClientMessage, MAX_BATCH, type Mutation } from '../protocol/messages.js';
import { structureChecksum } from './checksum.js';
import { CrossFrameRelay } from './cross-frame-relay.js';
import { diffRecords } from './diff.js';
import type { Masker } from './masking.js';
import { installPageHooks } from './page-hooks.js';
import { adoptedTexts, formStateOf, frameDocument, mediaStateOf, NodeIds, type SerializeContext, serializeNode, sheetText } from './serializer.js';
import { diffText, spliceBase } from './text-splice.js';

type Send = (message: ClientMessage) => void;

/** How often scroll positions are sent at most. */
const SCROLL_INTERVAL_MS = 50;
/** How often canvases are sampled and playing media re-synced. */
const TICK_MS = 1000;
/** Largest canvas frame sent. */
const MAX_CANVAS_FRAME = 2 * 1024 * 1024;
/** Values longer than this are sent as splices when they change. */
const SPLICE_FROM_CHARS = 1024;

/** Ticks between structure checksums. */
const CHECK_EVERY_TICKS = 3;
const OBSERVE: MutationObserverInit = { subtree: true, childList: true, attributes: true, characterData: true };

/** Records the host's document and sends it through `send`. */
export class Recorder {
  readonly ids: NodeIds;
  private readonly observer: MutationObserver;
  private readonly ctx: SerializeContext;
  private ready = false;
  private readonly roots = new Set<Document | ShadowRoot>();
  private readonly watchedFrames = new WeakSet<HTMLIFrameElement>();
  private readonly adoptedRoots = new Set<Document | ShadowRoot>();
  private readonly dirtyScroll = new Set<Node>();
  private scrollTimer: ReturnType<typeof setTimeout> | null = null;
  private pendingStyle = new Map<string, () => Mutation | null>();
  private canvasFrames = new WeakMap<HTMLCanvasElement, string>();
  private lastLocation = location.href;
  /**
   * Per control, the value its last value or splice mutation gave the followers' mirrors; dropped
   * whenever the control is serialized (its state then travels with it, and the next change is
   * sent whole), so a splice is always against the value the stream last gave the mirrors.
   */
  private sentValues = new WeakMap<Element, string>();
  private selectionTimer: ReturnType<typeof setTimeout> | null = null;
  /** The changes of this page's cross-origin frames, held back while a frame is in a masked region. */
  private readonly crossFrames: CrossFrameRelay;

  /** Called for every cross-origin frame met (on serialization and on each of its loads). */
  onCrossFrame: (frame: HTMLIFrameElement) => void = () => {};

  /**
   * `frame` is set for the recorder of a cross-origin frame: its ids start at `frame.base`, and
   * what belongs to the top page (viewport, location, focus, selection, checksums) is left out.
   */
  constructor(
    private readonly send: Send,
    private readonly masker: Masker,
    private readonly frame: { base: number } | null = null,
  ) {
    this.ids = new NodeIds(frame?.base ?? 1);
    this.crossFrames = new CrossFrameRelay(this.ids, masker, (f) => this.onCrossFrame(f));
    this.observer = new MutationObserver((records) => this.flush(records));
    this.ctx = {
      ids: this.ids,
      masker,
      cssChanged: new WeakSet(),
      observeRoot: (root, frame) => this.observeRoot(root, frame),
      formStateSerialized: (el) => this.sentValues.delete(el),
    };
  }

  /** Starts once the document is parsed; sends the first snapshot then. */
  start(): void {
    installPageHooks({
      sheetChanged: (sheet) => this.sheetChanged(sheet),
      adoptedChanged: (root) => this.queueStyle(`adopted:${this.ids.known(root) ?? -1}`, () => this.adoptedMutation(root), root),
      shadowAttached: (host, root) => queueMicrotask(() => this.guard(() => this.shadowAttached(host, root))),
      locationMaybeChanged: () =>
        this.guard(() => {
          if (!this.frame) this.locationChanged();
        }),
    });
    const begin = () => {
      this.ready = true;
      this.observeRoot(document);
      this.snapshot();
      if (!this.frame) addEventListener('resize', () => this.guard(() => this.sendBatch([{ k: 'viewport', w: innerWidth, h: innerHeight }])));
      setInterval(() => this.guard(() => this.tick()), TICK_MS);
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', begin, { once: true });
    else begin();
  }

  /** Sends a full snapshot of the current document (on start, reconnect, or the hub's request). */
  snapshot(): void {
    if (!this.ready) return;
    this.observer.takeRecords();
    this.canvasFrames = new WeakMap();
    this.sentValues = new WeakMap();
    const tree = serializeNode(document, this.ctx);
    if (!tree) return;
    this.send({ type: 'snapshot', url: location.href, title: document.title, viewport: { w: innerWidth, h: innerHeight }, tree });
    const after: Mutation[] = [];
    if (scrollX !== 0 || scrollY !== 0) after.push({ k: 'scroll', id: this.ids.idOf(document), x: scrollX, y: scrollY });
    const focus = this.focusMutation();
    if (focus.id !== null && !this.frame) after.push(focus);
    after.push(...this.canvasMutations());
    this.sendBatch(after);
  }

  /** Sends the current value of a control now. */
  valueChanged(target: EventTarget | null): void {
    // Nodes of same-origin iframes belong to other realms: check node types, not instanceof.
    if (!target || (target as Node).nodeType !== Node.ELEMENT_NODE) return;
    const el = target as Element;
    const id = this.ids.known(el);
    const state = formStateOf(el, this.masker);
    if (id === undefined || !state) return;
    if (state.value !== undefined) {
      // Masked already: a splice is between two values the followers may see.
      const last = this.sentValues.get(el);
      // The change event right behind an input event: the mirrors have this value.
      if (last === state.value) return;
      this.sentValues.set(el, state.value);
      // A long value's change travels as a splice (a key typed into 200 KB of text is a few bytes, not 200 KB to each follower).
      const edit = last !== undefined && Math.max(last.length, state.value.length) > SPLICE_FROM_CHARS ? diffText(last, state.value) : null;
      if (last !== undefined && edit && edit.text.length < state.value.length / 2) {
        this.sendBatch([{ k: 'splice', id, ...edit, base: spliceBase(last, edit.at, edit.remove) }]);
        return;
      }
    }
    this.sendBatch([{ k: 'value', id, ...state }]);
  }

  private observeRoot(root: Document | ShadowRoot, frame?: HTMLIFrameElement): void {
    if (frame && !this.watchedFrames.has(frame)) {
      this.watchedFrames.add(frame);
      frame.addEventListener('load', () => this.guard(() => this.frameLoaded(frame)));
    }
    // Serialized again (a new snapshot, or moved with moveBefore, which keeps the frame's document
    // and fires no load): the followers' new frame element is empty until the frame records again.
    if (frame && !frameDocument(frame)) this.onCrossFrame(frame);
    if (this.roots.has(root)) return;
    this.roots.add(root);
    this.observer.observe(root, OBSERVE);
    // Events inside shadow roots and frames do not all reach the top document: listen on each root.
    const real = (ev: Event) => ev.composedPath()[0] ?? ev.target;
    const onValue = (ev: Event) => this.guard(() => this.valueChanged(real(ev)));
    root.addEventListener('input', onValue, true);
    root.addEventListener('change', onValue, true);
    root.addEventListener('scroll', (ev) => this.guard(() => this.scrolled(ev.target)), true);
    const onMedia = (ev: Event) => this.guard(() => this.mediaChanged(real(ev)));
    for (const type of ['play', 'pause', 'seeked', 'ratechange', 'volumechange']) root.addEventListener(type, onMedia, true);
    if (this.frame) return;
    const onFocus = () => queueMicrotask(() => this.guard(() => this.sendBatch([this.focusMutation()])));
    root.addEventListener('focusin', onFocus, true);
    root.addEventListener('focusout', onFocus, true);
    if (root.nodeType === Node.DOCUMENT_NODE) {
      root.addEventListener('selectionchange', () => this.guard(() => this.selectionChanged()));
    }
  }

  private frameLoaded(frame: HTMLIFrameElement): void {
    const id = this.ids.known(frame);
    if (id === undefined || !frame.isConnected) return;
    const doc = frameDocument(frame);
    if (doc) this.observeRoot(doc, frame);
    this.sendBatch([{ k: 'frame', id, doc: doc ? serializeNode(doc, this.ctx) : null }]);
    if (!doc) this.onCrossFrame(frame);
  }

  private shadowAttached(host: Element, root: ShadowRoot): void {
    const id = this.ids.known(host);
    if (id === undefined || !this.ready) return;
    const serialized = serializeNode(root, this.ctx);
    if (serialized) this.sendBatch([{ k: 'shadow', id, root: serialized }]);
  }

  private sheetChanged(sheet: CSSStyleSheet): void {
    this.ctx.cssChanged.add(sheet);
    const owner = sheet.ownerNode;
    if (owner instanceof Element) {
      this.queueStyle(`css:${this.ids.known(owner) ?? -1}`, () => {
        const id = this.ids.known(owner);
        const text = sheetText(sheet);
        return id === undefined || text === null ? null : { k: 'css', id, text: this.masker.pass(() => this.masker.css(owner, text)) };
      });
      return;
    }
    for (const root of this.adoptedRoots) {
      if ((root.adoptedStyleSheets ?? []).includes(sheet)) this.queueStyle(`adopted:${this.ids.known(root) ?? -1}`, () => this.adoptedMutation(root));
    }
  }

  private adoptedMutation(root: Document | ShadowRoot): Mutation | null {
    const id = this.ids.known(root);
    return id === undefined ? null : { k: 'adopted', id, sheets: this.masker.pass(() => adoptedTexts(root, this.masker)) };
  }

  /** Style changes come in bursts (a framework inserting hundreds of rules): one mutation per target per task. */
  private queueStyle(key: string, make: () => Mutation | null, adoptedRoot?: Document | ShadowRoot): void {
    if (adoptedRoot) this.adoptedRoots.add(adoptedRoot);
    const first = this.pendingStyle.size === 0;
    this.pendingStyle.set(key, make);
    if (!first) return;
    setTimeout(() =>
      this.guard(() => {
        const makers = [...this.pendingStyle.values()];
        this.pendingStyle = new Map();
        this.sendBatch(makers.map((m) => m()).filter((m): m is Mutation => m !== null));
      }),
    );
  }

  private locationChanged(): void {
    if (location.href === this.lastLocation) return;
    this.lastLocation = location.href;
    this.sendBatch([{ k: 'location', url: location.href }]);
  }

  private mediaChanged(target: EventTarget | null): void {
    const el = target as HTMLMediaElement | null;
    if (!el || (el.localName !== 'video' && el.localName !== 'audio')) return;
    const id = this.ids.known(el);
    if (id !== undefined) this.sendBatch([{ k: 'media', id, ...mediaStateOf(el) }]);
  }

  private focusMutation(): Mutation & { k: 'focus' } {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    const id = el && el !== document.body ? this.ids.known(el) : undefined;
    return { k: 'focus', id: id ?? null };
  }

  private selectionChanged(): void {
    // A caret in an editable region moves with every keystroke and followers edit there: sent at once.
    const sel = document.getSelection();
    const editing =
      !!sel?.isCollapsed &&
      !!sel.anchorNode &&
      !!(sel.anchorNode.nodeType === Node.ELEMENT_NODE ? (sel.anchorNode as HTMLElement) : sel.anchorNode.parentElement)?.isContentEditable;
    if (editing) {
      queueMicrotask(() => this.guard(() => this.sendSelection()));
      return;
    }
    if (this.selectionTimer !== null) return;
    this.selectionTimer = setTimeout(() => {
      this.selectionTimer = null;
      this.guard(() => this.sendSelection());
    }, 100);
  }

  private sendSelection(): void {
    const sel = document.getSelection();
    const a = sel?.anchorNode ? this.ids.known(sel.anchorNode) : undefined;
    const f = sel?.focusNode ? this.ids.known(sel.focusNode) : undefined;
    const inEditable =
      !!sel?.anchorNode &&
      !!(sel.anchorNode.nodeType === Node.ELEMENT_NODE ? (sel.anchorNode as HTMLElement) : sel.anchorNode.parentElement)?.isContentEditable;
    const shown = sel && (!sel.isCollapsed || inEditable) && a !== undefined && f !== undefined;
    if (!shown) {
      this.sendBatch([{ k: 'selection', range: null }]);
      return;
    }
    const first = sel.rangeCount > 0 ? sel.getRangeAt(0) : null;
    const backward = !!first && (first.startContainer !== sel.anchorNode || first.startOffset !== sel.anchorOffset);
    const ao = this.masker.pass(() => this.selectionOffset(sel, sel.anchorNode, sel.anchorOffset, backward));
    const fo = this.masker.pass(() => this.selectionOffset(sel, sel.focusNode, sel.focusOffset, !backward));
    this.sendBatch([{ k: 'selection', range: { a, ao, f, fo } }]);
  }

  /**
   * An offset in a masked region's text would tell where in the text the selection (or caret) is,
   * word lengths included: such a point is at the start of its text node, or at its end when it
   * ends a selection.
   */
  private selectionOffset(sel: Selection, node: Node | null, offset: number, end: boolean): number {
    if (!node || node.nodeType !== Node.TEXT_NODE || !this.masker.insideMaskedRegion(node.parentNode)) return offset;
    return end && !sel.isCollapsed ? this.masker.text(node, node.textContent ?? '').length : 0;
  }

  private scrolled(target: EventTarget | null): void {
    const type = (target as Node | null)?.nodeType;
    const node = type === Node.DOCUMENT_NODE || type === Node.ELEMENT_NODE ? (target as Node) : null;
    if (!node || this.ids.known(node) === undefined) return;
    if (type === Node.ELEMENT_NODE && this.masker.masksScroll(node as Element)) return;
    this.dirtyScroll.add(node);
    if (this.scrollTimer === null) this.scrollTimer = setTimeout(() => this.guard(() => this.flushScroll()), SCROLL_INTERVAL_MS);
  }

  private flushScroll(): void {
    this.scrollTimer = null;
    const batch: Mutation[] = [];
    for (const node of this.dirtyScroll) {
      const id = this.ids.known(node);
      if (id === undefined) continue;
      if (node.nodeType === Node.DOCUMENT_NODE) {
        const win = (node as Document).defaultView;
        batch.push({ k: 'scroll', id, x: win?.scrollX ?? 0, y: win?.scrollY ?? 0 });
      } else batch.push({ k: 'scroll', id, x: (node as Element).scrollLeft, y: (node as Element).scrollTop });
    }
    this.dirtyScroll.clear();
    this.sendBatch(batch);
  }

  /** Canvas frames that changed since last sent, and the clock of playing media (kept within 0.5 s). */
  private ticks = 0;

  private tick(): void {
    for (const root of this.roots) {
      const gone = 'host' in root ? !root.host.isConnected : root !== document && !root.defaultView;
      if (gone) this.roots.delete(root);
    }
    const batch = this.canvasMutations();
    for (const root of this.roots) {
      for (const el of Array.from(root.querySelectorAll('video, audio')) as HTMLMediaElement[]) {
        const id = this.ids.known(el);
        if (id !== undefined && !el.paused) batch.push({ k: 'media', id, ...mediaStateOf(el) });
      }
    }
    // Every few seconds, when the structure changed: a checksum followers verify their mirror against.
    if (!this.frame && ++this.ticks % CHECK_EVERY_TICKS === 0) {
      const pending = this.observer.takeRecords();
      if (pending.length > 0) this.flush(pending);
      // Sent even when unchanged: a follower's mirror can diverge without the host changing.
      batch.push({ k: 'check', ...structureChecksum(document, (node) => this.ids.known(node)) });
    }
    this.sendBatch(batch);
  }

  private canvasMutations(): Mutation[] {
    return this.masker.pass(() => this.canvasFramesInPass());
  }

  private canvasFramesInPass(): Mutation[] {
    const out: Mutation[] = [];
    for (const root of this.roots) {
      for (const canvas of Array.from(root.querySelectorAll('canvas')) as HTMLCanvasElement[]) {
        const id = this.ids.known(canvas);
        if (id === undefined || canvas.width === 0 || canvas.height === 0) continue;
        // What a canvas in a masked region (or a masked canvas) draws is its content: never read.
        if (this.masker.insideMaskedRegion(canvas)) continue;
        let data: string;
        try {
          data = canvas.toDataURL('image/webp', 0.7);
        } catch {
          continue; // A canvas tainted by a cross-origin image cannot be read.
        }
        if (data.length > MAX_CANVAS_FRAME || this.canvasFrames.get(canvas) === data) continue;
        this.canvasFrames.set(canvas, data);
        out.push({ k: 'canvas', id, data });
      }
    }
    return out;
  }

  /** Sends changes recorded elsewhere (a cross-origin frame's) after this page's pending ones. */
  sendChanges(batch: Mutation[]): void {
    this.sendBatch(this.masker.pass(() => this.crossFrames.filter(batch)));
  }

  /** Sends state changes after any pending DOM mutations, so that followers apply them in order. */
  private sendBatch(batch: Mutation[]): void {
    if (!this.ready || batch.length === 0) return;
    const pending = this.observer.takeRecords();
    if (pending.length > 0) this.flush(pending);
    this.send({ type: 'mutations', batch });
  }

  private flush(records: MutationRecord[]): void {
    this.guard(() => {
      // Nodes the followers have that this batch moves (or removes), and whether they went out masked.
      const moved = new Map<Node, boolean>();
      this.masker.pass(() => {
        for (const r of records)
          for (const n of Array.from(r.removedNodes)) if (!moved.has(n) && this.ids.known(n) !== undefined) moved.set(n, this.masker.sentMasked(n, r.target));
      });
      const batch = diffRecords(records, this.ctx);
      // A snapshot replaces what went out unmasked, in the mirrors and in the session's checkpoint, which late followers start from.
      if (batch.length > MAX_BATCH || this.masker.pass(() => this.maskingChanged(records, moved))) this.snapshot();
      else if (batch.length > 0) this.send({ type: 'mutations', batch });
    });
  }

  /**
   * True when content the followers have as it was sent is masked now, or the other way round: an
   * attribute change made an element match a configured selector (or stop matching), or a node
   * moved from outside a masked region into one.
   */
  private maskingChanged(records: readonly MutationRecord[], moved: ReadonlyMap<Node, boolean>): boolean {
    const changed = new Set<Element>();
    for (const r of records) {
      if (r.type === 'attributes' && r.target.isConnected) changed.add(r.target as Element);
      if (r.type !== 'childList') continue;
      for (const n of Array.from(r.addedNodes)) if (moved.get(n) === false && n.isConnected && this.masker.insideMaskedRegion(n)) return true;
    }
    return this.masker.regionsChanged([...changed], (el) => this.ids.known(el) !== undefined);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.debug('[cobrowse]', err);
    }
  }
}
