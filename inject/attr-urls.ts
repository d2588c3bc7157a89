// URL attributes written through Attr nodes rather than setAttribute: `attr.value`, `nodeValue`
// and `textContent` of an attribute an element holds, and attributes handed to an element
// (setAttributeNode, setAttributeNodeNS, attributes.setNamedItem, setNamedItemNS). An attribute
// that belongs to no element yet is mapped when it is given to one, with that element's rules.

/** The value attribute `name` of `el` should get (never throws). */
type MapAttribute = (el: Element, name: string, value: string) => string;

const XLINK = 'http://www.w3.org/1999/xlink';

/** The name `attr` is known by in the mapping rules (`xlink:href` whatever its prefix). */
function ruleName(attr: Attr): string {
  if (attr.namespaceURI === XLINK && attr.localName === 'href') return 'xlink:href';
  return attr.namespaceURI ? attr.localName : attr.name;
}

/** Installs the mapping on Attr values and on the methods that give an element an Attr. */
export function installAttrNodeUrls(mapAttribute: MapAttribute): void {
  const value = Object.getOwnPropertyDescriptor(Attr.prototype, 'value');
  if (!value?.get || !value.set) return;
  const setValue = value.set;
  const mapped = (attr: Attr, el: Element | null, text: string) => (el ? mapAttribute(el, ruleName(attr), text) : text);

  Object.defineProperty(Attr.prototype, 'value', {
    configurable: true,
    enumerable: true,
    get: value.get,
    set(this: Attr, text: unknown) {
      setValue.call(this, mapped(this, this.ownerElement, String(text)));
    },
  });
  for (const prop of ['nodeValue', 'textContent']) {
    const desc = Object.getOwnPropertyDescriptor(Node.prototype, prop);
    if (!desc?.get || !desc.set) continue;
    const set = desc.set;
    Object.defineProperty(Node.prototype, prop, {
      configurable: true,
      enumerable: true,
      get: desc.get,
      set(this: Node, text: unknown) {
        if (this instanceof Attr && text !== null) set.call(this, mapped(this, this.ownerElement, String(text)));
        else set.call(this, text);
      },
    });
  }

  /** Maps the value of `attr` for `el` before `el` takes it (only an attribute of no element: the native method refuses the others). */
  const prepare = (attr: unknown, el: Element | undefined) => {
    if (!(attr instanceof Attr) || attr.ownerElement !== null || !el) return;
    const before = attr.value;
    const after = mapAttribute(el, ruleName(attr), before);
    if (after !== before) setValue.call(attr, after);
  };
  for (const name of ['setAttributeNode', 'setAttributeNodeNS'] as const) {
    const original = Element.prototype[name];
    Element.prototype[name] = function (this: Element, attr: Attr) {
      prepare(attr, this);
      return original.call(this, attr);
    };
  }
  // A NamedNodeMap does not say whose it is: the element is remembered when it hands its map out.
  const owners = new WeakMap<NamedNodeMap, Element>();
  const attributes = Object.getOwnPropertyDescriptor(Element.prototype, 'attributes');
  if (attributes?.get) {
    const get = attributes.get;
    Object.defineProperty(Element.prototype, 'attributes', {
      configurable: true,
      enumerable: true,
      get(this: Element) {
        const map = get.call(this) as NamedNodeMap;
        owners.set(map, this);
        return map;
      },
    });
  }
  for (const name of ['setNamedItem', 'setNamedItemNS'] as const) {
    const original = NamedNodeMap.prototype[name];
    NamedNodeMap.prototype[name] = function (this: NamedNodeMap, attr: Attr) {
      prepare(attr, owners.get(this));
      return original.call(this, attr);
    };
  }
}
