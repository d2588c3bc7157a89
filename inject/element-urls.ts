// URLs the site's script gives elements and a few other objects (properties, setAttribute and
// setAttributeNS, srcset, srcdoc, `new Audio(url)`, worklet modules, history entries, protocol
// handlers): mapped to the gateway before the browser loads or navigates to them.

import { mapFrameAllow } from '../protocol/frame-allow.js';
import { scriptWithTopReferences } from '../protocol/top-references.js';
import { installAttrNodeUrls } from './attr-urls.js';
import { mapCssUrls } from './css-mapping.js';
import { type FrameDocuments, isHandlerName, mapSrcset, mapUrlList } from './markup-mapping.js';
import { report } from './report.js';

type MapUrl = (url: string) => string;

/** Element properties that hold a URL the browser loads or navigates to. */
const URL_PROPERTIES: [string, string][] = [
  ['HTMLAnchorElement', 'href'],
  ['HTMLAreaElement', 'href'],
  ['HTMLLinkElement', 'href'],
  ['HTMLBaseElement', 'href'],
  ['HTMLImageElement', 'src'],
  ['HTMLScriptElement', 'src'],
  ['HTMLIFrameElement', 'src'],
  ['HTMLFrameElement', 'src'],
  ['HTMLMediaElement', 'src'],
  ['HTMLSourceElement', 'src'],
  ['HTMLTrackElement', 'src'],
  ['HTMLEmbedElement', 'src'],
  ['HTMLInputElement', 'src'],
  ['HTMLFormElement', 'action'],
  ['HTMLButtonElement', 'formAction'],
  ['HTMLInputElement', 'formAction'],
  ['HTMLObjectElement', 'data'],
  ['HTMLVideoElement', 'poster'],
];
/** Element properties that hold a list of candidate URLs. */
const SRCSET_PROPERTIES: [string, string][] = [
  ['HTMLImageElement', 'srcset'],
  ['HTMLSourceElement', 'srcset'],
  ['HTMLLinkElement', 'imageSrcset'],
];
/** Element properties that hold a space-separated list of URLs. */
const URL_LIST_PROPERTIES: [string, string][] = [
  ['HTMLAnchorElement', 'ping'],
  ['HTMLAreaElement', 'ping'],
];
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'poster', 'xlink:href', 'background']);

function wrapProperty(proto: object, prop: string, transform: (value: string) => string): void {
  const desc = Object.getOwnPropertyDescriptor(proto, prop);
  if (!desc?.set || !desc.get) return;
  const { get, set } = desc;
  Object.defineProperty(proto, prop, {
    configurable: true,
    enumerable: desc.enumerable ?? true,
    get,
    set(this: unknown, value: unknown) {
      set.call(this, transform(String(value)));
    },
  });
}

/** Elements whose attribute holds the URL of a document they show (which may be an HTML data: URL). */
const FRAME_ATTRIBUTES: Record<string, string> = { iframe: 'src', frame: 'src', embed: 'src', object: 'data' };

/** The value an attribute of `el` should get, with its URLs mapped (never throws: the value is kept then). */
export function mapAttribute(el: Element, name: string, value: string, map: MapUrl, frames?: FrameDocuments): string {
  // An event handler: its references to the top window go through the runtime's hook (on any element).
  if (isHandlerName(name)) return scriptWithTopReferences(value) ?? value;
  if (el.localName.includes('-')) return value;
  const lower = name.toLowerCase();
  const html = el.namespaceURI === 'http://www.w3.org/1999/xhtml';
  if (frames && html && FRAME_ATTRIBUTES[el.localName] === lower) return frames.url(value);
  if (frames && html && lower === 'srcdoc' && el.localName === 'iframe') return frames.srcdoc(value);
  if (URL_ATTRIBUTES.has(lower)) return map(value);
  if (lower === 'srcset' || lower === 'imagesrcset') return mapSrcset(value, map);
  if (lower === 'style') return mapCssUrls(value, map);
  if (lower === 'ping' && (el.localName === 'a' || el.localName === 'area')) return mapUrlList(value, map);
  if (lower === 'allow' && html && el.localName === 'iframe') return mapFrameAllow(value, map) ?? value;
  return value;
}

function mapAttributeSafely(el: Element, name: string, value: string, map: MapUrl, frames: FrameDocuments): string {
  try {
    return mapAttribute(el, name, value, map, frames);
  } catch (err) {
    report(err);
    return value;
  }
}

/** Installs the mapping on element URL properties and attributes, and the other URL-taking APIs; `frames` maps the documents of frames. */
export function installElementUrls(map: MapUrl, frames: FrameDocuments): void {
  const w = window as unknown as Record<string, { prototype: object } | undefined>;
  const frameProperties = new Set(['HTMLIFrameElement src', 'HTMLFrameElement src', 'HTMLEmbedElement src', 'HTMLObjectElement data']);
  for (const [ctor, prop] of URL_PROPERTIES) {
    const C = w[ctor];
    if (C) wrapProperty(C.prototype, prop, frameProperties.has(`${ctor} ${prop}`) ? frames.url : map);
  }
  for (const [ctor, prop] of SRCSET_PROPERTIES) {
    const C = w[ctor];
    if (C) wrapProperty(C.prototype, prop, (v) => mapSrcset(v, map));
  }
  for (const [ctor, prop] of URL_LIST_PROPERTIES) {
    const C = w[ctor];
    if (C) wrapProperty(C.prototype, prop, (v) => mapUrlList(v, map));
  }
  wrapProperty(HTMLIFrameElement.prototype, 'srcdoc', frames.srcdoc);
  wrapProperty(HTMLIFrameElement.prototype, 'allow', (v) => mapFrameAllow(v, map) ?? v);

  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (this: Element, name: string, value: string) {
    return setAttribute.call(this, name, mapAttributeSafely(this, String(name), String(value), map, frames));
  };
  const setAttributeNS = Element.prototype.setAttributeNS;
  Element.prototype.setAttributeNS = function (this: Element, ns: string | null, name: string, value: string) {
    const local = String(name).slice(String(name).indexOf(':') + 1);
    const key = ns === 'http://www.w3.org/1999/xlink' && local === 'href' ? 'xlink:href' : local;
    return setAttributeNS.call(this, ns, name, mapAttributeSafely(this, key, String(value), map, frames));
  };

  installAttrNodeUrls((el, name, value) => mapAttributeSafely(el, name, value, map, frames));

  // new Audio(url) sets its src inside the constructor, past the property setter.
  const NativeAudio = window.Audio;
  const Audio = function (this: unknown, src?: string) {
    return src === undefined ? new NativeAudio() : new NativeAudio(map(String(src)));
  } as unknown as typeof window.Audio;
  Audio.prototype = NativeAudio.prototype;
  window.Audio = Audio;

  const WorkletCtor = (window as unknown as { Worklet?: { prototype: { addModule(url: string, options?: unknown): Promise<void> } } }).Worklet;
  if (WorkletCtor) {
    const addModule = WorkletCtor.prototype.addModule;
    WorkletCtor.prototype.addModule = function (this: unknown, url: string, options?: unknown) {
      return addModule.call(this, map(String(url)), options);
    };
  }

  // A protocol handler's URL must be of the document's origin: the real one is, on the real site.
  // Another origin stays as written, so the browser refuses it as it would directly (mapped, it
  // would be the gateway's "not allowed" page on this very host, which the browser would take).
  for (const name of ['registerProtocolHandler', 'unregisterProtocolHandler'] as const) {
    const original = (Navigator.prototype as unknown as Record<string, ((scheme: string, url: string) => void) | undefined>)[name];
    if (typeof original !== 'function') continue;
    (Navigator.prototype as unknown as Record<string, unknown>)[name] = function (this: Navigator, ...args: unknown[]) {
      // The URL rewritten only when given (too few arguments throw as the native call does).
      if (args.length >= 2) {
        const url = (args[1] = `${args[1] as string}`);
        const mapped = map(url);
        let refused = false;
        try {
          refused = new URL(mapped, location.href).pathname.startsWith('/__cobrowse/');
        } catch {
          refused = true;
        }
        if (!refused) args[1] = mapped;
      }
      return Reflect.apply(original, this, args) as undefined;
    };
  }

  // pushState/replaceState with an absolute URL of the page's real origin: same origin on the real site.
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = History.prototype[name];
    History.prototype[name] = function (this: History, data: unknown, unused: string, url?: string | URL | null) {
      return original.call(this, data, unused, url === undefined || url === null ? url : map(String(url)));
    };
  }
}
