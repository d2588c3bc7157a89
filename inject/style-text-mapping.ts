// The text of <style> elements (HTML and SVG) as script writes it: textContent and innerText of
// the element, text nodes put into it (appendChild, insertBefore, replaceChild, append, prepend,
// before, after, replaceWith, replaceChildren, insertAdjacentText, Range.insertNode) and text
// nodes in it changed in place (data, nodeValue, textContent, appendData, insertData,
// replaceData). Chromium parses a style element's text as soon as it changes and starts its
// @import loads then, so the text is mapped before the change, not after it.

import { mapCssUrls, mapSafely } from './css-mapping.js';

type MapUrl = (url: string) => string;

function isStyle(node: Node | null | undefined): boolean {
  return node instanceof HTMLStyleElement || node instanceof SVGStyleElement;
}

/** True for a text node whose parent is a style element. */
function isStyleText(node: Node): node is CharacterData {
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
  const setData = data.set;

  /** Maps the text of `node` (a text node, or the text nodes of a fragment) about to go into a style element. */
  const mapIncoming = (node: unknown): void => {
    try {
      if (node instanceof Text) setData.call(node, mapCss(node.data));
      else if (node instanceof DocumentFragment) for (const child of Array.from(node.childNodes)) mapIncoming(child);
    } catch {
      // An argument the native method will refuse: it throws its own error.
    }
  };
  const mapArgs = (args: unknown[]): unknown[] =>
    args.map((arg) => {
      if (typeof arg === 'string') return mapCss(arg);
      mapIncoming(arg);
      return arg;
    });
  /** A URL split over several text nodes is mapped in the joined text, once it is whole. */
  const mapJoined = (parent: Node | null | undefined): void => {
    try {
      if (!parent || !isStyle(parent)) return;
      const text = textContent.get.call(parent) as string;
      const mapped = mapCss(text);
      if (mapped !== text) textContent.set.call(parent, mapped);
    } catch {
      // Nothing to map.
    }
  };

  const wrap = <T>(proto: T, name: string, parentOf: (self: Node) => Node | null, how: 'nodes' | 'first'): void => {
    const original = (proto as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    (proto as Record<string, unknown>)[name] = function (this: Node, ...args: unknown[]) {
      const parent = parentOf(this);
      if (!isStyle(parent)) return (original as (...a: unknown[]) => unknown).apply(this, args);
      if (how === 'first') mapIncoming(args[0]);
      const result = (original as (...a: unknown[]) => unknown).apply(this, how === 'nodes' ? mapArgs(args) : args);
      mapJoined(parent);
      return result;
    };
  };
  const self = (n: Node) => n;
  const parent = (n: Node) => n.parentNode;
  for (const name of ['appendChild', 'insertBefore', 'replaceChild']) wrap(Node.prototype, name, self, 'first');
  for (const name of ['append', 'prepend', 'replaceChildren']) wrap(Element.prototype, name, self, 'nodes');
  for (const proto of [Element.prototype, CharacterData.prototype]) {
    for (const name of ['before', 'after', 'replaceWith']) wrap(proto, name, parent, 'nodes');
  }
  const insertNode = Range.prototype.insertNode;
  Range.prototype.insertNode = function (this: Range, node: Node) {
    const start = this.startContainer;
    const target = start instanceof CharacterData ? start.parentNode : start;
    if (isStyle(target)) mapIncoming(node);
    insertNode.call(this, node);
    if (isStyle(target)) mapJoined(target);
  };
  const insertAdjacentText = Element.prototype.insertAdjacentText;
  Element.prototype.insertAdjacentText = function (this: Element, where: InsertPosition, text: string) {
    const inside = /^(afterbegin|beforeend)$/i.test(String(where));
    const target = inside ? this : this.parentNode;
    if (!isStyle(target)) return insertAdjacentText.call(this, where, text);
    insertAdjacentText.call(this, where, mapCss(String(text)));
    mapJoined(target);
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
        if (typeof value !== 'string' || !applies(this)) return desc.set.call(this, value);
        desc.set.call(this, mapCss(value));
        if (!isStyle(this)) mapJoined(this.parentNode);
      },
    });
  };
  const styleOrText = (n: Node) => isStyle(n) || isStyleText(n);
  wrapSetter(Node.prototype, 'textContent', styleOrText);
  wrapSetter(Node.prototype, 'nodeValue', isStyleText);
  wrapSetter(CharacterData.prototype, 'data', isStyleText);
  wrapSetter(HTMLElement.prototype, 'innerText', isStyle);
  for (const name of ['appendData', 'insertData', 'replaceData'] as const) {
    const original = CharacterData.prototype[name] as (...a: unknown[]) => void;
    CharacterData.prototype[name] = function (this: CharacterData, ...args: unknown[]) {
      if (!isStyleText(this)) return original.apply(this, args);
      // The edit is made on a copy first (with its own errors for bad offsets), then written mapped.
      const copy = new Text(this.data);
      original.apply(copy, args);
      setData.call(this, mapCss(copy.data));
      mapJoined(this.parentNode);
    } as never;
  }
}
