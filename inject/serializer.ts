// Turns the host's DOM into wire nodes with stable ids (the same node keeps its id while it lives).

import { type FormState, OWN_NODE_MARKER, type SerializedNode } from '../protocol/messages.js';
import type { Masker } from './masking.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MATH_NS = 'http://www.w3.org/1998/Math/MathML';

/** Assigns and remembers node ids for one page. */
export class NodeIds {
  private next = 1;
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

/** Live state of a form control, masked; undefined for elements that are not controls. */
export function formStateOf(el: Element, masker: Masker): FormState | undefined {
  switch (el.localName) {
    case 'input': {
      const input = el as HTMLInputElement;
      if (input.type === 'checkbox' || input.type === 'radio') return { checked: input.checked };
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

/** Serializes `node` and its subtree; returns null for nodes that are not mirrored. */
export function serializeNode(node: Node, ids: NodeIds, masker: Masker): SerializedNode | null {
  if (isOwnNode(node)) return null;
  switch (node.nodeType) {
    case Node.DOCUMENT_NODE:
      return { t: 'doc', id: ids.idOf(node), c: serializeChildren(node, ids, masker) };
    case Node.DOCUMENT_TYPE_NODE: {
      const dt = node as DocumentType;
      return { t: 'dt', id: ids.idOf(node), name: dt.name, pub: dt.publicId, sys: dt.systemId };
    }
    case Node.ELEMENT_NODE: {
      const el = node as Element;
      const a: Record<string, string> = {};
      for (const attr of Array.from(el.attributes)) a[attr.name] = masker.attribute(el, attr.name, attr.value);
      const ns = el.namespaceURI === SVG_NS ? 'svg' : el.namespaceURI === MATH_NS ? 'math' : undefined;
      const tag = ns ? el.tagName : el.tagName.toLowerCase();
      // Script text is never sent: followers must not run the site's code.
      const c = tag === 'script' ? [] : serializeChildren(el instanceof HTMLTemplateElement ? el.content : el, ids, masker);
      const out: SerializedNode = ns ? { t: 'el', id: ids.idOf(node), tag, ns, a, c } : { t: 'el', id: ids.idOf(node), tag, a, c };
      const f = formStateOf(el, masker);
      if (f) out.f = f;
      if (el.scrollTop !== 0 || el.scrollLeft !== 0) out.sc = { x: el.scrollLeft, y: el.scrollTop };
      return out;
    }
    case Node.TEXT_NODE:
    case Node.CDATA_SECTION_NODE:
      return { t: 'txt', id: ids.idOf(node), v: masker.text(node, node.textContent ?? '') };
    case Node.COMMENT_NODE:
      return { t: 'cm', id: ids.idOf(node), v: node.textContent ?? '' };
    default:
      return null;
  }
}

function serializeChildren(parent: Node, ids: NodeIds, masker: Masker): SerializedNode[] {
  const out: SerializedNode[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    const s = serializeNode(child, ids, masker);
    if (s) out.push(s);
  }
  return out;
}
