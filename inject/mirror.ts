// Follower mode: rebuilds the host's DOM inside a sandboxed, script-free iframe and applies diffs.

import { type FormState, type Mutation, OWN_NODE_MARKER, type ScrollPos, type SerializedNode, type Viewport } from '../protocol/messages.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MATH_NS = 'http://www.w3.org/1998/Math/MathML';
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster']);

/** Style the mirror adds: noscript content stays hidden, as in the host's script-enabled page. */
const MIRROR_STYLE = 'noscript{display:none!important}';

/** False for attributes a mirror must never carry (event handlers, script URLs, refreshes). */
export function isSafeAttribute(tag: string, name: string, value: string): boolean {
  const lower = name.toLowerCase();
  if (lower.startsWith('on')) return false;
  if (lower === 'srcdoc') return false;
  if (tag === 'meta' && lower === 'http-equiv') return false;
  if (URL_ATTRS.has(lower) && /^\s*(javascript|vbscript):/i.test(value)) return false;
  return true;
}

/** Thrown when a diff refers to a node the mirror does not have (the follower must resync). */
export class MirrorDivergence extends Error {}

/** The mirror of the host's document inside one iframe. */
export class Mirror {
  private readonly nodes = new Map<number, Node>();
  private readonly idOf = new WeakMap<Node, number>();

  /** The host's window size, which the mirror frame is laid out at. */
  viewport: Viewport = { w: 1024, h: 768 };
  /** Scroll offsets applied from the host, per node id, to tell them from the follower's own scrolling. */
  readonly appliedScroll = new Map<number, ScrollPos>();
  private pendingScroll: { id: number; pos: ScrollPos }[] = [];
  private base: HTMLBaseElement | null = null;
  /** URL of the host's page as its browser shows it. */
  url = '';

  constructor(
    private readonly frame: HTMLIFrameElement,
    private readonly onViewport: (viewport: Viewport) => void = () => {},
  ) {}

  /** The mirrored node with this id. */
  nodeById(id: number): Node | undefined {
    return this.nodes.get(id);
  }

  /** The id of a mirrored node, if it is one. */
  idOfNode(node: Node): number | undefined {
    return this.idOf.get(node);
  }

  private get doc(): Document {
    const doc = this.frame.contentDocument;
    if (!doc) throw new MirrorDivergence('mirror frame has no document');
    return doc;
  }

  /** Replaces the whole mirror with a snapshot taken at `url` in a window of `viewport`. */
  applySnapshot(tree: SerializedNode, url: string, viewport: Viewport): void {
    const doc = this.doc;
    this.nodes.clear();
    this.appliedScroll.clear();
    this.pendingScroll = [];
    this.setViewport(viewport);
    this.url = url;
    while (doc.firstChild) doc.removeChild(doc.firstChild);
    if (tree.t !== 'doc') throw new MirrorDivergence('snapshot does not start at a document');
    this.nodes.set(tree.id, doc);
    this.idOf.set(doc, tree.id);
    for (const child of tree.c) {
      const built = this.build(child, doc);
      if (built) doc.appendChild(built);
    }
    const head = doc.head ?? doc.documentElement?.insertBefore(doc.createElement('head'), doc.documentElement.firstChild);
    if (head) {
      const base = doc.createElement('base');
      base.setAttribute('href', url);
      this.base = base;
      base.setAttribute(OWN_NODE_MARKER, '');
      const style = doc.createElement('style');
      style.textContent = MIRROR_STYLE;
      style.setAttribute(OWN_NODE_MARKER, '');
      head.insertBefore(style, head.firstChild);
      head.insertBefore(base, head.firstChild);
    }
    this.restoreScroll();
  }

  private setViewport(viewport: Viewport): void {
    this.viewport = viewport;
    this.onViewport(viewport);
  }

  /** Applies one batch of mutations; throws MirrorDivergence when an id is unknown. */
  applyMutations(batch: readonly Mutation[]): void {
    for (const m of batch) this.apply(m);
    this.restoreScroll();
  }

  /** Scroll offsets are applied after the batch's DOM changes, when the content is there to scroll. */
  private restoreScroll(): void {
    const pending = this.pendingScroll;
    this.pendingScroll = [];
    for (const { id, pos } of pending) {
      const node = this.nodes.get(id);
      if (!node) continue;
      this.appliedScroll.set(id, pos);
      if (node.nodeType === Node.DOCUMENT_NODE) this.frame.contentWindow?.scrollTo(pos.x, pos.y);
      else (node as Element).scrollTo?.(pos.x, pos.y);
    }
  }

  /** The number of nodes the mirror tracks (for tests and diagnostics). */
  get size(): number {
    return this.nodes.size;
  }

  private node(id: number): Node {
    const n = this.nodes.get(id);
    if (!n) throw new MirrorDivergence(`unknown node ${id}`);
    return n;
  }

  private apply(m: Mutation): void {
    switch (m.k) {
      case 'add': {
        const parent = this.node(m.parent);
        const before = m.before === null ? null : this.node(m.before);
        const built = this.build(m.node, this.doc);
        if (built) parent.insertBefore(built, before);
        return;
      }
      case 'remove': {
        const n = this.nodes.get(m.id);
        if (!n) return;
        n.parentNode?.removeChild(n);
        this.forget(n);
        return;
      }
      case 'attr': {
        const el = this.node(m.id) as Element;
        if (m.value === null) el.removeAttribute(m.name);
        else if (isSafeAttribute(el.localName, m.name, m.value)) setAttr(el, m.name, m.value);
        return;
      }
      case 'text':
        this.node(m.id).textContent = m.v;
        return;
      case 'value':
        applyFormState(this.node(m.id), m);
        return;
      case 'scroll':
        this.node(m.id);
        this.pendingScroll.push({ id: m.id, pos: { x: m.x, y: m.y } });
        return;
      case 'viewport':
        this.setViewport({ w: m.w, h: m.h });
        return;
      case 'location':
        this.url = m.url;
        this.base?.setAttribute('href', m.url);
        return;
      default: {
        const unknown: never = m;
        throw new MirrorDivergence(`unknown mutation ${JSON.stringify(unknown)}`);
      }
    }
  }

  private forget(n: Node): void {
    const id = this.idOf.get(n);
    if (id !== undefined && this.nodes.get(id) === n) this.nodes.delete(id);
    for (let c = n.firstChild; c; c = c.nextSibling) this.forget(c);
  }

  private build(s: SerializedNode, doc: Document): Node | null {
    let node: Node;
    switch (s.t) {
      case 'doc':
        return null;
      case 'dt':
        node = doc.implementation.createDocumentType(s.name || 'html', s.pub, s.sys);
        break;
      case 'txt':
        node = doc.createTextNode(s.v);
        break;
      case 'cm':
        node = doc.createComment(s.v);
        break;
      case 'el': {
        const ns = s.ns === 'svg' ? SVG_NS : s.ns === 'math' ? MATH_NS : null;
        const el = ns ? doc.createElementNS(ns, s.tag) : doc.createElement(s.tag);
        for (const [name, value] of Object.entries(s.a)) {
          if (isSafeAttribute(s.tag, name, value)) setAttr(el, name, value);
        }
        for (const child of s.c) {
          const built = this.build(child, doc);
          if (built) el.appendChild(built);
        }
        if (s.f) applyFormState(el, s.f);
        if (s.sc) this.pendingScroll.push({ id: s.id, pos: s.sc });
        node = el;
        break;
      }
      default: {
        const unknown: never = s;
        throw new MirrorDivergence(`unknown node ${JSON.stringify(unknown)}`);
      }
    }
    this.nodes.set(s.id, node);
    this.idOf.set(node, s.id);
    return node;
  }
}

function applyFormState(node: Node, state: FormState): void {
  const el = node as HTMLInputElement;
  if (state.checked !== undefined && 'checked' in el) el.checked = state.checked;
  if (state.value !== undefined && 'value' in el && el.value !== state.value) el.value = state.value;
}

function setAttr(el: Element, name: string, value: string): void {
  try {
    if (name.startsWith('xlink:')) el.setAttributeNS('http://www.w3.org/1999/xlink', name, value);
    else el.setAttribute(name, value);
  } catch {
    // A name the DOM refuses (the host's parser allowed it); the mirror goes on without it.
  }
}
