// Live mode, in the host's page: a snapshot when the DOM is ready, then mutation batches.

import { type ClientMessage, MAX_BATCH, type Mutation } from '../protocol/messages.js';
import type { Masker } from './masking.js';
import { formStateOf, isOwnNode, NodeIds, serializeNode } from './serializer.js';

type Send = (message: ClientMessage) => void;

function isInsideScript(node: Node): boolean {
  const parent = node.parentNode;
  return parent !== null && parent.nodeType === Node.ELEMENT_NODE && (parent as Element).localName === 'script';
}

function hasAncestorIn(node: Node, set: ReadonlySet<Node>): boolean {
  for (let p = node.parentNode; p; p = p.parentNode) if (set.has(p)) return true;
  return false;
}

function nextMirroredSibling(node: Node, ids: NodeIds): number | null {
  for (let s = node.nextSibling; s; s = s.nextSibling) {
    if (isOwnNode(s)) continue;
    const id = ids.known(s);
    if (id !== undefined) return id;
  }
  return null;
}

/** Turns a list of MutationRecords into wire mutations against the ids the followers know. */
export function diffRecords(records: readonly MutationRecord[], ids: NodeIds, masker: Masker): Mutation[] {
  const added = new Set<Node>();
  const removed: Node[] = [];
  const attrs = new Map<Element, Set<string>>();
  const texts = new Set<Node>();
  for (const r of records) {
    if (r.type === 'childList') {
      for (const n of Array.from(r.removedNodes)) {
        added.delete(n);
        if (ids.known(n) !== undefined) removed.push(n);
      }
      for (const n of Array.from(r.addedNodes)) added.add(n);
    } else if (r.type === 'attributes' && r.attributeName) {
      const el = r.target as Element;
      let names = attrs.get(el);
      if (!names) attrs.set(el, (names = new Set()));
      names.add(r.attributeName);
    } else if (r.type === 'characterData') {
      texts.add(r.target);
    }
  }

  const batch: Mutation[] = [];
  const seenRemoved = new Set<number>();
  for (const n of removed) {
    const id = ids.known(n);
    if (id === undefined || seenRemoved.has(id)) continue;
    seenRemoved.add(id);
    batch.push({ k: 'remove', id });
  }

  const top = [...added].filter((n) => n.isConnected && n.ownerDocument === document && !isOwnNode(n) && !isInsideScript(n) && !hasAncestorIn(n, added));
  top.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  // Last first: each node's next sibling is then already known to the followers.
  for (let i = top.length - 1; i >= 0; i--) {
    const n = top[i]!;
    const parent = n.parentNode;
    const parentId = parent ? ids.known(parent) : undefined;
    if (parentId === undefined) continue;
    const before = nextMirroredSibling(n, ids);
    const node = serializeNode(n, ids, masker);
    if (node) batch.push({ k: 'add', parent: parentId, before, node });
  }

  const inAdded = (n: Node) => added.has(n) || hasAncestorIn(n, added);
  for (const [el, names] of attrs) {
    const id = ids.known(el);
    if (id === undefined || !el.isConnected || inAdded(el)) continue;
    for (const name of names) {
      const value = el.getAttribute(name);
      batch.push({ k: 'attr', id, name, value: value === null ? null : masker.attribute(el, name, value) });
    }
  }
  for (const n of texts) {
    const id = ids.known(n);
    if (id === undefined || !n.isConnected || inAdded(n) || isInsideScript(n)) continue;
    batch.push({ k: 'text', id, v: masker.text(n, n.textContent ?? '') });
  }
  return batch;
}

/** How often scroll positions are sent at most. */
const SCROLL_INTERVAL_MS = 50;

/** Records the host's document and sends it through `send`. */
export class Recorder {
  readonly ids = new NodeIds();
  private observer: MutationObserver | null = null;
  private ready = false;
  private readonly dirtyScroll = new Set<Node>();
  private scrollTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: Send,
    private readonly masker: Masker,
  ) {}

  /** Starts once the document is parsed; sends the first snapshot then. */
  start(): void {
    const begin = () => {
      this.ready = true;
      this.snapshot();
      this.observer = new MutationObserver((records) => this.flush(records));
      this.observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      const onValue = (ev: Event) => this.guard(() => this.valueChanged(ev.target));
      document.addEventListener('input', onValue, true);
      document.addEventListener('change', onValue, true);
      document.addEventListener('scroll', (ev) => this.guard(() => this.scrolled(ev.target)), true);
      addEventListener('resize', () => this.guard(() => this.sendBatch([{ k: 'viewport', w: innerWidth, h: innerHeight }])));
      this.watchLocation();
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', begin, { once: true });
    else begin();
  }

  /** Sends a full snapshot of the current document (on start, reconnect, or the hub's request). */
  snapshot(): void {
    if (!this.ready) return;
    this.observer?.takeRecords();
    const tree = serializeNode(document, this.ids, this.masker);
    if (!tree) return;
    this.send({ type: 'snapshot', url: location.href, title: document.title, viewport: { w: innerWidth, h: innerHeight }, tree });
    if (scrollX !== 0 || scrollY !== 0) this.sendBatch([{ k: 'scroll', id: this.ids.idOf(document), x: scrollX, y: scrollY }]);
  }

  /** Sends the current value of a control now (after a remote input changed it). */
  valueChanged(target: EventTarget | null): void {
    if (!(target instanceof Element)) return;
    const id = this.ids.known(target);
    const state = formStateOf(target, this.masker);
    if (id === undefined || !state) return;
    this.sendBatch([{ k: 'value', id, ...state }]);
  }

  /** Single-page-app route changes: history API calls, back/forward and hash changes. */
  private watchLocation(): void {
    let last = location.href;
    const check = () =>
      this.guard(() => {
        if (location.href === last) return;
        last = location.href;
        this.sendBatch([{ k: 'location', url: last }]);
      });
    for (const name of ['pushState', 'replaceState'] as const) {
      const original = history[name];
      history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
        const result = original.apply(this, args);
        check();
        return result;
      };
    }
    addEventListener('popstate', check);
    addEventListener('hashchange', check);
  }

  private scrolled(target: EventTarget | null): void {
    const node = target instanceof Document || target instanceof Element ? target : null;
    if (!node || this.ids.known(node) === undefined) return;
    this.dirtyScroll.add(node);
    if (this.scrollTimer === null) this.scrollTimer = setTimeout(() => this.guard(() => this.flushScroll()), SCROLL_INTERVAL_MS);
  }

  private flushScroll(): void {
    this.scrollTimer = null;
    const batch: Mutation[] = [];
    for (const node of this.dirtyScroll) {
      const id = this.ids.known(node);
      if (id === undefined) continue;
      if (node instanceof Document) batch.push({ k: 'scroll', id, x: scrollX, y: scrollY });
      else batch.push({ k: 'scroll', id, x: (node as Element).scrollLeft, y: (node as Element).scrollTop });
    }
    this.dirtyScroll.clear();
    this.sendBatch(batch);
  }

  /** Sends state changes after any pending DOM mutations, so that followers apply them in order. */
  private sendBatch(batch: Mutation[]): void {
    if (!this.ready || batch.length === 0) return;
    const pending = this.observer?.takeRecords() ?? [];
    if (pending.length > 0) this.flush(pending);
    this.send({ type: 'mutations', batch });
  }

  private flush(records: MutationRecord[]): void {
    this.guard(() => {
      const batch = diffRecords(records, this.ids, this.masker);
      if (batch.length > MAX_BATCH) this.snapshot();
      else if (batch.length > 0) this.send({ type: 'mutations', batch });
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      console.debug('[cobrowse]', err);
    }
  }
}
