// Markup the site's script writes (innerHTML, outerHTML, insertAdjacentHTML, setHTMLUnsafe,
// Range.createContextualFragment, document.write, execCommand insertHTML, insertImage and createLink):
// absolute URLs in it are mapped before the browser parses it live, since parsing alone starts
// loading images and scripts; references to the top window in its event handlers and javascript:
// URLs are wrapped as the gateway wraps them in pages (protocol/top-references.ts). It is parsed first in an inert <template>, mapped, re-serialized.

import { mapFrameAllow } from '../protocol/frame-allow.js';
import { isJavascriptUrl, javascriptUrl } from '../protocol/javascript-url.js';
import { scriptWithTopReferences } from '../protocol/top-references.js';
import { mapCssUrls } from './css-mapping.js';
import { mappedScriptText } from './script-text-mapping.js';

const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'poster', 'data', 'xlink:href', 'background'];
/** Attributes that hold the URL of a document shown in the element (which may be an HTML data: URL). */
const FRAME_ATTRS: Record<string, string> = { iframe: 'src', frame: 'src', embed: 'src', object: 'data' };
const SRCSET_ATTRS = ['srcset', 'imagesrcset'];
const ABSOLUTE = /(?:https?:|wss?:)?\/\//i;
/** Markup that may hold something to map: an absolute URL, a data: frame, a srcdoc, a reference to the top window (in an event handler or a javascript: URL). */
const ABSOLUTE_OR_FRAME = /\/\/|data:|srcdoc|top\s*(?:\?\.|\.|\[)/i;

/** HTML elements whose content is text, not elements (raw text and RCDATA): their innerHTML is their text. */
const TEXT_ELEMENTS = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title', 'plaintext']);

/**
 * Whether `node`'s innerHTML is text: parsed and serialized as markup it would come back changed
 * (a script's `a && b` as `a &amp;&amp; b`, `if (a<b)` cut at the `<`).
 */
function holdsText(node: unknown): boolean {
  return node instanceof HTMLElement && TEXT_ELEMENTS.has(node.localName);
}

/** Whether an attribute name is an event handler's (`on` and more, in any case). */
export function isHandlerName(name: string): boolean {
  return name.length > 2 && (name.charCodeAt(0) | 0x20) === 0x6f && (name.charCodeAt(1) | 0x20) === 0x6e;
}

type MapUrl = (url: string) => string;

/** Maps every candidate URL of a srcset value. */
export function mapSrcset(value: string, map: MapUrl): string {
  return value
    .split(',')
    .map((candidate) => {
      const parts = candidate.trim().split(/\s+/);
      const [url, ...descriptors] = parts;
      return url ? [map(url), ...descriptors].join(' ') : candidate;
    })
    .join(', ');
}

/** A space-separated URL list (`ping`) with each URL mapped. */
export function mapUrlList(value: string, map: MapUrl): string {
  return value.replace(/[^\t\n\f\r ]+/g, (url) => map(url));
}

function mapTree(root: DocumentFragment | Document, map: MapUrl): void {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const name of URL_ATTRS) {
      const value = el.getAttribute(name);
      if (value !== null && ABSOLUTE.test(value)) el.setAttribute(name, map(value));
      else if (value !== null && isJavascriptUrl(value)) el.setAttribute(name, javascriptUrl(value) ?? value);
    }
    for (const attr of Array.from(el.attributes)) {
      if (!isHandlerName(attr.name)) continue;
      const code = scriptWithTopReferences(attr.value);
      if (code !== null) el.setAttribute(attr.name, code);
    }
    const frameAttr = FRAME_ATTRS[el.localName];
    const frameUrl = frameAttr && frames ? el.getAttribute(frameAttr) : null;
    if (frameAttr && frameUrl !== null && /^[\0- ]*data:/i.test(frameUrl)) el.setAttribute(frameAttr, frames?.url(frameUrl) ?? frameUrl);
    for (const name of SRCSET_ATTRS) {
      const value = el.getAttribute(name);
      if (value !== null && ABSOLUTE.test(value)) el.setAttribute(name, mapSrcset(value, map));
    }
    const ping = el.localName === 'a' || el.localName === 'area' ? el.getAttribute('ping') : null;
    if (ping !== null && ABSOLUTE.test(ping)) el.setAttribute('ping', mapUrlList(ping, map));
    const style = el.getAttribute('style');
    if (style !== null && ABSOLUTE.test(style)) el.setAttribute('style', mapCssUrls(style, map));
    if (el.localName === 'style' && ABSOLUTE.test(el.textContent ?? '')) el.textContent = mapCssUrls(el.textContent ?? '', map);
    if (el instanceof HTMLScriptElement) {
      const code = mappedScriptText(el, el.text, map);
      if (code !== null) el.text = code;
    }
    const allow = el.localName === 'iframe' ? el.getAttribute('allow') : null;
    const allowMapped = allow !== null ? mapFrameAllow(allow, map) : null;
    if (allowMapped !== null) el.setAttribute('allow', allowMapped);
    const srcdoc = el.localName === 'iframe' ? el.getAttribute('srcdoc') : null;
    if (srcdoc !== null && frames) el.setAttribute('srcdoc', frames.srcdoc(srcdoc));
    if (el.localName === 'template') mapTree((el as HTMLTemplateElement).content, map);
  }
}

let parseInto: ((template: HTMLTemplateElement, html: string) => void) | null = null;
let serialize: ((template: HTMLTemplateElement) => string) | null = null;
/** How the documents of frames are mapped: their URL (src, data), and srcdoc markup. */
export interface FrameDocuments {
  url: MapUrl;
  srcdoc: (html: string) => string;
}

let frames: FrameDocuments | null = null;
let mapUrl: MapUrl | null = null;
let parseFromString: DOMParser['parseFromString'] | null = null;

/** A whole HTML document parsed inert (no script runs, nothing loads), with the native parser. */
export function parseDocument(html: string): Document {
  return (parseFromString ?? DOMParser.prototype.parseFromString).call(new DOMParser(), html, 'text/html');
}

/** Maps the URLs of a parsed document as those of markup written by script. */
export function mapDocumentTree(doc: Document): void {
  if (mapUrl) mapTree(doc, mapUrl);
}

/** `doc` as markup: its doctype and its root element. */
export function serializeDocument(doc: Document): string {
  const dt = doc.doctype;
  let doctype = '';
  if (dt) {
    const ids = dt.publicId ? ` PUBLIC "${dt.publicId}"${dt.systemId ? ` "${dt.systemId}"` : ''}` : dt.systemId ? ` SYSTEM "${dt.systemId}"` : '';
    doctype = `<!DOCTYPE ${dt.name}${ids}>`;
  }
  return doctype + (doc.documentElement?.outerHTML ?? '');
}

/** Markup with its absolute URLs mapped (parsed in an inert template with the native innerHTML). */
export function mapMarkupWith(html: string, map: MapUrl): string {
  if (!ABSOLUTE_OR_FRAME.test(html) || !parseInto || !serialize) return html;
  const template = document.createElement('template');
  parseInto(template, html);
  mapTree(template.content, map);
  return serialize(template);
}

/** Installs the mapping on every API that parses markup written by script; `frameDocuments` maps the documents of frames. */
export function installMarkupMapping(map: MapUrl, frameDocuments: FrameDocuments): void {
  frames = frameDocuments;
  mapUrl = map;
  parseFromString = DOMParser.prototype.parseFromString;
  const innerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  const outerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'outerHTML');
  const shadowInnerHTML = Object.getOwnPropertyDescriptor(ShadowRoot.prototype, 'innerHTML');
  if (!innerHTML?.set || !innerHTML.get) return;
  const setInner = innerHTML.set;
  const getInner = innerHTML.get;
  parseInto = (template, html) => setInner.call(template, html);
  serialize = (template) => getInner.call(template) as string;
  const mapMarkup = (html: string): string => mapMarkupWith(html, map);
  const wrapSetter = (proto: object, desc: PropertyDescriptor | undefined, prop: string) => {
    if (!desc?.set || !desc.get) return;
    const set = desc.set;
    Object.defineProperty(proto, prop, {
      configurable: true,
      enumerable: desc.enumerable ?? true,
      get: desc.get,
      // (A <style>'s innerHTML is its CSS text: see style-text-mapping.ts.)
      set(this: unknown, value: unknown) {
        set.call(this, typeof value === 'string' && !(prop === 'innerHTML' && holdsText(this)) ? mapMarkup(value) : value);
      },
    });
  };
  wrapSetter(Element.prototype, innerHTML, 'innerHTML');
  wrapSetter(Element.prototype, outerHTML, 'outerHTML');
  wrapSetter(ShadowRoot.prototype, shadowInnerHTML, 'innerHTML');
  const insertAdjacentHTML = Element.prototype.insertAdjacentHTML;
  Element.prototype.insertAdjacentHTML = function (this: Element, position: InsertPosition, html: string) {
    return insertAdjacentHTML.call(this, position, mapMarkup(String(html)));
  };
  const createContextualFragment = Range.prototype.createContextualFragment;
  Range.prototype.createContextualFragment = function (this: Range, html: string) {
    return createContextualFragment.call(this, mapMarkup(String(html)));
  };
  for (const proto of [Element.prototype, ShadowRoot.prototype] as { setHTMLUnsafe?: (html: string) => void }[]) {
    const setHTMLUnsafe = proto.setHTMLUnsafe;
    if (typeof setHTMLUnsafe !== 'function') continue;
    proto.setHTMLUnsafe = function (this: Element, html: string) {
      return setHTMLUnsafe.call(this, mapMarkup(String(html)));
    };
  }
  // Editing commands that insert markup or a URL the browser loads (rich text editors).
  const execCommand = Document.prototype.execCommand;
  Document.prototype.execCommand = function (this: Document, ...args: unknown[]) {
    // Arguments rewritten only where given (too few still throws as the native call does), each converted once.
    if (args.length >= 3 && args[2] !== undefined && args[2] !== null) {
      const name = (args[0] = `${args[0] as string}`).toLowerCase();
      if (name === 'inserthtml') args[2] = mapMarkup(`${args[2] as string}`);
      else if (name === 'insertimage' || name === 'createlink') args[2] = map(`${args[2] as string}`);
    }
    return Reflect.apply(execCommand, this, args) as boolean;
  } as typeof execCommand;
  for (const name of ['write', 'writeln'] as const) {
    const original = Document.prototype[name];
    Document.prototype[name] = function (this: Document, ...text: string[]) {
      return original.call(this, mapMarkup(text.join('')));
    };
  }
  // Documents parsed by script load nothing, but their nodes do once the page takes them in: HTML
  // and SVG documents (not XML data) are mapped as they are parsed.
  const native = DOMParser.prototype.parseFromString;
  DOMParser.prototype.parseFromString = function (this: DOMParser, text: string, type: DOMParserSupportedType) {
    const doc = native.call(this, text, type);
    if (/^(text\/html|image\/svg\+xml|application\/xhtml\+xml)$/i.test(String(type)) && ABSOLUTE_OR_FRAME.test(String(text))) mapDocumentTree(doc);
    return doc;
  };
  const statics = Document as unknown as Record<string, unknown>;
  for (const name of ['parseHTMLUnsafe', 'parseHTML']) {
    const parse = statics[name];
    if (typeof parse !== 'function') continue;
    statics[name] = function (this: unknown, ...args: unknown[]) {
      const doc = (parse as (...a: unknown[]) => Document).apply(this, args);
      if (ABSOLUTE_OR_FRAME.test(String(args[0]))) mapDocumentTree(doc);
      return doc;
    };
  }
}
