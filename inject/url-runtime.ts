// Client runtime of the rewriting proxy: URLs the site's script builds at run time are mapped to
// the gateway before the browser uses them, so that nothing reaches a real origin directly.
// Same-origin and relative URLs need nothing (each origin has a proxied host of its own).

import { isHtmlDataUrl } from '../protocol/data-url.js';
import { javascriptUrl } from '../protocol/javascript-url.js';
import { RUNTIME_HEADER, RUNTIME_HEADER_VALUE } from '../protocol/runtime-requests.js';
import { TOP_HOOK } from '../protocol/top-window.js';
import { adoptWindow, type RuntimeTagSettings, runtimeTagMarkup } from './child-windows.js';
import { installCssMapping } from './css-mapping.js';
import { mapBlobDocument, mapDataDocument } from './data-documents.js';
import { installElementUrls } from './element-urls.js';
import { HostEntry } from './host-entry.js';
import { installMarkupMapping, mapMarkupWith } from './markup-mapping.js';
import { installImportHook } from './module-imports.js';
import { guardNavigations, guardTargetedLinks } from './navigation-guard.js';
import { installNetworkHooks } from './network-hooks.js';
import { installScriptTextMapping } from './script-text-mapping.js';
import { installStringCodeMapping } from './string-code-mapping.js';
import { installStyleTextMapping } from './style-text-mapping.js';

/** Where the gateway maps a real URL to its proxied form (synchronously, for origins not seen yet). */
const MAP_ENDPOINT = '/__cobrowse/map';

type Table = Map<string, string>;

/** Maps URLs for this page; built from the origin table the gateway embedded. */
export class UrlRuntime {
  private readonly realToProxied: Table = new Map();
  private readonly proxiedToReal: Table = new Map();
  private readonly NativeXHR = XMLHttpRequest;
  /** The participant's cookie on the session's other hosts. */
  readonly entry: HostEntry;
  /** The proxied origin whose `/__cobrowse/` endpoints this page uses: its own, or its creator's for a data: document (opaque origin). */
  readonly gateway: string;
  /** The nonce of this page's own script tag ('' when the gateway gave it none). */
  nonce: string;

  constructor(
    table: Record<string, string>,
    /** The real origin of this page. */
    readonly realOrigin: string,
    /** Proxied origins whose host does not hold this participant's cookie yet. */
    notEntered: readonly string[] = [],
    own: { gateway?: string; nonce?: string } = {},
  ) {
    this.gateway = own.gateway ?? location.origin;
    this.nonce = own.nonce ?? '';
    for (const [real, proxied] of Object.entries(table)) this.remember(real, proxied);
    if (location.origin !== 'null') this.remember(realOrigin, location.origin);
    const entered = Object.values(table).filter((origin) => !notEntered.includes(origin));
    this.entry = new HostEntry(this.NativeXHR, this.gateway, entered, (origin) => this.isSessionHost(new URL(origin).host));
    for (const origin of notEntered) void this.entry.enter(origin);
  }

  /** True for a host of this session on the gateway (`<label>--<session>.<base>`, label `o<n>` or `h<hash>`), already proxied. */
  private isSessionHost(host: string): boolean {
    const own = new URL(this.gateway).host;
    const suffix = own.slice(own.indexOf('--'));
    return /^(o\d+|h[a-z2-7]{10})--/.test(host) && host.slice(host.indexOf('--')) === suffix;
  }

  /** True for another proxied host of this session (requests to it must carry the participant cookie). */
  isOtherSessionHost(url: string): boolean {
    try {
      const target = new URL(url, location.href);
      return target.origin !== location.origin && (this.proxiedToReal.has(target.origin) || this.isSessionHost(target.host));
    } catch {
      return false;
    }
  }

  /** True for a URL the browser may use as it is: this session's hosts, the gateway's own host, other schemes. */
  isOnGateway(url: URL): boolean {
    if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'ws:' && url.protocol !== 'wss:') return true;
    const own = new URL(this.gateway).host;
    const base = own.slice(own.indexOf('.') + 1);
    return url.host === base || this.proxiedToReal.has(url.origin) || this.isSessionHost(url.host);
  }

  /** What a worker this page starts needs to run the same runtime (see inject/worker-main.ts). */
  workerSettings(): { origin: string; origins: Record<string, string>; enter: string[] } {
    const origins: Record<string, string> = {};
    for (const [real, proxied] of this.realToProxied) if (!proxied.includes('/__cobrowse/')) origins[real] = proxied;
    return { origin: this.realOrigin, origins, enter: Object.values(origins).filter((o) => this.entry.needs(o) !== null) };
  }

  /** Takes in what a later script tag of this realm says (see main.ts): more origins, hosts still to enter. */
  learn(table: Record<string, string>, notEntered: readonly string[], nonce: string): void {
    this.nonce = nonce;
    for (const [real, proxied] of Object.entries(table)) if (!this.realToProxied.has(real)) this.remember(real, proxied);
    this.entry.forget(notEntered);
    for (const origin of notEntered) void this.entry.enter(origin);
  }

  private remember(real: string, proxied: string): void {
    this.realToProxied.set(real, proxied);
    this.proxiedToReal.set(proxied, real);
  }

  /** The URL the browser should use for `input` (relative URLs resolve against the page, as the site expects). */
  map(input: string | URL, ws = false): string {
    let url: URL;
    try {
      url = new URL(String(input), location.href);
    } catch {
      return String(input);
    }
    const wsScheme = url.protocol === 'ws:' || url.protocol === 'wss:';
    // A javascript: URL's script: its references to the top window go through the hook.
    if (url.protocol === 'javascript:') return javascriptUrl(String(input)) ?? String(input);
    if (!wsScheme && url.protocol !== 'http:' && url.protocol !== 'https:') return String(input);
    const httpOrigin = wsScheme ? `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}` : url.origin;
    if (this.proxiedToReal.has(httpOrigin) || this.isSessionHost(url.host)) return String(input);
    const proxied = this.realToProxied.get(httpOrigin) ?? this.lookup(httpOrigin);
    // A base with a path (the "not allowed" endpoint) keeps it: the real path is appended.
    const mapped = new URL(
      proxied.includes('/', proxied.indexOf('//') + 2) ? `${proxied}${url.pathname}${url.search}` : `${proxied}${url.pathname}${url.search}${url.hash}`,
    );
    if (ws || wsScheme) mapped.protocol = mapped.protocol === 'https:' ? 'wss:' : 'ws:';
    return mapped.href;
  }

  /** What the runtime in a document this page makes (a frame's) needs from this one. */
  tagSettings(): RuntimeTagSettings {
    return { realOrigin: this.realOrigin, gateway: this.gateway, origins: this.workerSettings().origins, nonce: this.nonce };
  }

  /** The URL a frame or window should show for `input`: an HTML data: or blob: document with the runtime in it (see data-documents.ts), else `map(input)`. */
  mapFrame(input: string): string {
    if (isHtmlDataUrl(input)) return mapDataDocument(input, () => this.tagSettings());
    if (/^[\0- ]*blob:/i.test(input)) return mapBlobDocument(input.replace(/^[\0- ]+/, ''), this.NativeXHR, (html) => this.mapSrcdoc(html), this.blobDocuments);
    return this.map(input);
  }

  /**
   * An iframe's srcdoc markup with its URLs mapped and the runtime's script first, after its
   * doctype (see child-windows.ts); the rest of the markup is kept as written.
   */
  mapSrcdoc(html: string): string {
    const tag = runtimeTagMarkup(this.tagSettings());
    const doctype = /^(?:\s|<!--[\s\S]*?-->)*<!doctype[^>]*>/i.exec(html)?.[0] ?? '';
    const rest = html.slice(doctype.length);
    return rest.startsWith(tag) ? html : doctype + tag + mapMarkupWith(rest, (u) => this.map(u));
  }

  private bundle: string | null | undefined;
  /** blob: URLs of HTML documents -> the blob: URLs made of them with the runtime in. */
  private readonly blobDocuments = new Map<string, string>();

  /** The text of the runtime bundle (for windows it is put into as an inline script); read once. */
  bundleSource(): string | null {
    if (this.bundle === undefined) {
      try {
        const xhr = new this.NativeXHR();
        xhr.open('GET', `${this.gateway}/__cobrowse/inject.js`, false);
        xhr.send();
        this.bundle = xhr.status === 200 ? xhr.responseText : null;
      } catch {
        this.bundle = null;
      }
    }
    return this.bundle;
  }

  /** The real origin behind a proxied one (for event.origin); origins that are not the session's are returned as they are. */
  realOriginOf(origin: string): string {
    const known = this.proxiedToReal.get(origin);
    if (known !== undefined) return known;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return origin;
    }
    if (!this.isSessionHost(host)) return origin;
    // A host of the session registered after this page was sent (e.g. a frame's origin): asked once.
    const xhr = new this.NativeXHR();
    xhr.open('GET', `${this.gateway}${MAP_ENDPOINT}?proxied=${encodeURIComponent(origin)}`, false);
    xhr.setRequestHeader(RUNTIME_HEADER, RUNTIME_HEADER_VALUE);
    xhr.send();
    const real = xhr.status === 200 ? xhr.responseText.trim() : '';
    if (!real) return origin;
    this.remember(real, origin);
    return real;
  }

  /** The proxied origin for a postMessage target origin. */
  proxiedOriginOf(origin: string): string {
    if (origin === '*' || origin === '/') return origin;
    try {
      return new URL(this.map(origin)).origin;
    } catch {
      return origin;
    }
  }

  private lookup(origin: string): string {
    // Rare (an origin the page had not linked to): one synchronous round trip, then cached.
    const xhr = new this.NativeXHR();
    xhr.open('GET', `${this.gateway}${MAP_ENDPOINT}?origin=${encodeURIComponent(origin)}`, false);
    xhr.setRequestHeader(RUNTIME_HEADER, RUNTIME_HEADER_VALUE);
    xhr.send();
    const proxied = xhr.status === 200 ? xhr.responseText.trim() : '';
    const result = proxied || `${this.gateway}/__cobrowse/blocked-origin/${encodeURIComponent(origin)}`;
    this.remember(origin, result);
    return result;
  }
}

/**
 * Another window's Location, as the page's script sees it: URLs assigned to it are mapped. (A
 * frame's first about:blank document has no Navigation API events, so the guard does not see them.)
 */
function locationWrapper(runtime: UrlRuntime, cache: WeakMap<object, Location>, location: Location): Location {
  let wrapped = cache.get(location);
  if (!wrapped) {
    const map = (u: unknown) => runtime.map(String(u));
    wrapped = new Proxy(location, {
      get(target, prop) {
        if (prop === 'assign' || prop === 'replace') return (url: string | URL) => target[prop](map(url));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
      set(target, prop, value) {
        return Reflect.set(target, prop, prop === 'href' ? map(value) : value);
      },
    });
    cache.set(location, wrapped);
  }
  return wrapped;
}

/** Whether `value` is a window (a WindowProxy, of any origin: `window` is readable across origins). */
function isWindow(value: unknown): value is Window {
  if (value === window) return true;
  if (value === null || typeof value !== 'object') return false;
  try {
    return (value as { window?: unknown }).window === value;
  } catch {
    return false;
  }
}

/** Properties of a window that hold windows (its own, its top, parent and opener, frames by index or name). */
const WINDOW_VALUED = new Set(['top', 'parent', 'opener', 'frames', 'self', 'window']);

/** Wraps other windows so that `w.postMessage(msg, realOrigin)` reaches them; same window, same wrapper. */
function windowWrapper(runtime: UrlRuntime, nativePostMessage: Window['postMessage']): (w: Window | null) => Window | null {
  const cache = new WeakMap<object, Window>();
  const locations = new WeakMap<object, Location>();
  const wrap = (w: Window | null): Window | null => {
    if (!w || w === window) return w;
    adoptWindow(
      w,
      () => runtime.tagSettings(),
      () => runtime.bundleSource(),
    );
    guardNavigations(w, runtime);
    let wrapped = cache.get(w);
    if (!wrapped) {
      // A same-origin window's own postMessage is its runtime's replacement, a function of that
      // window's realm: the message would name that window as its source (HTML: the incumbent
      // global's). This window's native postMessage keeps this window the source.
      const send = (...args: unknown[]) => {
        let sameOrigin = false;
        try {
          sameOrigin = w.document !== undefined;
        } catch {
          // Cross-origin: its postMessage is the browser's own.
        }
        return sameOrigin ? (nativePostMessage as (...a: unknown[]) => void).apply(w, args) : (w.postMessage as (...a: unknown[]) => void).apply(w, args);
      };
      const post = (message: unknown, targetOrigin?: unknown, transfer?: Transferable[]) =>
        typeof targetOrigin === 'string' ? send(message, runtime.proxiedOriginOf(targetOrigin), transfer) : send(message, targetOrigin);
      // Its functions, called on the wrapper, run on the window itself; their own properties stay
      // reachable (`w.Object.keys`, `w.Document.prototype`: a bound function has neither).
      const methods = new WeakMap<object, unknown>();
      const method = (fn: object): unknown => {
        let m = methods.get(fn);
        if (!m) {
          m = new Proxy(fn, {
            apply: (f, self, args) =>
              Reflect.apply(f as (...a: unknown[]) => unknown, self === wrapped || self === undefined || self === null ? w : self, args),
          });
          methods.set(fn, m);
        }
        return m;
      };
      wrapped = new Proxy(w, {
        get(target, prop) {
          if (prop === 'postMessage') return post;
          if (prop === 'location') return locationWrapper(runtime, locations, target.location);
          const value = Reflect.get(target, prop) as unknown;
          if (typeof value === 'function') return method(value);
          // The windows reached from this one (`parent.frames[1]`, `opener.top`) are wrapped too.
          return typeof prop === 'string' && (WINDOW_VALUED.has(prop) || typeof value === 'object') && isWindow(value) ? wrap(value) : value;
        },
        set(target, prop, value) {
          return Reflect.set(target, prop, prop === 'location' ? runtime.map(String(value)) : value);
        },
      });
      cache.set(w, wrapped);
    }
    return wrapped;
  };
  return wrap;
}

/** Installs the runtime in this window. */
export function installUrlRuntime(runtime: UrlRuntime): void {
  const map = (u: string) => runtime.map(u);
  installNetworkHooks(window, runtime);
  installImportHook(window, runtime);
  const sendBeacon = Navigator.prototype.sendBeacon;
  Navigator.prototype.sendBeacon = function (this: Navigator, url: string | URL, data?: BodyInit | null) {
    const mapped = map(String(url));
    runtime.entry.enterNow(mapped);
    return sendBeacon.call(this, mapped, data);
  };
  // The opened window is handed out as event.source hands it out (one wrapper per window), so
  // that `event.source === popup` holds, as the OAuth popups of sites check.
  const wrapWindow = windowWrapper(runtime, window.postMessage);
  // The gateway wraps a script's `top.location`, `top.postMessage`, `window.top.location`, ... in
  // this hook (gateway/rewrite/js-top.ts): `top` itself cannot be replaced ([LegacyUnforgeable]),
  // and a navigation of the top window that a cross-origin frame starts reaches no runtime.
  if (!Object.hasOwn(window, TOP_HOOK)) {
    Object.defineProperty(window, TOP_HOOK, {
      value: (value: unknown) => (value !== window && value === window.top ? wrapWindow(value as Window) : value),
      configurable: false,
      enumerable: false,
      writable: false,
    });
  }
  installStringCodeMapping();
  const windowOpen = window.open;
  window.open = function (this: Window, url?: string | URL, ...rest: unknown[]) {
    const target = url === undefined || url === '' ? url : runtime.mapFrame(String(url));
    const opened = (windowOpen as (...a: unknown[]) => Window | null).call(this, target, ...rest);
    return wrapWindow(opened);
  } as typeof window.open;
  guardNavigations(window, runtime);
  guardTargetedLinks(runtime);

  const frames = { url: (u: string) => runtime.mapFrame(u), srcdoc: (html: string) => runtime.mapSrcdoc(html) };
  installElementUrls(map, frames);
  installMarkupMapping(map, frames);
  installCssMapping(map);
  installStyleTextMapping(map);
  installScriptTextMapping(map);

  // postMessage target origins name real origins; the browser only knows the proxied ones. The
  // window objects a page posts to (its own, its opener, frames, event sources) are handed out
  // wrapped, so that their postMessage maps the target origin.
  const postMessage = window.postMessage.bind(window);
  window.postMessage = ((message: unknown, targetOrigin?: unknown, transfer?: Transferable[]) =>
    typeof targetOrigin === 'string'
      ? postMessage(message, runtime.proxiedOriginOf(targetOrigin), transfer)
      : postMessage(message, targetOrigin as WindowPostMessageOptions)) as typeof window.postMessage;
  const openerDesc = Object.getOwnPropertyDescriptor(window, 'opener');
  if (openerDesc?.get && window.opener) {
    const getOpener = openerDesc.get;
    Object.defineProperty(window, 'opener', { configurable: true, get: () => wrapWindow(getOpener.call(window) as Window | null), set: openerDesc.set });
  }
  // `frames[i]` and `frames.name` hand out the child windows wrapped (`frames` is [Replaceable];
  // `window[i]` is the window itself and cannot be).
  const framesDesc = Object.getOwnPropertyDescriptor(window, 'frames');
  if (framesDesc?.get) {
    const view = new Proxy(window, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        // Methods run on the window itself; constructors (with a prototype) are handed out as they are.
        if (typeof value === 'function') return 'prototype' in value ? value : (value as (...a: unknown[]) => unknown).bind(target);
        return typeof prop === 'string' && value !== target && isWindow(value) ? wrapWindow(value) : value;
      },
      set(target, prop, value) {
        return Reflect.set(target, prop, value);
      },
    });
    Object.defineProperty(window, 'frames', { configurable: true, get: () => view, set: framesDesc.set });
  }
  // A frame's `parent.postMessage(msg, realOrigin)`. (`top` is unforgeable: the hook above stands in for it.)
  const parentDesc = Object.getOwnPropertyDescriptor(window, 'parent');
  if (parentDesc?.get && window.parent !== window) {
    const getParent = parentDesc.get;
    Object.defineProperty(window, 'parent', { configurable: true, get: () => wrapWindow(getParent.call(window) as Window | null), set: parentDesc.set });
  }
  for (const [proto, prop] of [
    [MessageEvent.prototype, 'source'],
    [HTMLIFrameElement.prototype, 'contentWindow'],
  ] as const) {
    const desc = Object.getOwnPropertyDescriptor(proto, prop);
    if (!desc?.get) continue;
    const get = desc.get;
    Object.defineProperty(proto, prop, {
      configurable: true,
      get(this: unknown) {
        return wrapWindow(get.call(this) as Window | null);
      },
    });
  }
  // A same-origin frame's document reached from here: its window gets the runtime first (child-windows.ts).
  for (const proto of [HTMLIFrameElement.prototype, HTMLFrameElement.prototype]) {
    const desc = Object.getOwnPropertyDescriptor(proto, 'contentDocument');
    if (!desc?.get) continue;
    const get = desc.get;
    Object.defineProperty(proto, 'contentDocument', {
      configurable: true,
      get(this: unknown) {
        const doc = get.call(this) as Document | null;
        if (doc?.defaultView)
          adoptWindow(
            doc.defaultView,
            () => runtime.tagSettings(),
            () => runtime.bundleSource(),
          );
        return doc;
      },
    });
  }
  const originDesc = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'origin');
  if (originDesc?.get) {
    const getOrigin = originDesc.get;
    Object.defineProperty(MessageEvent.prototype, 'origin', {
      configurable: true,
      get(this: MessageEvent) {
        return runtime.realOriginOf(getOrigin.call(this) as string);
      },
    });
  }

  // The site's service workers would bypass the gateway: they are not registered.
  if ('serviceWorker' in navigator) {
    Object.defineProperty(ServiceWorkerContainer.prototype, 'register', {
      configurable: true,
      value: () => Promise.reject(new DOMException('Service workers are disabled while cobrowsing.', 'SecurityError')),
    });
  }
}
