// Client runtime of the rewriting proxy: URLs the site's script builds at run time are mapped to
// the gateway before the browser uses them, so that nothing reaches a real origin directly.
// Same-origin and relative URLs need nothing (each origin has a proxied host of its own).

import { installMarkupMapping } from './markup-mapping.js';

/** Where the gateway maps a real URL to its proxied form (synchronously, for origins not seen yet). */
const MAP_ENDPOINT = '/__cobrowse/map';

type Table = Map<string, string>;

/** Maps URLs for this page; built from the origin table the gateway embedded. */
export class UrlRuntime {
  private readonly realToProxied: Table = new Map();
  private readonly proxiedToReal: Table = new Map();
  private readonly NativeXHR = XMLHttpRequest;
  /** Proxied origins whose host does not hold this participant's cookie yet. */
  private readonly needsEntry = new Set<string>();
  private readonly entering = new Map<string, Promise<void>>();

  constructor(
    table: Record<string, string>,
    /** The real origin of this page. */
    readonly realOrigin: string,
    needsEntry: readonly string[] = [],
  ) {
    for (const [real, proxied] of Object.entries(table)) this.remember(real, proxied);
    this.remember(realOrigin, location.origin);
    for (const origin of needsEntry) this.needsEntry.add(origin);
  }

  /** True for a host of this session on the gateway (`o<n>--<session>.<base>`), already proxied. */
  private isSessionHost(host: string): boolean {
    const suffix = location.host.slice(location.host.indexOf('--'));
    return /^o\d+--/.test(host) && host.slice(host.indexOf('--')) === suffix;
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

  /**
   * Resolves once `url`'s proxied host holds this participant's cookie: a hidden frame on this
   * host hands the identity over (a one-time ticket redirect), once per origin.
   */
  ensureEntered(url: string): Promise<void> {
    let origin: string;
    try {
      origin = new URL(url, location.href).origin;
    } catch {
      return Promise.resolve();
    }
    if (!this.needsEntry.has(origin)) return Promise.resolve();
    let pending = this.entering.get(origin);
    if (!pending) {
      const label = new URL(origin).hostname.split('--')[0] ?? '';
      pending = new Promise<void>((resolve) => {
        const frame = document.createElement('iframe');
        frame.setAttribute('data-cobrowse', '');
        frame.setAttribute('aria-hidden', 'true');
        frame.style.display = 'none';
        const done = () => {
          this.needsEntry.delete(origin);
          resolve();
          setTimeout(() => frame.remove(), 0);
        };
        frame.addEventListener('load', done, { once: true });
        setTimeout(done, 5000);
        frame.src = `/__cobrowse/cross-enter?label=${encodeURIComponent(label)}`;
        document.documentElement.appendChild(frame);
      });
      this.entering.set(origin, pending);
    }
    return pending;
  }

  /** Starts handing the identity to every origin that needs it. */
  enterAll(): void {
    for (const origin of [...this.needsEntry]) void this.ensureEntered(origin);
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

  /** The real origin behind a proxied one (for event.origin); unknown origins are returned as they are. */
  realOriginOf(origin: string): string {
    return this.proxiedToReal.get(origin) ?? origin;
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
    xhr.open('GET', `${MAP_ENDPOINT}?origin=${encodeURIComponent(origin)}`, false);
    xhr.send();
    const proxied = xhr.status === 200 ? xhr.responseText.trim() : '';
    const result = proxied || `${location.origin}/__cobrowse/blocked-origin/${encodeURIComponent(origin)}`;
    this.remember(origin, result);
    if (proxied) this.needsEntry.add(proxied);
    return result;
  }
}

function wrapUrlArg<T extends object>(proto: T, name: string, index: number, map: (u: string) => string): void {
  const original = (proto as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      if (args[index] !== undefined && args[index] !== null) args[index] = map(String(args[index]));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    },
  });
}

function wrapUrlProperty(proto: object, prop: string, map: (u: string) => string): void {
  const desc = Object.getOwnPropertyDescriptor(proto, prop);
  if (!desc?.set || !desc.get) return;
  const { get, set } = desc;
  Object.defineProperty(proto, prop, {
    configurable: true,
    enumerable: desc.enumerable ?? true,
    get,
    set(this: unknown, value: unknown) {
      set.call(this, map(String(value)));
    },
  });
}

/** Wraps other windows so that `w.postMessage(msg, realOrigin)` reaches them; same window, same wrapper. */
function windowWrapper(runtime: UrlRuntime): (w: Window | null) => Window | null {
  const cache = new WeakMap<object, Window>();
  return (w) => {
    if (!w || w === window) return w;
    let wrapped = cache.get(w);
    if (!wrapped) {
      const post = (message: unknown, targetOrigin?: unknown, transfer?: Transferable[]) =>
        typeof targetOrigin === 'string'
          ? w.postMessage(message, runtime.proxiedOriginOf(targetOrigin), transfer)
          : w.postMessage(message, targetOrigin as WindowPostMessageOptions);
      wrapped = new Proxy(w, {
        get(target, prop) {
          if (prop === 'postMessage') return post;
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
        set(target, prop, value) {
          return Reflect.set(target, prop, value);
        },
      });
      cache.set(w, wrapped);
    }
    return wrapped;
  };
}

/** Element properties and attributes that hold a URL the browser loads or navigates to. */
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
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'poster', 'xlink:href']);

/** Installs the runtime in this window. */
export function installUrlRuntime(runtime: UrlRuntime): void {
  const map = (u: string) => runtime.map(u);
  const w = window as unknown as Record<string, unknown>;

  const nativeFetch = window.fetch;
  window.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    const url = map(input instanceof Request ? input.url : String(input));
    const request = input instanceof Request ? (url === input.url ? input : new Request(url, input)) : url;
    if (!runtime.isOtherSessionHost(url)) return nativeFetch.call(this, request, init);
    // The other host identifies the participant by its cookie: the request is credentialed.
    return runtime.ensureEntered(url).then(() => nativeFetch.call(this, request, { ...init, credentials: 'include' }));
  } as typeof fetch;
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  const crossTarget = new WeakMap<XMLHttpRequest, { url: string; async: boolean }>();
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    const mapped = map(String(url));
    if (runtime.isOtherSessionHost(mapped)) crossTarget.set(this, { url: mapped, async: rest[0] !== false });
    else crossTarget.delete(this);
    return (open as (...a: unknown[]) => void).call(this, method, mapped, ...rest);
  } as typeof XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const cross = crossTarget.get(this);
    if (!cross) return send.call(this, body);
    this.withCredentials = true;
    if (!cross.async) return send.call(this, body);
    void runtime.ensureEntered(cross.url).then(() => send.call(this, body));
  };
  wrapUrlArg(Navigator.prototype, 'sendBeacon', 0, map);
  wrapUrlArg(window, 'open', 0, map);

  for (const name of ['WebSocket', 'EventSource', 'Worker', 'SharedWorker']) {
    const Native = w[name] as (new (...args: unknown[]) => object) | undefined;
    if (typeof Native !== 'function') continue;
    const isWs = name === 'WebSocket';
    const Wrapped = function (this: unknown, url: unknown, ...rest: unknown[]) {
      return new Native(runtime.map(String(url), isWs), ...rest);
    } as unknown as { prototype: object };
    Wrapped.prototype = Native.prototype;
    for (const key of Object.getOwnPropertyNames(Native)) {
      if (!(key in Function.prototype)) Object.defineProperty(Wrapped, key, Object.getOwnPropertyDescriptor(Native, key) as PropertyDescriptor);
    }
    w[name] = Wrapped;
  }

  for (const [ctor, prop] of URL_PROPERTIES) {
    const C = w[ctor] as { prototype: object } | undefined;
    if (C) wrapUrlProperty(C.prototype, prop, map);
  }
  installMarkupMapping(map);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name: string, value: string) {
    return setAttribute.call(this, name, URL_ATTRIBUTES.has(name.toLowerCase()) && !this.localName.includes('-') ? map(String(value)) : value);
  };

  // postMessage target origins name real origins; the browser only knows the proxied ones. The
  // window objects a page posts to (its own, its opener, frames, event sources) are handed out
  // wrapped, so that their postMessage maps the target origin.
  const postMessage = window.postMessage.bind(window);
  window.postMessage = ((message: unknown, targetOrigin?: unknown, transfer?: Transferable[]) =>
    typeof targetOrigin === 'string'
      ? postMessage(message, runtime.proxiedOriginOf(targetOrigin), transfer)
      : postMessage(message, targetOrigin as WindowPostMessageOptions)) as typeof window.postMessage;
  const wrapWindow = windowWrapper(runtime);
  const openerDesc = Object.getOwnPropertyDescriptor(window, 'opener');
  if (openerDesc?.get && window.opener) {
    const getOpener = openerDesc.get;
    Object.defineProperty(window, 'opener', { configurable: true, get: () => wrapWindow(getOpener.call(window) as Window | null), set: openerDesc.set });
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
