// Follower mode: rebuilds the host's DOM inside a sandboxed, script-free iframe and applies diffs.

import { type FormState, type Mutation, OWN_NODE_MARKER, type ScrollPos, type SerializedNode, type Viewport } from '../protocol/messages.js';
import { fnv1a, structureChecksum } from './checksum.js';
import { applyAdoptedSheets, applyCanvasFrame, applyFormState, applyMediaState, applySelection, applyStyleText } from './mirror-effects.js';
import { applyEdit, baseMatches } from './text-splice.js';

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
  // Mirrored frames are filled from the host's DOM; loading their real page would run nothing but could diverge.
  if ((tag === 'iframe' || tag === 'frame') && lower === 'src') return false;
  if (tag === 'meta' && lower === 'http-equiv') return false;
  if (URL_ATTRS.has(lower) && /^\s*(javascript|vbscript):/i.test(value)) return false;
  return true;
}

/** Thrown when a diff refers to a node the mirror does not have (the follower must resync). */
export class MirrorDivergence extends Error {}

/** The mirror of the host's document inside one iframe. */
/** How long a field keeps what this follower typed against older values from the host's page. */
const TYPED_VALUE_HOLD_MS = 1500;

/** What this follower typed into a field and sent, until the host's page reports it back. */
interface TypedValue {
  value: string;
  at: number;
  held?: ReturnType<typeof setTimeout>;
  /** Keys (valueKey) of the values sent before it that the host's page has not reported yet, oldest first. */
  earlier: string[];
}

/** A value's length and hash: tells the host's echo of an earlier value this follower sent. */
function valueKey(value: string): string {
  return `${value.length}:${fnv1a(value)}`;
}

export class Mirror {
  private readonly nodes = new Map<number, Node>();
  private readonly idOf = new WeakMap<Node, number>();

  /** The host's window size, which the mirror frame is laid out at. */
  viewport: Viewport = { w: 1024, h: 768 };
  /** Scroll offsets applied from the host, per node id, to tell them from the follower's own scrolling. */
  readonly appliedScroll = new Map<number, ScrollPos>();
  /** Values this follower typed into fields and sent, until the host's page reports them back. */
  private readonly typedValues = new Map<number, TypedValue>();
  /**
   * Per field, the value this follower and the host's page last agreed on: the host's value the
   * mirror last showed, or what this follower last sent. Its next change is a splice against it.
   */
  private readonly agreedValues = new WeakMap<Node, string>();
  /** Per field, the value the host's page last reported (shown or held back). */
  private readonly hostValues = new WeakMap<Node, string>();
  /** Where the browser put an applied scroll when the content was not tall enough for it yet (clamped). */
  private readonly reachedScroll = new Map<number, ScrollPos>();
  private pendingScroll: { id: number; pos: ScrollPos }[] = [];
  private base: HTMLBaseElement | null = null;
  /** URL of the host's page as its browser shows it. */
  url = '';

  private pendingFrames: { el: HTMLIFrameElement; doc: SerializedNode }[] = [];
  /** False while the follower scrolls on its own: the host's window scroll is then not applied. */
  followScroll = true;
  /** Id of the element focused in the host's page, or null. */
  focusedId: number | null = null;
  /**
   * The editable element a participant with control is editing in this mirror (they clicked or
   * typed there), or null. The host's selection is then shown only inside it: a selection put
   * elsewhere would take the mirror's focus there (Chromium focuses the editable that holds the
   * selection), and the participant's next keys with it, which a late echo of the host's caret
   * from before their click did.
   */
  ownSelection: Element | null = null;

  constructor(
    private readonly frame: HTMLIFrameElement,
    private readonly onViewport: (viewport: Viewport) => void = () => {},
    /** Called with each mirrored iframe's document when it is (re)built, so controls can attach to it. */
    private readonly onFrameDocument: (doc: Document) => void = () => {},
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
    for (const typed of this.typedValues.values()) clearTimeout(typed.held);
    this.typedValues.clear();
    this.reachedScroll.clear();
    this.pendingScroll = [];
    this.setViewport(viewport);
    this.url = url;
    this.pendingFrames = [];
    this.focusedId = null;
    while (doc.firstChild) doc.removeChild(doc.firstChild);
    if (tree.t !== 'doc') throw new MirrorDivergence('snapshot does not start at a document');
    this.base = this.fillDocument(doc, tree, url);
    this.fillFrames();
    this.restoreScroll();
  }

  /** Builds a serialized document into `doc` (the mirror's or a mirrored iframe's); returns its <base>. */
  private fillDocument(doc: Document, tree: SerializedNode, url: string): HTMLBaseElement | null {
    while (doc.firstChild) doc.removeChild(doc.firstChild);
    if (tree.t !== 'doc') throw new MirrorDivergence('expected a document');
    this.nodes.set(tree.id, doc);
    this.idOf.set(doc, tree.id);
    for (const child of tree.c) {
      const built = this.build(child, doc);
      if (built) doc.appendChild(built);
    }
    if (tree.as) applyAdoptedSheets(doc, tree.as);
    const head = doc.head ?? doc.documentElement?.insertBefore(doc.createElement('head'), doc.documentElement.firstChild);
    if (!head) return null;
    const base = doc.createElement('base');
    base.setAttribute('href', url);
    base.setAttribute(OWN_NODE_MARKER, '');
    const style = doc.createElement('style');
    style.textContent = MIRROR_STYLE;
    style.setAttribute(OWN_NODE_MARKER, '');
    head.insertBefore(style, head.firstChild);
    head.insertBefore(base, head.firstChild);
    return base;
  }

  /** Mirrored iframes get their documents once they are in the tree (only then do they have one). */
  private fillFrames(): void {
    const pending = this.pendingFrames;
    this.pendingFrames = [];
    for (const { el, doc } of pending) this.fillFrame(el, doc);
  }

  private fillFrame(el: HTMLIFrameElement, tree: SerializedNode | null): void {
    const doc = el.contentDocument;
    if (!doc) return;
    if (doc.documentElement) this.forget(doc);
    if (!tree) {
      while (doc.firstChild) doc.removeChild(doc.firstChild);
      return;
    }
    const hostSrc = el.getAttribute('data-cobrowse-src');
    this.fillDocument(doc, tree, hostSrc ? new URL(hostSrc, this.url).href : this.url);
    this.onFrameDocument(doc);
  }

  private setViewport(viewport: Viewport): void {
    this.viewport = viewport;
    this.onViewport(viewport);
  }

  /** Applies one batch of mutations; throws MirrorDivergence when an id is unknown. */
  applyMutations(batch: readonly Mutation[]): void {
    for (const m of batch) this.apply(m);
    this.fillFrames();
    this.restoreScroll();
  }

  /** Scroll offsets are applied after the batch's DOM changes, when the content is there to scroll. */
  private restoreScroll(): void {
    const pending = this.pendingScroll;
    this.pendingScroll = [];
    for (const { id, pos } of pending) {
      const node = this.nodes.get(id);
      if (!node) continue;
      if (!this.followScroll && node.nodeType === Node.DOCUMENT_NODE) continue;
      this.appliedScroll.set(id, pos);
      let reached: ScrollPos | null = null;
      if (node.nodeType === Node.DOCUMENT_NODE) {
        const win = (node as Document).defaultView;
        win?.scrollTo(pos.x, pos.y);
        if (win) reached = { x: win.scrollX, y: win.scrollY };
      } else {
        const el = node as Element;
        el.scrollTo?.(pos.x, pos.y);
        reached = { x: el.scrollLeft, y: el.scrollTop };
      }
      if (reached && (Math.abs(reached.x - pos.x) >= 1 || Math.abs(reached.y - pos.y) >= 1)) this.reachedScroll.set(id, reached);
      else this.reachedScroll.delete(id);
    }
  }

  /** Notes a value this follower typed into field `id` and sent to the host's page. */
  noteTypedValue(id: number, value: string): void {
    const before = this.typedValues.get(id);
    clearTimeout(before?.held);
    const earlier = before ? [...before.earlier, valueKey(before.value)].slice(-256) : [];
    this.typedValues.set(id, { value, at: performance.now(), earlier });
    const node = this.nodes.get(id);
    if (node) this.agreedValues.set(node, value);
  }

  /** The value of field `id` this follower and the host's page last agreed on, if known. */
  agreedValue(id: number): string | undefined {
    const node = this.nodes.get(id);
    return node ? this.agreedValues.get(node) : undefined;
  }

  /**
   * Shows the host's value of field `id` again (`value`, as the host's page just told, else the one
   * its stream last gave), dropping what this follower typed since: the host's page did not take it.
   */
  resyncValue(id: number, value?: string): void {
    const typed = this.typedValues.get(id);
    if (typed) clearTimeout(typed.held);
    this.typedValues.delete(id);
    const node = this.nodes.get(id);
    const shown = value ?? (node ? this.hostValues.get(node) : undefined);
    if (node && shown !== undefined) this.showValue(node, { value: shown });
  }

  /** Shows the agreed value of field `id` again (a change that was not sent). */
  restoreAgreedValue(id: number): void {
    const node = this.nodes.get(id);
    const value = node ? this.agreedValues.get(node) : undefined;
    if (node && value !== undefined) applyFormState(node, { value });
  }

  /** Applies form state the host's page reported, and takes its value as agreed. */
  private showValue(node: Node, state: FormState): void {
    applyFormState(node, state);
    if (state.value !== undefined) this.agreedValues.set(node, state.value);
  }

  /** True when (x, y) is where the host's scroll put node `id` (its echo, not the follower's own scrolling). */
  isAppliedScroll(id: number, x: number, y: number): boolean {
    const near = (p: ScrollPos | undefined) => p !== undefined && Math.abs(p.x - x) < 1 && Math.abs(p.y - y) < 1;
    return near(this.appliedScroll.get(id)) || near(this.reachedScroll.get(id));
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
      case 'value': {
        const typed = this.typedValues.get(m.id);
        const field = this.nodes.get(m.id);
        if (field && m.value !== undefined) this.hostValues.set(field, m.value);
        if (typed && m.value !== undefined) {
          // The host's page is behind this follower's typing (it reports an earlier value): applying
          // it would undo the keys typed since, and send the mix back. One this follower sent
          // itself is never shown (the later ones follow, however far behind the page is).
          const earlier = m.value === typed.value ? -1 : typed.earlier.indexOf(valueKey(m.value));
          if (earlier >= 0) {
            typed.earlier.splice(0, earlier);
            return;
          }
          if (m.value === typed.value || performance.now() - typed.at > TYPED_VALUE_HOLD_MS) {
            clearTimeout(typed.held);
            this.typedValues.delete(m.id);
          } else {
            // Should the host's page keep another value (its script changed it), it is shown once the hold is over.
            clearTimeout(typed.held);
            typed.held = setTimeout(() => {
              if (this.typedValues.get(m.id) !== typed) return;
              this.typedValues.delete(m.id);
              const node = this.nodes.get(m.id);
              if (node) this.showValue(node, m);
            }, TYPED_VALUE_HOLD_MS);
            return;
          }
        }
        this.showValue(this.node(m.id), m);
        return;
      }
      case 'splice': {
        // Against the host's value the stream last gave this field (not what this follower typed).
        const value = this.hostValues.get(this.node(m.id));
        if (value === undefined || !baseMatches(value, m)) throw new MirrorDivergence(`node ${m.id} has not the value its splice was made against`);
        this.apply({ k: 'value', id: m.id, value: applyEdit(value, m) });
        return;
      }
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
      case 'shadow': {
        const host = this.node(m.id) as Element;
        this.attachShadowRoot(host, m.root);
        return;
      }
      case 'css':
        applyStyleText(this.node(m.id), m.text);
        return;
      case 'adopted':
        applyAdoptedSheets(this.node(m.id), m.sheets);
        return;
      case 'frame':
        this.fillFrame(this.node(m.id) as HTMLIFrameElement, m.doc);
        return;
      case 'media':
        applyMediaState(this.node(m.id), m);
        return;
      case 'canvas':
        applyCanvasFrame(this.node(m.id), m.data);
        return;
      case 'focus':
        this.focusedId = m.id !== null && this.nodes.has(m.id) ? m.id : null;
        return;
      case 'check': {
        const mine = structureChecksum(this.doc, (node) => this.idOf.get(node));
        if (mine.n !== m.n || mine.hash !== m.hash) throw new MirrorDivergence(`mirror differs from the host's page (${mine.n} nodes, host ${m.n})`);
        return;
      }
      case 'selection': {
        const anchor = m.range ? this.nodes.get(m.range.a) : undefined;
        const focus = m.range ? this.nodes.get(m.range.f) : undefined;
        const doc = anchor?.ownerDocument ?? this.doc;
        const own = this.ownSelection;
        if (own?.isConnected && !(anchor && focus && own.contains(anchor) && own.contains(focus))) return;
        applySelection(doc, m.range && anchor && focus ? { anchor, ao: m.range.ao, focus, fo: m.range.fo } : null);
        return;
      }
      default: {
        const unknown: never = m;
        throw new MirrorDivergence(`unknown mutation ${JSON.stringify(unknown)}`);
      }
    }
  }

  private attachShadowRoot(host: Element, tree: SerializedNode): void {
    if (tree.t !== 'sr') return;
    let root: ShadowRoot;
    try {
      root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
    } catch {
      return; // An element that cannot host a shadow root here; its light DOM still shows.
    }
    if (host.shadowRoot) this.forget(root);
    while (root.firstChild) root.removeChild(root.firstChild);
    this.nodes.set(tree.id, root);
    this.idOf.set(root, tree.id);
    for (const child of tree.c) {
      const built = this.build(child, host.ownerDocument);
      if (built) root.appendChild(built);
    }
    if (tree.as) applyAdoptedSheets(root, tree.as);
  }

  private forget(n: Node): void {
    const id = this.idOf.get(n);
    if (id !== undefined && this.nodes.get(id) === n) this.nodes.delete(id);
    for (let c = n.firstChild; c; c = c.nextSibling) this.forget(c);
    if (n.nodeType !== Node.ELEMENT_NODE) return;
    const el = n as Element;
    if (el.shadowRoot) this.forget(el.shadowRoot);
    if (el.localName === 'iframe') {
      const inner = (el as HTMLIFrameElement).contentDocument;
      if (inner) this.forget(inner);
    }
  }

  private build(s: SerializedNode, doc: Document): Node | null {
    let node: Node;
    switch (s.t) {
      case 'doc':
      case 'sr':
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
        // A template's children live in its content fragment, as the host's parser put them.
        const into: Node = s.tag === 'template' && 'content' in el ? (el as HTMLTemplateElement).content : el;
        for (const child of s.c) {
          const built = this.build(child, doc);
          if (built) into.appendChild(built);
        }
        if (s.f) {
          if (s.f.value !== undefined) this.hostValues.set(el, s.f.value);
          this.showValue(el, s.f);
        }
        if (s.sc) this.pendingScroll.push({ id: s.id, pos: s.sc });
        if (s.sr) this.attachShadowRoot(el, s.sr);
        if (s.css !== undefined) applyStyleText(el, s.css);
        if (s.m) applyMediaState(el, s.m);
        if (s.tag === 'iframe') {
          const src = s.a.src;
          if (src) el.setAttribute('data-cobrowse-src', src);
          if (s.cd) this.pendingFrames.push({ el: el as HTMLIFrameElement, doc: s.cd });
        }
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

function setAttr(el: Element, name: string, value: string): void {
  try {
    if (name.startsWith('xlink:')) el.setAttributeNS('http://www.w3.org/1999/xlink', name, value);
    else el.setAttribute(name, value);
  } catch {
    // A name the DOM refuses (the host's parser allowed it); the mirror goes on without it.
  }
}
