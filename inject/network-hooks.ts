// The network APIs of a page or a worker, wrapped so that the URLs the site's script builds go
// to the gateway (`UrlRuntime.map`), and credentialed requests to the session's other hosts carry
// the participant's cookie (the host entered first).

import { decodeDataUrl } from '../protocol/data-url.js';
import { FORBIDDEN_METHODS, METHOD_HEADER, METHOD_TOKEN, SERVER_METHODS } from '../protocol/runtime-requests.js';
import type { UrlRuntime } from './url-runtime.js';

/** Where a proxied host serves the worker runtime (for workers made from blob: and data: URLs). */
const WORKER_RUNTIME = '/__cobrowse/inject-worker.js';

/** The globals wrapped here; a window and a worker scope both have them. */
type NetworkScope = typeof globalThis & { XMLHttpRequest: typeof XMLHttpRequest; document?: Document };

/** Wraps fetch, fetchLater, XMLHttpRequest, WebSocket, EventSource, Worker and SharedWorker of `scope`. */
export function installNetworkHooks(scope: NetworkScope, runtime: UrlRuntime): void {
  const map = (u: string) => runtime.map(u);
  const w = scope as unknown as Record<string, unknown>;

  const nativeFetch = scope.fetch;
  const ownOrigin = (url: string) => {
    try {
      return new URL(url, scope.document?.baseURI ?? scope.location.href).origin === scope.location.origin;
    } catch {
      return false;
    }
  };
  /** What fetch and fetchLater are given, with the URL mapped and a method the gateway's server does not take tunneled. */
  const prepared = (input: RequestInfo | URL, init: RequestInit | undefined): { url: string; request: RequestInfo; init: RequestInit | undefined } => {
    const url = map(input instanceof Request ? input.url : String(input));
    let request: RequestInfo = input instanceof Request ? (url === input.url ? input : new Request(url, input)) : url;
    const tunnel = tunneledMethod(String(init?.method ?? (input instanceof Request ? input.method : 'GET')));
    if (tunnel !== null && ownOrigin(url)) {
      const asked = new Request(request, init);
      const headers = new Headers(asked.headers);
      headers.set(METHOD_HEADER, tunnel);
      request = new Request(asked, { method: 'POST', headers });
      // fetchLater's own option stays.
      const activateAfter = (init as { activateAfter?: number } | undefined)?.activateAfter;
      init = activateAfter === undefined ? undefined : ({ activateAfter } as RequestInit);
    }
    return { url, request, init };
  };
  // fetchLater (Fetch Later API): sent when the page goes away or after a delay, by the browser.
  // Not mapped (left to the containment policy, which drops it): a Request with a body whose URL
  // changes, since a Request made anew holds its body as a stream, which fetchLater refuses.
  const nativeFetchLater = w.fetchLater as ((input: RequestInfo | URL, init?: RequestInit) => unknown) | undefined;
  if (typeof nativeFetchLater === 'function') {
    w.fetchLater = function (this: unknown, ...args: unknown[]) {
      // Too few arguments throw as the native call does.
      if (args.length === 0) return Reflect.apply(nativeFetchLater, this, args);
      const [input, init] = args as [RequestInfo | URL, RequestInit | undefined];
      if (input instanceof Request && input.body !== null && map(input.url) !== input.url) return nativeFetchLater.call(this, input, init);
      const p = prepared(input, init);
      // A credentialed request to another host of the session carries the participant's cookie once
      // that host has it: it is entered now (the request may leave only when the page goes).
      const credentials = p.init?.credentials ?? (p.request instanceof Request ? p.request.credentials : 'same-origin');
      if (credentials === 'include' && runtime.isOtherSessionHost(p.url)) runtime.entry.enterNow(p.url);
      return nativeFetchLater.call(this, p.request, p.init);
    };
  }
  scope.fetch = function (this: unknown, input: RequestInfo | URL, givenInit?: RequestInit) {
    const { url, request, init } = prepared(input, givenInit);
    // As on the real site, only a request that asks for credentials carries a cookie to another
    // origin: then the participant's, once the other host has it (entered first), and the gateway
    // adds the session's cookies of that site. Others go without it, and the gateway proxies them
    // without the session's cookies (proxied-host.ts); either way the site's CORS answer decides.
    const credentials = init?.credentials ?? (request instanceof Request ? request.credentials : 'same-origin');
    if (credentials !== 'include' || !runtime.isOtherSessionHost(url)) return nativeFetch.call(this, request, init);
    return runtime.entry.enter(url).then(() => nativeFetch.call(this, request, init));
  } as typeof fetch;
  const open = scope.XMLHttpRequest.prototype.open;
  const send = scope.XMLHttpRequest.prototype.send;
  const crossTarget = new WeakMap<XMLHttpRequest, { url: string; async: boolean }>();
  scope.XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    const mapped = map(String(url));
    if (runtime.isOtherSessionHost(mapped)) crossTarget.set(this, { url: mapped, async: rest[0] !== false });
    else crossTarget.delete(this);
    const tunnel = tunneledMethod(String(method));
    if (tunnel === null || !ownOrigin(mapped)) return (open as (...a: unknown[]) => void).call(this, method, mapped, ...rest);
    (open as (...a: unknown[]) => void).call(this, 'POST', mapped, ...rest);
    this.setRequestHeader(METHOD_HEADER, tunnel);
  } as typeof scope.XMLHttpRequest.prototype.open;
  scope.XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const cross = crossTarget.get(this);
    if (!cross || !this.withCredentials) return send.call(this, body);
    if (!cross.async) {
      runtime.entry.enterNow(cross.url);
      return send.call(this, body);
    }
    void runtime.entry.enter(cross.url).then(() => send.call(this, body));
  };
  const bootstraps = new Map<string, string>();
  const dataBlobs = new Map<string, string>();
  for (const name of ['WebSocket', 'EventSource', 'Worker', 'SharedWorker']) {
    const Native = w[name] as (new (...args: unknown[]) => object) | undefined;
    if (typeof Native !== 'function') continue;
    const isWs = name === 'WebSocket';
    const Wrapped = function (this: unknown, url: unknown, ...rest: unknown[]) {
      const mapped = runtime.map(String(url), isWs);
      if (isWs || name === 'EventSource') {
        // These cannot wait for the other host to get the participant cookie. A WebSocket always
        // sends it; an EventSource only when asked to (withCredentials), as on the real site.
        const credentialed = isWs || (rest[0] as EventSourceInit | undefined)?.withCredentials === true;
        if (credentialed && runtime.isOtherSessionHost(mapped.replace(/^ws/, 'http'))) runtime.entry.enterNow(mapped.replace(/^ws/, 'http'));
      }
      if (name === 'Worker' || name === 'SharedWorker') {
        const blobUrl = /^data:/i.test(mapped) ? blobOfData(mapped, dataBlobs) : mapped;
        if (blobUrl.startsWith('blob:')) return new Native(blobBootstrap(runtime, blobUrl, rest[0], bootstraps), ...rest);
      }
      return new Native(mapped, ...rest);
    } as unknown as { prototype: object };
    Wrapped.prototype = Native.prototype;
    for (const key of Object.getOwnPropertyNames(Native)) {
      if (!(key in Function.prototype)) Object.defineProperty(Wrapped, key, Object.getOwnPropertyDescriptor(Native, key) as PropertyDescriptor);
    }
    w[name] = Wrapped;
  }
}

/**
 * The method a request of the page's `method` goes to its own host with as METHOD_HEADER, or null
 * when it goes as it is (one the gateway's server takes, or one fetch and XHR refuse themselves,
 * which they then do). Names are normalized as fetch does (`delete` is DELETE, `patch` stays).
 */
export function tunneledMethod(method: string): string | null {
  const upper = method.toUpperCase();
  const normalized = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(upper) ? upper : method;
  if (SERVER_METHODS.includes(normalized) || FORBIDDEN_METHODS.includes(upper) || !METHOD_TOKEN.test(method)) return null;
  return normalized;
}

/**
 * A worker made from a data: URL runs in an opaque origin that could not even load the worker
 * runtime with the participant's cookie: its script is started from a blob: with the same bytes
 * instead (and then like any blob: worker). The difference the site's code can see: the worker's
 * origin is the page's (its `location` is blob:, its requests say `Origin: <page>`, not `null`).
 * One blob per data: URL, so that SharedWorkers of the same URL still share one worker.
 */
function blobOfData(dataUrl: string, cache: Map<string, string>): string {
  let url = cache.get(dataUrl);
  if (url === undefined) {
    const body = decodeDataUrl(dataUrl);
    url = body ? URL.createObjectURL(new Blob([body.bytes as BlobPart], { type: body.type })) : dataUrl;
    cache.set(dataUrl, url);
  }
  return url;
}

/**
 * A worker made from a blob: URL runs code the gateway never served, so it gets no prelude: it is
 * started from a bootstrap blob that sets the worker runtime up and then runs the original. One
 * bootstrap per blob, so that SharedWorkers of the same blob still share one worker.
 */
function blobBootstrap(runtime: UrlRuntime, blobUrl: string, options: unknown, cache: Map<string, string>): string {
  const module = typeof options === 'object' && options !== null && (options as WorkerOptions).type === 'module';
  const key = `${module ? 'module' : 'classic'} ${blobUrl}`;
  let url = cache.get(key);
  if (!url) {
    const blob = (text: string) => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    const settings = `self.__cobrowseWorker=${JSON.stringify(runtime.workerSettings())};`;
    const runtimeUrl = `${runtime.gateway}${WORKER_RUNTIME}`;
    url = module
      ? blob(`import ${JSON.stringify(blob(settings))};import ${JSON.stringify(runtimeUrl)};import ${JSON.stringify(blobUrl)};`)
      : blob(`${settings}importScripts(${JSON.stringify(runtimeUrl)},${JSON.stringify(blobUrl)});`);
    cache.set(key, url);
  }
  return url;
}
