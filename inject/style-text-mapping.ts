// The text of <style> elements (HTML and SVG) as script writes it: textContent, innerText and
// innerHTML of the element, text nodes put into it (appendChild, insertBefore, replaceChild,
// moveBefore, append, prepend, before, after, replaceWith, replaceChildren, insertAdjacentText,
// Range.insertNode) or taken out of it (removeChild, remove, or inserted elsewhere), and text
// nodes in it changed in place (data, nodeValue, textContent, appendData, insertData,
// replaceData). Chromium parses a style element's text as soon as it changes and starts its
// @import loads then, so a text node is mapped before it goes in. The style's whole text is then
// mapped again from what the site wrote into each node, so that a URL split over several text
// nodes is mapped as one, and the result is written back into the same nodes.

import { cssUrlEdits, mapCssUrls, mapSafely } from './css-mapping.js';
import { report } from './report.js';

type MapUrl = (url: string) => string;

function isStyle(node: Node | null | undefined): node is HTMLStyleElement | SVGStyleElement {
  return node instanceof HTMLStyleElement || node instanceof SVGStyleElement;
}

/** True for a text node whose parent is a style element. */
function isStyleText(node: unknown): node is CharacterData {
  return node instanceof CharacterData && !(node instanceof Comment) && isStyle(node.parentNode);
}

function accessor(proto: object, prop: string): { get: () => unknown; set: (v: unknown) => void } | null {
  const desc = Object.getOwnPropertyDescriptor(proto, prop);
  return desc?.get && desc.set ? { get: desc.get, set: desc.set } : null;
}

/** Installs the mapping on every way script writes the text of a style element. */
export function installStyleTextMapping(map: MapUrl): void {
  const mapCss = (css: string) => mapSafely(css, (text) => mapCssUrls(text, map));
  const data = accessor(CharacterData.prototype, 'data');
  const textContent = accessor(Node.prototype, 'textContent');
  if (!data || !textContent) return;
  const getData = (node: CharacterData) => data.get.call(node) as string;
  const setData = (node: CharacterData, value: string) => data.set.call(node, value);
  const insertBefore = Node.prototype.insertBefore;

  /** What the site wrote into a text node of a style element, and what the runtime wrote instead. */
  const written = new WeakMap<CharacterData, { original: string; mapped: string }>();
  /** The site's text of `node`: its own data unless the runtime changed it since. */
  const originalOf = (node: CharacterData): string => {
    const entry = written.get(node);
    const now = getData(node);
    return entry && entry.mapped === now ? entry.original : now;
  };
  /** Writes the site's `original` text into `node`, mapped on its own (the whole style's text is mapped after). */
  const write = (node: CharacterData, original: string): void => {
    const mapped = mapCss(original);
    if (mapped !== getData(node)) setData(node, mapped);
    written.set(node, { original, mapped });
  };

  /** Maps the text nodes of `node` before they go into a style element; what they held before goes to `undo`. */
  const prepare = (node: unknown, undo: [CharacterData, string][]): void => {
    try {
      if (node instanceof Text) {
        undo.push([node, getData(node)]);
        write(node, originalOf(node));
      } else if (node instanceof DocumentFragment) for (const child of Array.from(node.childNodes)) prepare(child, undo);
    } catch {
      // An argument the native method will refuse: it throws its own error.
    }
  };

  /**
   * Maps the site's whole text of `style` and writes it back into its text nodes: a mapped URL goes
   * into the node its original starts in, and the rest of the original is taken out of the next ones.
   */
  const remap = (style: Node | null | undefined): void => {
    if (!isStyle(style)) return;
    try {
      const nodes: CharacterData[] = [];
      for (let c = style.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === Node.TEXT_NODE || c.nodeType === Node.CDATA_SECTION_NODE) nodes.push(c as CharacterData);
      }
      const originals = nodes.map(originalOf);
      const whole = originals.join('');
      const edits = cssUrlEdits(whole, map);
      let start = 0;
      let e = 0;
      nodes.forEach((node, i) => {
        const end = start + (originals[i]?.length ?? 0);
        let out = '';
        let pos = start;
        for (let edit = edits[e]; edit && edit.from < end; edit = edits[e]) {
          if (edit.from >= start) out += whole.slice(pos, edit.from) + edit.text;
          if (edit.to > end) {
            pos = end;
            break;
          }
          pos = Math.max(pos, edit.to);
          e++;
        }
        out += whole.slice(pos, end);
        if (getData(node) !== out) setData(node, out);
        written.set(node, { original: originals[i] ?? '', mapped: out });
        start = end;
      });
    } catch (err) {
      report(err);
    }
  };

  /** Style elements the text nodes among `nodes` are in now (they leave them when inserted elsewhere). */
  const stylesOf = (nodes: unknown[]): Node[] => {
    const out: Node[] = [];
    for (const n of nodes) if (isStyleText(n) && n.parentNode) out.push(n.parentNode);
    return out;
  };

  const wrap = <T>(proto: T, name: string, parentOf: (self: Node) => Node | null, how: 'nodes' | 'first'): void => {
    const original = (proto as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    (proto as Record<string, unknown>)[name] = function (this: Node, ...args: unknown[]) {
      const call = (list: unknown[]) => (original as (...a: unknown[]) => unknown).apply(this, list);
      const target = parentOf(this);
      const incoming = how === 'first' ? args.slice(0, 1) : args;
      const left = stylesOf(incoming);
      if (!isStyle(target) && left.length === 0) return call(args);
      let list = args;
      const undo: [CharacterData, string][] = [];
      if (isStyle(target)) {
        // Strings become text nodes of the style's document, so that what the site wrote is known.
        if (how === 'nodes') list = args.map((arg) => (typeof arg === 'string' ? (target.ownerDocument ?? document).createTextNode(arg) : arg));
        for (const arg of how === 'first' ? list.slice(0, 1) : list) prepare(arg, undo);
      }
      let result: unknown;
      try {
        result = call(list);
      } catch (err) {
        // Refused (a move across documents, a node that cannot go there): the nodes keep their text.
        for (const [node, text] of undo) if (node.parentNode !== target) setData(node, text);
        throw err;
      }
      remap(target);
      for (const style of left) if (style !== target) remap(style);
      return result;
    };
  };
  const self = (n: Node) => n;
  const parent = (n: Node) => n.parentNode;
  for (const name of ['appendChild', 'insertBefore', 'replaceChild']) wrap(Node.prototype, name, self, 'first');
  // moveBefore (Chromium 133+) moves a node within its document without removing it first.
  for (const proto of [Element.prototype, Document.prototype, DocumentFragment.prototype]) wrap(proto, 'moveBefore', self, 'first');
  for (const name of ['append', 'prepend', 'replaceChildren']) wrap(Element.prototype, name, self, 'nodes');
  for (const proto of [Element.prototype, CharacterData.prototype]) {
    for (const name of ['before', 'after', 'replaceWith']) wrap(proto, name, parent, 'nodes');
  }
  const removeChild = Node.prototype.removeChild;
  Node.prototype.removeChild = function <N extends Node>(this: Node, child: N): N {
    const result = removeChild.call(this, child) as N;
    if (isStyle(this)) remap(this);
    return result;
  };
  const remove = CharacterData.prototype.remove;
  CharacterData.prototype.remove = function (this: CharacterData) {
    const from = isStyleText(this) ? this.parentNode : null;
    remove.call(this);
    remap(from);
  };
  const insertNode = Range.prototype.insertNode;
  Range.prototype.insertNode = function (this: Range, node: Node) {
    const start = this.startContainer;
    const target = start instanceof CharacterData ? start.parentNode : start;
    const left = stylesOf([node]);
    if (isStyle(target)) prepare(node, []);
    insertNode.call(this, node);
    remap(target);
    for (const style of left) if (style !== target) remap(style);
  };
  const insertAdjacentText = Element.prototype.insertAdjacentText;
  Element.prototype.insertAdjacentText = function (this: Element, where: InsertPosition, text: string) {
    const position = String(where).toLowerCase();
    const inside = position === 'afterbegin' || position === 'beforeend';
    const target = inside ? this : this.parentNode;
    if (!isStyle(target) || !/^(beforebegin|afterbegin|beforeend|afterend)$/.test(position)) return insertAdjacentText.call(this, where, text);
    const node = (this.ownerDocument ?? document).createTextNode('');
    write(node, String(text));
    const before = position === 'afterbegin' ? this.firstChild : position === 'beforeend' ? null : position === 'beforebegin' ? this : this.nextSibling;
    insertBefore.call(target, node, before);
    remap(target);
  };

  // The element's own text, and text nodes in it changed in place.
  const wrapSetter = (proto: object, prop: string, applies: (self: Node) => boolean): void => {
    const desc = accessor(proto, prop);
    if (!desc) return;
    Object.defineProperty(proto, prop, {
      configurable: true,
      enumerable: true,
      get: desc.get,
      set(this: Node, value: unknown) {
        if (value === null || value === undefined || !applies(this)) return desc.set.call(this, value);
        const text = String(value);
        if (isStyle(this)) {
          desc.set.call(this, mapCss(text));
          const only = this.firstChild;
          if (only instanceof Text && only === this.lastChild) written.set(only, { original: text, mapped: getData(only) });
          return;
        }
        write(this as CharacterData, text);
        remap(this.parentNode);
      },
    });
  };
  wrapSetter(Node.prototype, 'textContent', (n) => isStyle(n) || isStyleText(n));
  wrapSetter(Node.prototype, 'nodeValue', isStyleText);
  wrapSetter(CharacterData.prototype, 'data', isStyleText);
  wrapSetter(HTMLElement.prototype, 'innerText', isStyle);
  // A style element's markup is its text: innerHTML parses it as one text node (raw text).
  const innerHTML = accessor(Element.prototype, 'innerHTML');
  if (innerHTML) {
    Object.defineProperty(HTMLStyleElement.prototype, 'innerHTML', {
      configurable: true,
      enumerable: true,
      get: innerHTML.get,
      set(this: HTMLStyleElement, value: unknown) {
        if (typeof value !== 'string') return innerHTML.set.call(this, value);
        textContent.set.call(this, mapCss(value));
        const only = this.firstChild;
        if (only instanceof Text) written.set(only, { original: value, mapped: getData(only) });
      },
    });
  }
  for (const name of ['appendData', 'insertData', 'replaceData'] as const) {
    const original = CharacterData.prototype[name] as (...a: unknown[]) => void;
    CharacterData.prototype[name] = function (this: CharacterData, ...args: unknown[]) {
      if (!isStyleText(this)) return original.apply(this, args);
      // The edit is made on a copy first (with its own errors for bad offsets): appended text
      // follows what the site wrote; offsets count in the text as the site reads it now.
      const copy = new Text(name === 'appendData' ? originalOf(this) : getData(this));
      original.apply(copy, args);
      write(this, getData(copy));
      remap(this.parentNode);
    } as never;
  }
}
