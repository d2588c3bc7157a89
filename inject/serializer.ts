// Turns the host's DOM into wire nodes with stable ids (the same node keeps its id while it lives).

import { type FormState, type MediaState, OWN_NODE_MARKER, type SerializedNode } from '../protocol/messages.js';
import type { Masker } from './masking.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MATH_NS = 'http://www.w3.org/1998/Math/MathML';

/** Assigns and remembers node ids for one page. */
export class NodeIds {
  private next: number;

  /** Ids start at `first`: a cross-origin frame's recorder gets a range of its own. */
  constructor(first = 1) {
    this.next = first;
  }

  private readonly ids = new WeakMap<Node, number>();
  private readonly nodes = new Map<number, WeakRef<Node>>();

  /** The node's id, assigning a new one when it has none. */
  idOf(node: Node): number {
    let id = this.ids.get(node);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(node, id);
    }
    this.nodes.set(id, new WeakRef(node));
    return id;
  }

  /** The live node with this id, if it still exists. */
  node(id: number): Node | undefined {
    return this.nodes.get(id)?.deref();
  }

  /** The node's id if it was ever serialized. */
  known(node: Node): number | undefined {
    return this.ids.get(node);
  }
}

/** True for nodes that belong to the gateway itself and are never mirrored. */
export function isOwnNode(node: Node): boolean {
  return node.nodeType === Node.ELEMENT_NODE && (node as Element).hasAttribute(OWN_NODE_MARKER);
}

/** What serialization needs besides the node: ids, masking, and hooks for new roots. */
export interface SerializeContext {
  ids: NodeIds;
  masker: Masker;
  /** Called for every shadow root and same-origin iframe document met, so it can be observed. */
  observeRoot(root: Document | ShadowRoot, frame?: HTMLIFrameElement): void;
  /** Style sheets changed through the CSSOM since they were parsed. */
  cssChanged: WeakSet<CSSStyleSheet>;
  /** Called for every control whose form state is serialized (its state travels with it). */
  formStateSerialized?(el: Element): void;
}

/** Live state of a form control, masked; undefined for elements that are not controls. */
export function formStateOf(el: Element, masker: Masker): FormState | undefined {
  switch (el.localName) {
    case 'input': {
      const input = el as HTMLInputElement;
      // Which box is ticked in a masked region is its content too.
      if (input.type === 'checkbox' || input.type === 'radio') return { checked: input.checked && !masker.masksControl(el) };
      if (input.type === 'file') return undefined;
      return { value: masker.controlValue(el, input.value) };
    }
    case 'textarea':
      return { value: masker.controlValue(el, (el as HTMLTextAreaElement).value) };
    case 'select':
      return { value: masker.controlValue(el, (el as HTMLSelectElement).value) };
    default:
      return undefined;
  }
}

/** Playback state of a <video> or <audio>. */
export function mediaStateOf(el: HTMLMediaElement): MediaState {
  return { paused: el.paused, time: el.currentTime || 0, rate: el.playbackRate, volume: el.volume, muted: el.muted };
}

/** The rules of a style sheet as text; null when the browser will not tell (cross-origin sheet). */
export function sheetText(sheet: CSSStyleSheet): string | null {
  try {
    return Array.from(sheet.cssRules, (r) => r.cssText).join('\n');
  } catch {
    return null;
  }
}

/** The texts of a document's or shadow root's adopted style sheets, masked with the root. */
export function adoptedTexts(root: Document | ShadowRoot, masker: Masker): string[] {
  const sheets = root.adoptedStyleSheets ?? [];
  return sheets.map((s) => masker.css(root, sheetText(s) ?? ''));
}

/** The same-origin document inside an iframe, or null. */
export function frameDocument(el: HTMLIFrameElement): Document | null {
  try {
    const doc = el.contentDocument;
    return doc?.documentElement ? doc : null;
  } catch {
    return null;
  }
}

/** Serializes `node` and its subtree; returns null for nodes that are not mirrored. */
export function serializeNode(node: Node, ctx: SerializeContext): SerializedNode | null {
  return ctx.masker.pass(() => serializeTree(node, ctx));
}

function serializeTree(node: Node, ctx: SerializeContext): SerializedNode | null {
  if (isOwnNode(node)) return null;
  const { ids, masker } = ctx;
  switch (node.nodeType) {
    case Node.DOCUMENT_NODE: {
      const doc = node as Document;
      const out: SerializedNode = { t: 'doc', id: ids.idOf(node), c: serializeChildren(node, ctx) };
      const adopted = adoptedTexts(doc, masker);
      if (adopted.length > 0) out.as = adopted;
      return out;
    }
    case Node.DOCUMENT_FRAGMENT_NODE: {
      const root = node as ShadowRoot;
      if (!('host' in root)) return null;
      ctx.observeRoot(root);
      const out: SerializedNode = { t: 'sr', id: ids.idOf(node), c: serializeChildren(node, ctx) };
      const adopted = adoptedTexts(root, masker);
      if (adopted.length > 0) out.as = adopted;
      return out;
    }
    case Node.DOCUMENT_TYPE_NODE: {
      const dt = node as DocumentType;
      return { t: 'dt', id: ids.idOf(node), name: dt.name, pub: dt.publicId, sys: dt.systemId };
    }
    case Node.ELEMENT_NODE: {
      const el = node as Element;
      masker.serialized(el);
      const a: Record<string, string> = {};
      for (const attr of Array.from(el.attributes)) {
        const value = masker.attribute(el, attr.name, attr.value);
        if (value !== null) a[attr.name] = value;
      }
      const ns = el.namespaceURI === SVG_NS ? 'svg' : el.namespaceURI === MATH_NS ? 'math' : undefined;
      const tag = ns ? el.tagName : el.tagName.toLowerCase();
      // Script text is never sent: followers must not run the site's code.
      const c = tag === 'script' ? [] : serializeChildren(el.localName === 'template' ? masker.templateContent(el as HTMLTemplateElement) : el, ctx);
      const out: SerializedNode = ns ? { t: 'el', id: ids.idOf(node), tag, ns, a, c } : { t: 'el', id: ids.idOf(node), tag, a, c };
      const f = formStateOf(el, masker);
      if (f) {
        out.f = f;
        ctx.formStateSerialized?.(el);
      }
      if ((el.scrollTop !== 0 || el.scrollLeft !== 0) && !masker.masksScroll(el)) out.sc = { x: el.scrollLeft, y: el.scrollTop };
      if (el.shadowRoot) {
        const sr = serializeTree(el.shadowRoot, ctx);
        if (sr) out.sr = sr;
      }
      if (el.localName === 'iframe') {
        const doc = frameDocument(el as HTMLIFrameElement);
        if (doc) {
          ctx.observeRoot(doc, el as HTMLIFrameElement);
          const cd = serializeTree(doc, ctx);
          if (cd) out.cd = cd;
        } else {
          ctx.observeRoot(el.ownerDocument, el as HTMLIFrameElement);
        }
      }
      if (el.localName === 'style') {
        const sheet = (el as HTMLStyleElement).sheet;
        if (sheet && ctx.cssChanged.has(sheet)) {
          const text = sheetText(sheet);
          if (text !== null) out.css = masker.css(el, text);
        }
      }
      if (el.localName === 'video' || el.localName === 'audio') out.m = mediaStateOf(el as HTMLMediaElement);
      return out;
    }
    case Node.TEXT_NODE:
    case Node.CDATA_SECTION_NODE:
      return { t: 'txt', id: ids.idOf(node), v: masker.text(node, node.textContent ?? '') };
    case Node.COMMENT_NODE:
      return { t: 'cm', id: ids.idOf(node), v: masker.text(node, node.textContent ?? '') };
    default:
      return null;
  }
}

function serializeChildren(parent: Node, ctx: SerializeContext): SerializedNode[] {
  const out: SerializedNode[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    const s = serializeTree(child, ctx);
    if (s) out.push(s);
  }
  return out;
}
