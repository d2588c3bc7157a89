// Mutation records of the host's DOM turned into wire mutations against known node ids.

import type { Mutation } from '../protocol/messages.js';
import { isOwnNode, type NodeIds, type SerializeContext, serializeNode } from './serializer.js';

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
export function diffRecords(records: readonly MutationRecord[], ctx: SerializeContext): Mutation[] {
  return ctx.masker.pass(() => diffInPass(records, ctx));
}

function diffInPass(records: readonly MutationRecord[], ctx: SerializeContext): Mutation[] {
  const { ids, masker } = ctx;
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

  const top = [...added].filter((n) => n.isConnected && !isOwnNode(n) && !isInsideScript(n) && !hasAncestorIn(n, added));
  top.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  // Last first: each node's next sibling is then already known to the followers.
  for (let i = top.length - 1; i >= 0; i--) {
    const n = top[i]!;
    const parent = n.parentNode;
    const parentId = parent ? ids.known(parent) : undefined;
    if (parentId === undefined) continue;
    const before = nextMirroredSibling(n, ids);
    const node = serializeNode(n, ctx);
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
