// A structure checksum of the mirrored part of a document (node ids, types and tags of the light
// DOM, own nodes and script contents excluded), computed the same way by the host and the mirror;
// and the FNV-1a hash behind it, which text splices check their base with (text-splice.ts).

import { OWN_NODE_MARKER } from '../protocol/messages.js';

/** The 32-bit FNV-1a hash of `text`'s UTF-16 units from `from` to `to`, continuing from `hash`. */
export function fnv1a(text: string, from = 0, to = text.length, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Node count and FNV-1a hash of a document's structure as the given id lookup sees it. */
export function structureChecksum(doc: Document, idOf: (node: Node) => number | undefined): { n: number; hash: number } {
  let hash = 0x811c9dc5;
  let n = 0;
  const mix = (text: string) => {
    hash = fnv1a(text, 0, text.length, hash);
  };
  const walk = (node: Node) => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === Node.ELEMENT_NODE && (child as Element).hasAttribute(OWN_NODE_MARKER)) continue;
      const id = idOf(child);
      if (id === undefined) continue;
      n++;
      mix(`${id}:${child.nodeType}:${child.nodeType === Node.ELEMENT_NODE ? (child as Element).localName : ''}|`);
      if (child.nodeType === Node.ELEMENT_NODE && (child as Element).localName !== 'script') walk(child);
    }
  };
  walk(doc);
  return { n, hash };
}
