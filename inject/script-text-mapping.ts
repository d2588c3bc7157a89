// The text of inline <script> elements the page's script makes: its references to the top window
// are wrapped as the gateway wraps them in pages (protocol/top-references.ts) before the browser
// runs it, and the URLs of speculation rules are mapped (protocol/speculation-rules.ts) before the
// browser reads them, which it does once the element is in the document with text: when a script
// element is put into the document (appendChild, insertBefore, replaceChild, append, prepend,
// before, after, replaceWith), and when text is set on one already there (text, textContent,
// innerText, innerHTML). Markup with scripts (document.write, createContextualFragment) is handled
// with the rest of markup (markup-mapping.ts). Text nodes appended to a script one by one are not seen.

import { mapSpeculationRules } from '../protocol/speculation-rules.js';
import { scriptWithTopReferences } from '../protocol/top-references.js';
import { report } from './report.js';

/** Whether a script element's type makes it JavaScript (a classic script or a module). */
export function isJavaScriptElement(el: Element): boolean {
  const type = (el.getAttribute('type') ?? '').trim().toLowerCase();
  return type === '' || type === 'module' || /^(?:text|application)\/(?:x-)?(?:java|ecma)script(?:1\.\d)?$|^text\/(?:jscript|livescript)$/.test(type);
}

/** Whether a script element holds speculation rules. */
function isSpeculationRules(el: Element): boolean {
  return (el.getAttribute('type') ?? '').trim().toLowerCase() === 'speculationrules';
}

/**
 * What an inline script element's text becomes before the browser reads it: `code` with its
 * references to the top window wrapped (JavaScript) or its rules' URLs mapped (speculation rules);
 * null when nothing changes or the element is neither (never throws).
 */
export function mappedScriptText(el: Element, code: string, mapUrl: (url: string) => string): string | null {
  try {
    if (el.hasAttribute('src')) return null;
    if (isJavaScriptElement(el)) return scriptWithTopReferences(code);
    if (isSpeculationRules(el)) return mapSpeculationRules(code, mapUrl);
    return null;
  } catch (err) {
    report(err);
    return null;
  }
}

/** Installs the wrapping on the ways script gives an inline script element its text and runs it. */
export function installScriptTextMapping(mapUrl: (url: string) => string): void {
  const text = Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'text');
  if (!text?.get || !text.set) return;
  const getText = text.get;
  const setText = text.set;
  /** Wraps the text of a script element about to run (no src: an external script's text is not run). */
  const prepare = (node: unknown): void => {
    if (!(node instanceof HTMLScriptElement)) return;
    const code = mappedScriptText(node, getText.call(node) as string, mapUrl);
    try {
      if (code !== null) setText.call(node, code);
    } catch (err) {
      // A page that requires Trusted Types refuses a plain string: its script runs as it wrote it.
      report(err);
    }
  };
  Object.defineProperty(HTMLScriptElement.prototype, 'text', {
    configurable: true,
    enumerable: text.enumerable ?? true,
    get: getText,
    set(this: HTMLScriptElement, value: unknown) {
      const code = typeof value === 'string' ? mappedScriptText(this, value, mapUrl) : null;
      setText.call(this, code ?? value);
    },
  });
  for (const [proto, prop] of [
    [Node.prototype, 'textContent'],
    [HTMLElement.prototype, 'innerText'],
    [Element.prototype, 'innerHTML'],
  ] as const) {
    const desc = Object.getOwnPropertyDescriptor(proto, prop);
    if (!desc?.get || !desc.set) continue;
    const set = desc.set;
    Object.defineProperty(proto, prop, {
      configurable: true,
      enumerable: desc.enumerable ?? true,
      get: desc.get,
      set(this: Node, value: unknown) {
        if (this instanceof HTMLScriptElement && typeof value === 'string') {
          set.call(this, mappedScriptText(this, value, mapUrl) ?? value);
          return;
        }
        set.call(this, value);
      },
    });
  }
  const wrapInsert = <A extends unknown[]>(proto: object, name: string, nodesOf: (args: A) => unknown[]) => {
    const original = (proto as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    (proto as Record<string, unknown>)[name] = function (this: unknown, ...args: A) {
      for (const node of nodesOf(args)) prepare(node);
      return (original as (...a: A) => unknown).apply(this, args);
    };
  };
  wrapInsert<[Node, Node | null]>(Node.prototype, 'appendChild', (a) => [a[0]]);
  wrapInsert<[Node, Node | null]>(Node.prototype, 'insertBefore', (a) => [a[0]]);
  wrapInsert<[Node, Node]>(Node.prototype, 'replaceChild', (a) => [a[0]]);
  for (const proto of [Element.prototype, Document.prototype, DocumentFragment.prototype, CharacterData.prototype]) {
    for (const name of ['append', 'prepend', 'before', 'after', 'replaceWith', 'replaceChildren']) wrapInsert<unknown[]>(proto, name, (a) => a);
  }
}
