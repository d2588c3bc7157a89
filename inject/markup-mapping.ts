// Markup the site's script writes (innerHTML, outerHTML, insertAdjacentHTML, document.write):
// absolute URLs in it are mapped before the browser parses it live, since parsing alone starts
// loading images and scripts. It is parsed first in an inert <template>, mapped, re-serialized.

const URL_ATTRS = ['href', 'src', 'action', 'formaction', 'poster', 'data', 'xlink:href', 'background'];
const SRCSET_ATTRS = ['srcset', 'imagesrcset'];
const ABSOLUTE = /(?:https?:|wss?:)?\/\//i;

type MapUrl = (url: string) => string;

function mapSrcset(value: string, map: MapUrl): string {
  return value
    .split(',')
    .map((candidate) => {
      const parts = candidate.trim().split(/\s+/);
      const [url, ...descriptors] = parts;
      return url ? [map(url), ...descriptors].join(' ') : candidate;
    })
    .join(', ');
}

function mapTree(root: DocumentFragment, map: MapUrl): void {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const name of URL_ATTRS) {
      const value = el.getAttribute(name);
      if (value !== null && ABSOLUTE.test(value)) el.setAttribute(name, map(value));
    }
    for (const name of SRCSET_ATTRS) {
      const value = el.getAttribute(name);
      if (value !== null && ABSOLUTE.test(value)) el.setAttribute(name, mapSrcset(value, map));
    }
    if (el.localName === 'template') mapTree((el as HTMLTemplateElement).content, map);
  }
}

/** Installs the mapping on every API that parses markup written by script. */
export function installMarkupMapping(map: MapUrl): void {
  const innerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  const outerHTML = Object.getOwnPropertyDescriptor(Element.prototype, 'outerHTML');
  const shadowInnerHTML = Object.getOwnPropertyDescriptor(ShadowRoot.prototype, 'innerHTML');
  if (!innerHTML?.set || !innerHTML.get) return;
  const setInner = innerHTML.set;
  const getInner = innerHTML.get;
  const mapMarkup = (html: string): string => {
    if (!ABSOLUTE.test(html)) return html;
    const template = document.createElement('template');
    setInner.call(template, html);
    mapTree(template.content, map);
    return getInner.call(template) as string;
  };
  const wrapSetter = (proto: object, desc: PropertyDescriptor | undefined, prop: string) => {
    if (!desc?.set || !desc.get) return;
    const set = desc.set;
    Object.defineProperty(proto, prop, {
      configurable: true,
      enumerable: desc.enumerable ?? true,
      get: desc.get,
      set(this: unknown, value: unknown) {
        set.call(this, typeof value === 'string' ? mapMarkup(value) : value);
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
  for (const name of ['write', 'writeln'] as const) {
    const original = Document.prototype[name];
    Document.prototype[name] = function (this: Document, ...text: string[]) {
      return original.call(this, mapMarkup(text.join('')));
    };
  }
}
