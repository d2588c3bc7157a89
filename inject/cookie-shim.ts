// document.cookie and cookieStore in the host's page, backed by the session's jar on the gateway.
// Reads come from a local copy kept fresh by the hub (and read again when the page came from the
// browser's cache); a write is stored in the jar (synchronously) before the page can send its next
// request, so the site's next fetch carries it.
//
// The browser's own accessors are made unreachable for the site's scripts: a real cookie set on
// the gateway's parent domain would reach every session's hosts in this browser (a planted
// `__cobrowse` cookie, or enough large cookies that the gateway drops every request). The accessor on
// Document.prototype (where Chromium defines it; HTMLDocument.prototype too where a browser does)
// is replaced, for every document of the realm, and CookieStore.prototype's methods are; the
// originals are kept nowhere. The same is done to each same-origin window the page reaches
// (about:blank and srcdoc frames, blank popups: child-windows.ts), whose realm is pristine; such a
// document has no jar view of its own and uses its parent's (or opener's), as the browser gives an
// about:blank document its creator's cookies.

import { realDomainOf } from '../protocol/cookie-domain.js';
import { RUNTIME_HEADER, RUNTIME_HEADER_VALUE } from '../protocol/runtime-requests.js';

/** Where the gateway serves the page's script-visible cookies (JSON: {cookies, expires}; only with the runtime's header). */
const COOKIE_ENDPOINT = '/__cobrowse/cookies';

/** The endpoint's answer: the script view and when its first cookie expires (ms, 0: none). */
function parseAnswer(text: string): { cookies: string; expires: number } {
  const answer = JSON.parse(text) as { cookies?: unknown; expires?: unknown };
  if (typeof answer.cookies !== 'string') throw new Error('unexpected cookie answer');
  return { cookies: answer.cookies, expires: Number(answer.expires ?? 0) || 0 };
}

/** A window's jar access, for the documents it makes (about:blank, srcdoc) and for calls from other realms. */
const ACCESS_MARK = '__cobrowseCookies';

const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

/** A cookie as cookieStore hands it out: the jar's script view has names and values only. */
interface CookieItem {
  name: string;
  value: string;
}

/** Called with the cookieStore it was registered for (held weakly: a removed frame's window is not kept alive). */
type ChangeListener = (store: EventTarget, changed: CookieItem[], deleted: { name: string }[]) => void;

/** What the guarded accessors of a realm read and write. */
export interface CookieAccess {
  /** document.cookie as the jar shows it to this page. */
  read(): string;
  /** Stores one document.cookie assignment; false when the jar could not be reached. */
  write(assignment: string): boolean;
  /** The real site's host of the page (cookieStore's domain check), '' when there is no jar. */
  readonly host: string;
  /** The path of the page whose view `read` is (the jar's view is for it). */
  path(): string;
  /** False when no jar backs this document: reads are empty, writes are ignored, cookieStore rejects. */
  readonly available: boolean;
  /** Calls `listener` with `store` at each change of the view (once per store). */
  listen(store: EventTarget, listener: ChangeListener): void;
}

/** The installed shim. */
export interface CookieShim {
  /** Reloads the copy from the jar (after the hub says it changed). */
  refresh(): void;
}

/** The access of this realm's own documents (null before one is installed). */
let realmAccess: CookieAccess | null = null;

function parseView(text: string): CookieItem[] {
  const items: CookieItem[] = [];
  for (const part of text.split(';')) {
    const pair = part.trim();
    if (!pair) continue;
    const eq = pair.indexOf('=');
    items.push(eq === -1 ? { name: '', value: pair } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) });
  }
  return items;
}

/** What changed between two views (cookieStore's change event). */
function diffViews(before: string, after: string): { changed: CookieItem[]; deleted: { name: string }[] } {
  const old = new Map(parseView(before).map((c) => [c.name, c.value]));
  const now = new Map(parseView(after).map((c) => [c.name, c.value]));
  const changed: CookieItem[] = [];
  const deleted: { name: string }[] = [];
  for (const [name, value] of now) if (old.get(name) !== value) changed.push({ name, value });
  for (const name of old.keys()) if (!now.has(name)) deleted.push({ name });
  return { changed, deleted };
}

/** No jar for this document (no parent page with one): empty, and nothing reaches the browser's store. */
function closedAccess(): CookieAccess {
  return {
    read: () => '',
    write: () => {
      console.warn('[cobrowse] document.cookie is not available in this document while cobrowsing; the cookie was not set.');
      return false;
    },
    host: '',
    path: () => '/',
    available: false,
    listen: () => {},
  };
}

function isAccess(value: unknown): value is CookieAccess {
  return (
    typeof value === 'object' && value !== null && typeof (value as CookieAccess).read === 'function' && typeof (value as CookieAccess).write === 'function'
  );
}

/**
 * Replaces document.cookie and cookieStore; `initial` is what the gateway embedded in the page,
 * `host` the real site's host. Null when not installed (no `initial`: see inheritCookieShim).
 */
export function installCookieShim(initial: string | undefined, initialExpiry: string | undefined, host = location.hostname): CookieShim | null {
  if (initial === undefined) return null;
  // Saved now: the site may patch these later.
  const NativeXHR = XMLHttpRequest;
  const nativeFetch = fetch.bind(window);
  let copy = initial;
  // When a cookie of the copy expires, the next read fetches the jar's view (once) before answering.
  let expiresAt = Number(initialExpiry ?? 0) || 0;
  const listeners: { store: WeakRef<EventTarget>; listener: ChangeListener }[] = [];
  const listening = new WeakSet<EventTarget>();
  const endpoint = () => `${COOKIE_ENDPOINT}?path=${encodeURIComponent(location.pathname)}`;
  // Bumped by every view a write or a synchronous read takes: a refresh answered before one of
  // them may not have its cookie, and is not taken (see refresh).
  let version = 0;
  const take = (answer: string) => {
    const { cookies: text, expires } = parseAnswer(answer);
    const before = copy;
    copy = text;
    expiresAt = expires;
    if (before === text || listeners.length === 0) return;
    const { changed, deleted } = diffViews(before, text);
    if (changed.length + deleted.length === 0) return;
    for (let i = listeners.length - 1; i >= 0; i--) {
      const entry = listeners[i] as (typeof listeners)[number];
      const store = entry.store.deref();
      if (!store) {
        listeners.splice(i, 1);
        continue;
      }
      try {
        entry.listener(store, changed, deleted);
      } catch (err) {
        console.debug('[cobrowse] cookie change listener failed', err);
      }
    }
  };
  const readSync = () => {
    try {
      const xhr = new NativeXHR();
      xhr.open('GET', endpoint(), false);
      xhr.setRequestHeader(RUNTIME_HEADER, RUNTIME_HEADER_VALUE);
      xhr.send();
      if (xhr.status === 200) {
        version++;
        take(xhr.responseText);
      } else expiresAt = 0;
    } catch (err) {
      expiresAt = 0;
      console.debug('[cobrowse] cookie read failed', err);
    }
  };
  const access: CookieAccess = {
    read: () => {
      if (expiresAt && Date.now() >= expiresAt) readSync();
      return copy;
    },
    write: (assignment) => {
      try {
        const xhr = new NativeXHR();
        xhr.open('POST', endpoint(), false);
        xhr.setRequestHeader('content-type', 'text/plain;charset=utf-8');
        xhr.setRequestHeader(RUNTIME_HEADER, RUNTIME_HEADER_VALUE);
        xhr.send(assignment);
        if (xhr.status !== 200) return false;
        version++;
        take(xhr.responseText);
        return true;
      } catch (err) {
        console.debug('[cobrowse] cookie write failed', err);
        return false;
      }
    },
    host: host.toLowerCase(),
    path: () => location.pathname,
    available: true,
    listen: (store, listener) => {
      if (listening.has(store)) return;
      listening.add(store);
      listeners.push({ store: new WeakRef(store), listener });
    },
  };
  realmAccess = access;
  guardCookies(window, access);
  guardInsertedFrames(window as Realm, access);
  // A page the browser took from its cache (fresh, revalidated by a 304, a back/forward or a
  // prefetched load) carries the view of when the gateway first served it; the jar may have
  // changed since (a login on another page). The real site's page reads the browser's store as
  // it is, so the view is read again before the site's first script runs. A page restored from
  // the back/forward cache is read again before the site hears of it.
  if (takenFromCache()) readSync();
  // Captured: before any listener of the site's, in the capture phase too.
  window.addEventListener(
    'pageshow',
    (event) => {
      if (event.persisted) readSync();
    },
    { capture: true },
  );

  // The jar's view again, without blocking (another participant or a response changed the jar). A
  // write of this page while it was on its way answered with a view that may be newer than this
  // one: taking this one would drop the cookie just written until the next change (a page that
  // sets a cookie and reads it back saw it gone). It asks again instead.
  const refresh = (): void => {
    const at = version;
    nativeFetch(endpoint(), { credentials: 'same-origin', cache: 'no-store', headers: { [RUNTIME_HEADER]: RUNTIME_HEADER_VALUE } })
      .then(async (res) => {
        if (!res.ok) throw new Error(`status ${res.status}`);
        const text = await res.text();
        if (version !== at) refresh();
        else take(text);
      })
      .catch((err: unknown) => console.debug('[cobrowse] cookie refresh failed', err));
  };
  return { refresh };
}

/** Whether this document's bytes came from the browser's cache rather than from the gateway just now. */
function takenFromCache(): boolean {
  try {
    const entry = performance.getEntriesByType('navigation')[0] as (PerformanceNavigationTiming & { deliveryType?: string }) | undefined;
    if (!entry) return false;
    const delivery = entry.deliveryType;
    if (delivery !== undefined) return delivery === 'cache' || delivery === 'navigational-prefetch';
    // A browser without deliveryType: a fresh hit transferred nothing (a 304 is not told apart there).
    return entry.transferSize === 0 && entry.encodedBodySize > 0;
  } catch {
    return false;
  }
}

/**
 * For a document the gateway did not serve (about:blank, srcdoc, blob:): its cookies are its
 * parent's (or its opener's) jar view when that window is of this origin and has one; else there
 * are none (reads are empty, writes warn and are not kept), and the browser's store is out of
 * reach all the same. (A blob: document is cookie-averse in Chromium: its own accessor sets nothing.)
 */
export function inheritCookieShim(): void {
  // An opaque origin (a data: document, a sandboxed frame): the browser's accessors throw there, as on the real site.
  if (self.origin === 'null') return;
  let found: CookieAccess | null = null;
  for (const other of [window.parent, window.opener as unknown]) {
    if (other === window || other === null || typeof other !== 'object') continue;
    try {
      const access = Reflect.get(other, ACCESS_MARK) as unknown;
      if (isAccess(access)) {
        found = access;
        break;
      }
    } catch {
      // Another origin.
    }
  }
  realmAccess = found ?? closedAccess();
  guardCookies(window, realmAccess);
  guardInsertedFrames(window as Realm, realmAccess);
}

/** Puts this realm's jar access on `win` (a same-origin window this page reached, before the site's script gets it). */
export function guardWindowCookies(win: Window): void {
  if (realmAccess) guardCookies(win, realmAccess);
}

type Realm = Window & typeof globalThis;

/** The cookie accessors and cookieStore methods of `win`'s realm, all through `access`. */
function guardCookies(target: Window, access: CookieAccess): void {
  const win = target as Realm;
  try {
    Object.defineProperty(win, ACCESS_MARK, { value: access, configurable: true, enumerable: false, writable: false });
  } catch (err) {
    console.debug('[cobrowse] cookie guard failed', err);
    return;
  }
  guardDocumentCookie(win, access);
  guardCookieStore(win, access);
}

function guardDocumentCookie(win: Realm, access: CookieAccess): void {
  const defaultViewOf = Object.getOwnPropertyDescriptor(win.Document.prototype, 'defaultView')?.get;
  // A document without a browsing context is cookie-averse (its cookie is '' and cannot be set);
  // another window's document goes through that window's access.
  const accessOf = (doc: unknown): CookieAccess | null => {
    let view: unknown;
    try {
      // Also the browser's check that `doc` is a Document (of any realm).
      view = defaultViewOf ? defaultViewOf.call(doc) : (doc as Document).defaultView;
    } catch {
      throw new win.TypeError('Illegal invocation');
    }
    if (!view) return null;
    if (view === win) return access;
    try {
      const other = Reflect.get(view as object, ACCESS_MARK) as unknown;
      if (isAccess(other)) return other;
    } catch {
      // Not readable: this realm's access.
    }
    return access;
  };
  // Named as the browser's are (`get cookie`, `set cookie`).
  const accessors = Object.getOwnPropertyDescriptor(
    {
      get cookie(): string {
        return accessOf(this)?.read() ?? '';
      },
      set cookie(value: string) {
        const assignment = String(value);
        accessOf(this)?.write(assignment);
      },
    },
    'cookie',
  ) as PropertyDescriptor;
  const protos: object[] = [win.Document.prototype];
  if (typeof win.HTMLDocument === 'function' && Object.hasOwn(win.HTMLDocument.prototype, 'cookie')) protos.push(win.HTMLDocument.prototype);
  for (const proto of protos) {
    Object.defineProperty(proto, 'cookie', { configurable: true, enumerable: true, get: accessors.get, set: accessors.set });
  }
  // An own property on a document (an earlier shim's) would stand before the prototype's.
  const doc = win.document as unknown as Record<string, unknown>;
  if (Object.hasOwn(doc, 'cookie')) delete doc.cookie;
}

interface StoreOptions {
  name?: unknown;
  value?: unknown;
  expires?: unknown;
  domain?: unknown;
  path?: unknown;
  sameSite?: unknown;
  url?: unknown;
}

/**
 * cookieStore's methods, expressed as document.cookie reads and assignments on the jar. What the
 * jar's script view cannot say is left out: items have a name and a value only (no domain, path,
 * expires, secure, sameSite), `url` options are read as this page's URL, `partitioned` is not
 * kept, and cookies are made Secure only with SameSite=None. A domain that is not the real site's
 * (or a parent of it) is a TypeError, a cookie the jar refused an UnknownError, as in Chromium. The
 * change event is dispatched on `cookieStore` when the view changes (the page's writes, the hub's
 * refresh), as a CookieChangeEvent of the realm whose view it is. Without a jar, every method rejects
 * (SecurityError).
 */
function guardCookieStore(win: Realm, access: CookieAccess): void {
  const Store = (win as unknown as { CookieStore?: new () => object }).CookieStore;
  if (typeof Store !== 'function') return;
  const proto = Store.prototype as Record<string, unknown>;
  const P = win.Promise;
  const typeError = (message: string) => P.reject(new win.TypeError(`Failed to execute on 'CookieStore': ${message}`));
  const unavailable = () =>
    P.reject(new win.DOMException('cookieStore is not available in this document while cobrowsing (no session jar backs it).', 'SecurityError'));
  const optionsOf = (arg: unknown): StoreOptions | null =>
    typeof arg === 'string' ? { name: arg } : arg === undefined || arg === null ? {} : typeof arg === 'object' ? (arg as StoreOptions) : null;
  const find = (arg: unknown): CookieItem[] | null => {
    const options = optionsOf(arg);
    if (!options) return null;
    const all = parseView(access.read());
    return options.name === undefined ? all : all.filter((c) => c.name === String(options.name));
  };
  const checkDomain = (domain: unknown): string | null => {
    if (domain === undefined || domain === null) return null;
    const written = String(domain).toLowerCase();
    if (written.startsWith('.')) throw new win.TypeError(`Failed to execute on 'CookieStore': Cookie domain cannot start with "."`);
    // The page's view of its host is the proxied host: a domain built from it is the real site's.
    const d = (access.host !== '' ? realDomainOf(written, location.hostname, access.host) : null) ?? written;
    if (access.host !== d && !access.host.endsWith(`.${d}`))
      throw new win.TypeError(`Failed to execute on 'CookieStore': Cookie domain must domain-match current host`);
    return d;
  };
  const checkPath = (path: unknown): string => {
    const p = path === undefined || path === null ? '/' : String(path);
    if (!p.startsWith('/')) throw new win.TypeError(`Failed to execute on 'CookieStore': Cookie path must start with "/"`);
    if (/[;\0-\x1f\x7f]/.test(p)) throw new win.TypeError(`Failed to execute on 'CookieStore': Cookie path contains an invalid character`);
    return p;
  };
  const assignment = (pairText: string, options: StoreOptions, expires: string | null): string => {
    let text = pairText;
    const domain = checkDomain(options.domain);
    text += `; path=${checkPath(options.path)}`;
    if (domain) text += `; domain=${domain}`;
    if (expires) text += `; expires=${expires}`;
    return text;
  };
  const store = (text: string) => {
    if (!access.write(text)) throw new win.DOMException('An unknown error occurred while writing the cookie.', 'UnknownError');
  };
  const methods: Record<string, (this: unknown, ...args: unknown[]) => Promise<unknown>> = {
    get(this: unknown, arg?: unknown) {
      if (typeof this !== 'object' || this === null) return typeError('Illegal invocation');
      if (!access.available) return unavailable();
      const found = find(arg);
      return found ? P.resolve(found[0] ?? null) : typeError('The provided value is not of type CookieStoreGetOptions.');
    },
    getAll(this: unknown, arg?: unknown) {
      if (typeof this !== 'object' || this === null) return typeError('Illegal invocation');
      if (!access.available) return unavailable();
      const found = find(arg);
      return found ? P.resolve(found) : typeError('The provided value is not of type CookieStoreGetOptions.');
    },
    set(this: unknown, ...args: unknown[]) {
      if (typeof this !== 'object' || this === null) return typeError('Illegal invocation');
      if (!access.available) return unavailable();
      try {
        let options: StoreOptions;
        if (typeof args[0] === 'string') {
          if (args.length < 2) return typeError('The provided value is not of type CookieInit.');
          options = { name: args[0], value: args[1] };
        } else if (typeof args[0] === 'object' && args[0] !== null) {
          options = args[0] as StoreOptions;
          if (options.name === undefined || options.value === undefined) return typeError('The provided value is not of type CookieInit.');
        } else {
          return typeError('The provided value is not of type CookieInit.');
        }
        const name = String(options.name);
        const value = String(options.value);
        if (/[;=\0-\x08\x0a-\x1f\x7f]/.test(name) || /[;\0-\x08\x0a-\x1f\x7f]/.test(value))
          return typeError('Cookie name or value contains an invalid character');
        if (name === '' && (value === '' || value.includes('='))) return typeError('Cookie name cannot be empty when its value is empty or contains "="');
        if (name.length + value.length > 4096) return typeError('Cookie name and value together are longer than 4096 characters');
        const sameSite = options.sameSite === undefined ? 'strict' : String(options.sameSite);
        if (sameSite !== 'strict' && sameSite !== 'lax' && sameSite !== 'none')
          return typeError(`The provided value '${sameSite}' is not a valid CookieSameSite.`);
        const expires = options.expires === undefined || options.expires === null ? null : new Date(Number(options.expires));
        if (expires && Number.isNaN(expires.getTime())) return typeError('The provided expires value is not a valid time.');
        const pair = name === '' ? value : `${name}=${value}`;
        // SameSite=None needs Secure (the jar refuses it otherwise, as Chromium does); the browser's cookieStore makes every cookie Secure.
        store(`${assignment(pair, options, expires ? expires.toUTCString() : null)}; samesite=${sameSite}${sameSite === 'none' ? '; secure' : ''}`);
        // A cookie the jar refused (an HttpOnly one of that name, Secure on an http site): rejected, as the browser's cookieStore does.
        const path = checkPath(options.path);
        const page = access.path();
        const visible = page === path || (page.startsWith(path) && (path.endsWith('/') || page[path.length] === '/'));
        const live = !expires || expires.getTime() > Date.now();
        if (visible && live && !parseView(access.read()).some((c) => c.name === name && c.value === value)) {
          return P.reject(new win.DOMException('An unknown error occurred while writing the cookie.', 'UnknownError'));
        }
        return P.resolve(undefined);
      } catch (err) {
        return P.reject(err);
      }
    },
    delete(this: unknown, arg?: unknown) {
      if (typeof this !== 'object' || this === null) return typeError('Illegal invocation');
      if (!access.available) return unavailable();
      try {
        const options = typeof arg === 'string' ? { name: arg } : typeof arg === 'object' && arg !== null ? (arg as StoreOptions) : null;
        if (!options || options.name === undefined) return typeError('The provided value is not of type CookieStoreDeleteOptions.');
        const name = String(options.name);
        store(assignment(name === '' ? '' : `${name}=`, options, EPOCH));
        return P.resolve(undefined);
      } catch (err) {
        return P.reject(err);
      }
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    // Named as the browser's method is.
    const replacement = {
      [name](this: unknown, ...args: unknown[]) {
        return fn.apply(this, args);
      },
    }[name] as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, name, {
      configurable: desc?.configurable ?? true,
      enumerable: desc?.enumerable ?? true,
      writable: desc?.writable ?? true,
      value: replacement,
    });
  }
  // The change event: dispatched on this window's cookieStore when the jar's view changes.
  let instance: EventTarget | null = null;
  try {
    instance = (Object.getOwnPropertyDescriptor(win, 'cookieStore')?.get?.call(win) as EventTarget | undefined) ?? null;
  } catch {
    instance = null;
  }
  // Nothing of `win` is held here but through the store the access holds weakly: the event is of this realm.
  if (instance) access.listen(instance, dispatchChange);
}

const dispatchEvent = EventTarget.prototype.dispatchEvent;

/** Fires cookieStore's change event on `store` (a task later, as the browser does). */
function dispatchChange(store: EventTarget, changed: CookieItem[], deleted: { name: string }[]): void {
  const ref = new WeakRef(store);
  setTimeout(() => {
    const target = ref.deref();
    if (!target) return;
    try {
      const ChangeEvent = (globalThis as unknown as { CookieChangeEvent?: new (type: string, init: object) => Event }).CookieChangeEvent;
      const event = ChangeEvent ? new ChangeEvent('change', { changed, deleted }) : Object.assign(new Event('change'), { changed, deleted });
      dispatchEvent.call(target, event);
    } catch (err) {
      console.debug('[cobrowse] cookie change event failed', err);
    }
  });
}

/**
 * Frames the page reaches without the hooks of child-windows.ts (`window[0]`, `window.name`,
 * which cannot be wrapped): each same-origin frame of this window's document is guarded as it
 * comes in, after each DOM call that can put an iframe into a document (before the call returns
 * to the site's script) and, for the parser's frames, from a MutationObserver (its callback runs
 * before the parser runs the next script). Only the cookie accessors: the URL runtime is put into
 * a frame when the page reaches it through contentWindow, contentDocument or frames.
 */
function guardInsertedFrames(win: Realm, access: CookieAccess): void {
  const lengthOf = Object.getOwnPropertyDescriptor(win, 'length')?.get;
  const ownerDocumentOf = Object.getOwnPropertyDescriptor(win.Node.prototype, 'ownerDocument')?.get;
  const defaultViewOf = Object.getOwnPropertyDescriptor(win.Document.prototype, 'defaultView')?.get;
  const startOf = Object.getOwnPropertyDescriptor(win.Range.prototype, 'startContainer')?.get;
  if (!ownerDocumentOf || !defaultViewOf) return;
  /** The frames of each window as last seen (only new ones are looked at). */
  const known = new WeakMap<object, unknown[]>();
  const sweep = (view: Window) => {
    const count = view === win && lengthOf ? (lengthOf.call(win) as number) : view.length;
    const last = known.get(view) ?? [];
    if (count === 0 && last.length === 0) return;
    const now: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const frame = (view as unknown as Record<number, Window | undefined>)[i];
      now.push(frame);
      if (!frame || last[i] === frame || last.includes(frame)) continue;
      try {
        // A cross-origin frame throws here; a frame with a runtime of its own has its mark. The
        // window's current access: a later runtime of this realm (a same-origin page that kept
        // the first about:blank's window) put its own.
        const current = Reflect.get(win, ACCESS_MARK) as unknown;
        if (!Object.hasOwn(frame, ACCESS_MARK)) guardCookies(frame, isAccess(current) ? current : access);
      } catch {
        // Another origin: its cookies are not this page's.
      }
    }
    known.set(view, now);
  };
  const sweepFrom = (node: unknown) => {
    try {
      const doc = (ownerDocumentOf.call(node) as Document | null) ?? node;
      const view = defaultViewOf.call(doc) as Window | null;
      if (view) sweep(view);
    } catch {
      // Not a node of a document with a window.
    }
  };
  const after = (proto: object | undefined, name: string, nodeOf: (self: unknown) => unknown = (self) => self) => {
    const desc = proto && Object.getOwnPropertyDescriptor(proto, name);
    if (!proto || !desc) return;
    if (typeof desc.value === 'function') {
      const original = desc.value as (...a: unknown[]) => unknown;
      const replacement = {
        [name](this: unknown, ...args: unknown[]) {
          try {
            return original.apply(this, args);
          } finally {
            sweepFrom(nodeOf(this));
          }
        },
      }[name];
      Object.defineProperty(proto, name, { ...desc, value: replacement });
    } else if (desc.set) {
      const set = desc.set;
      Object.defineProperty(proto, name, {
        ...desc,
        set(this: unknown, value: unknown) {
          try {
            set.call(this, value);
          } finally {
            sweepFrom(nodeOf(this));
          }
        },
      });
    }
  };
  try {
    for (const name of ['appendChild', 'insertBefore', 'replaceChild']) after(win.Node.prototype, name);
    for (const proto of [win.Element.prototype, win.Document.prototype, win.DocumentFragment.prototype]) {
      for (const name of ['append', 'prepend', 'replaceChildren']) after(proto, name);
    }
    for (const proto of [win.Element.prototype, win.CharacterData.prototype, win.DocumentType.prototype]) {
      for (const name of ['before', 'after', 'replaceWith']) after(proto, name);
    }
    for (const name of ['insertAdjacentElement', 'insertAdjacentHTML', 'setHTMLUnsafe', 'setHTML', 'innerHTML', 'outerHTML'])
      after(win.Element.prototype, name);
    for (const name of ['write', 'writeln', 'execCommand', 'body']) after(win.Document.prototype, name);
    if (startOf) for (const name of ['insertNode', 'surroundContents']) after(win.Range.prototype, name, (range) => startOf.call(range));
    new win.MutationObserver(() => sweep(win)).observe(win.document, { childList: true, subtree: true });
  } catch (err) {
    console.debug('[cobrowse] frame cookie guard failed', err);
  }
}
