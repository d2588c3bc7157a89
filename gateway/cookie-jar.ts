// One server-side cookie jar per session: upstream Set-Cookie goes in, Cookie headers come out,
// and the page's document.cookie reads and writes it (never HttpOnly cookies). Every read and
// write is in a SameSite context (same-site.ts), as a browser's: a cross-site request carries only
// SameSite=None cookies, and its response sets only those. As in Chromium, a cookie without a
// SameSite attribute (or with an unknown value) is Lax, except that it also goes with a cross-site
// top-level POST for two minutes after it was created ("Lax+POST"), and SameSite=None without
// Secure is refused.

import { Cookie, CookieJar, MemoryCookieStore, type Store } from 'tough-cookie';
import { utf8Bytes, utf8Text } from './byte-text.js';
import type { SameSiteContext } from './same-site.js';

/** Limits one session's jar keeps to. */
export interface JarLimits {
  maxCookies: number;
  maxBytes: number;
}

/** Default limits: generous for real sites, bounded for the gateway. */
export const DEFAULT_JAR_LIMITS: JarLimits = { maxCookies: 3000, maxBytes: 1024 * 1024 };

/** What happened to a batch of cookies. */
export interface StoreResult {
  stored: number;
  refused: number;
  evicted: number;
}

/** What the jar holds for one URL: the Cookie header of a request there, and document.cookie of a page there. */
export interface JarView {
  header: string;
  script: { cookies: string; expires: number | null };
}

/** How long a cookie without SameSite goes with a cross-site top-level POST after it was created (Chromium's kLaxAllowUnsafeMaxAge). */
export const LAX_ALLOW_UNSAFE_MS = 2 * 60 * 1000;

/** A cookie without a SameSite attribute, or with a value that is none of the three: Lax by default. */
function laxByDefault(c: Cookie): boolean {
  return c.sameSite !== 'none' && c.sameSite !== 'lax' && c.sameSite !== 'strict';
}

function createdAt(c: Cookie): number {
  return c.creation instanceof Date ? c.creation.getTime() : 0;
}

/** Views a jar keeps while its store does not change (memory stores only), one per SameSite context, scheme, host and path. */
const MAX_CACHED_VIEWS = 256;

/**
 * tough-cookie's memory store, counting the changes made to it (through any jar): a jar reading
 * it knows that what it read is still true while the count stays the same.
 */
export class CountingMemoryStore extends MemoryCookieStore {
  changes = 0;
}

// Each method that changes the store counts first, on the prototype (no closures per session's
// store; the overloads of tough-cookie's types make overrides unwieldy).
for (const name of ['putCookie', 'updateCookie', 'removeCookie', 'removeCookies', 'removeAllCookies'] as const) {
  const original = MemoryCookieStore.prototype[name] as (...args: unknown[]) => unknown;
  Object.defineProperty(CountingMemoryStore.prototype, name, {
    value: function (this: CountingMemoryStore, ...args: unknown[]) {
      this.changes++;
      return original.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

/** The cookies one session has collected from the sites it browses. */
export class SessionCookieJar {
  private readonly jar: CookieJar;
  /** The store when it counts its changes (memory), else null (a shared store: every lookup reads it). */
  private readonly counting: CountingMemoryStore | null;
  /** Views by SameSite context, scheme, host and path: valid while the store's count is `version` and before `until` (a cookie's expiry). Made on first use. */
  private views: Map<string, { view: JarView; version: number; until: number }> | null = null;

  /**
   * `store` is the tough-cookie Store the jar keeps its cookies in (memory by default; the
   * scale-out back end supplies another). `onChange` runs after every change.
   */
  constructor(
    private readonly limits: JarLimits = DEFAULT_JAR_LIMITS,
    private readonly onChange: () => void = () => {},
    private readonly onLimit: (evicted: number, limits: JarLimits) => void = () => {},
    store: Store = new CountingMemoryStore(),
  ) {
    this.jar = new CookieJar(store, { rejectPublicSuffixes: true, allowSpecialUseDomain: true, looseMode: false, prefixSecurity: 'strict' });
    // A store of this process that counts its changes: what was read stays true until the count
    // moves or a cookie expires. A shared store (Redis) can change on another node at any time.
    this.counting = store instanceof CountingMemoryStore ? store : null;
  }

  /**
   * The store's change count: equal counts mean that nothing was stored or removed in between.
   * Meaningful only when `local`.
   */
  get version(): number {
    return this.counting?.changes ?? 0;
  }

  /** Whether the jar's store counts its changes (a memory store of this process, not one shared with other nodes). */
  get local(): boolean {
    return this.counting !== null;
  }

  /**
   * Stores the Set-Cookie headers of a response to `url` in `context` (a cross-site response, 'none',
   * sets SameSite=None cookies only); malformed or refused cookies are skipped and counted.
   */
  async store(setCookies: readonly string[], url: URL, context: SameSiteContext): Promise<StoreResult> {
    return this.set(setCookies, url, true, context);
  }

  /** Stores one `document.cookie = ...` assignment made by a page at `url` whose document.cookie is in `context` (HttpOnly refused). */
  async setFromScript(assignment: string, url: URL, context: SameSiteContext): Promise<StoreResult> {
    // The page's text goes on the wire in UTF-8, as the browser sends what a script set; the jar
    // keeps bytes (as a site's Set-Cookie came).
    return this.set([utf8Bytes(assignment)], url, false, context);
  }

  private async set(headers: readonly string[], url: URL, http: boolean, context: SameSiteContext): Promise<StoreResult> {
    let stored = 0;
    let refused = 0;
    for (const header of headers) {
      if (header.length > 8192) {
        refused++;
        continue;
      }
      try {
        const parsed = Cookie.parse(header, { loose: false });
        // Chromium refuses SameSite=None without Secure, and (Lax by default) a cookie without
        // SameSite from a cross-site context, as tough-cookie refuses Strict and Lax ones there.
        const crossSite = context === 'none' || context === 'lax-unsafe';
        if (!parsed || (parsed.sameSite === 'none' && !parsed.secure) || (crossSite && parsed.sameSite !== 'none')) {
          refused++;
          continue;
        }
        const cookie = await this.jar.setCookie(parsed, url.href, { http, ignoreError: false, sameSiteContext: crossSite ? 'none' : context });
        if (cookie) stored++;
        else refused++;
      } catch {
        refused++;
      }
    }
    const evicted = stored > 0 ? await this.enforceLimits() : 0;
    if (stored > 0 || evicted > 0) this.onChange();
    return { stored, refused, evicted };
  }

  /** The Cookie header value for a request to `url` in `context`, or '' when the jar has none for it. */
  async cookieHeader(url: URL, context: SameSiteContext): Promise<string> {
    return (await this.lookup(url, context)).header;
  }

  /**
   * The Cookie header of a request to `url` and document.cookie of a page there, in `context`, read
   * from the store once (both in RFC 6265's order: longer paths, then older cookies, first, as
   * browsers list them). 'strict': every cookie; 'lax': all but SameSite=Strict; 'none': only
   * SameSite=None (and Secure) cookies, a cookie without SameSite being Lax; 'lax-unsafe': as
   * 'none', and the cookies without SameSite created less than two minutes ago.
   */
  async lookup(url: URL, context: SameSiteContext): Promise<JarView> {
    const key = this.counting ? `${context} ${url.protocol}//${url.host}${url.pathname}` : '';
    const cached = this.views?.get(key);
    if (cached && cached.version === this.counting?.changes && Date.now() < cached.until) return cached.view;
    // Counted before the read: a change during it (or an expired cookie it removes) makes the view stale at once.
    const version = this.version;
    const crossSite = context === 'none' || context === 'lax-unsafe';
    const cookies = await this.jar.getCookies(url.href, { http: true, sort: true, sameSiteContext: crossSite ? 'none' : context });
    const now = Date.now();
    let expires: number | null = null;
    let scriptExpires: number | null = null;
    /** When a cookie of the view leaves it: its expiry, or the end of its two minutes of Lax+POST. */
    let until = Number.POSITIVE_INFINITY;
    const header: string[] = [];
    const script: string[] = [];
    for (const c of cookies) {
      // tough-cookie sends cookies without SameSite everywhere; Chromium treats them as Lax.
      if (crossSite && !(c.sameSite === 'none' && c.secure)) {
        const fresh = context === 'lax-unsafe' && laxByDefault(c) && createdAt(c) + LAX_ALLOW_UNSAFE_MS > now;
        if (!fresh) continue;
        until = Math.min(until, createdAt(c) + LAX_ALLOW_UNSAFE_MS);
      }
      const at = c.expiryTime();
      const finite = at !== undefined && Number.isFinite(at);
      if (finite && (expires === null || at < expires)) expires = at;
      const pair = c.cookieString();
      header.push(pair);
      if (c.httpOnly) continue;
      // A script reads the cookie's bytes as UTF-8, as document.cookie does.
      script.push(utf8Text(pair));
      if (finite && (scriptExpires === null || at < scriptExpires)) scriptExpires = at;
    }
    const view: JarView = { header: header.join('; '), script: { cookies: script.join('; '), expires: scriptExpires } };
    if (this.counting) {
      this.views ??= new Map();
      if (this.views.size >= MAX_CACHED_VIEWS) this.views.clear();
      this.views.set(key, { view, version, until: Math.min(until, expires ?? Number.POSITIVE_INFINITY) });
    }
    return view;
  }

  /** What document.cookie shows on a page at `url` in `context`: the cookies a script may see. */
  async scriptCookies(url: URL, context: SameSiteContext): Promise<string> {
    return (await this.scriptView(url, context)).cookies;
  }

  /**
   * document.cookie for a page at `url` in `context` (a top-level page's own: 'strict'; a page
   * framed by another site: 'none') and when the first of those cookies expires (epoch ms, or null
   * when none does), read from the store once.
   */
  async scriptView(url: URL, context: SameSiteContext): Promise<{ cookies: string; expires: number | null }> {
    return (await this.lookup(url, context)).script;
  }

  /** Every cookie, for the API and persistence (values included: never log this). */
  async all(): Promise<Cookie[]> {
    return (await this.jar.store.getAllCookies?.()) ?? [];
  }

  /** The jar as JSON that `SessionCookieJar.restore` reads back. */
  async serialize(): Promise<string> {
    return JSON.stringify(await this.jar.serialize());
  }

  /** Replaces the jar's content with a serialized one. */
  async restore(serialized: string): Promise<void> {
    const other = await CookieJar.deserialize(serialized);
    await this.jar.removeAllCookies();
    for (const cookie of (await other.store.getAllCookies?.()) ?? []) await this.jar.store.putCookie(cookie);
  }

  /** Forgets the cookies a site's page at `url` can see or set: its host's and its parent domains' (Clear-Site-Data). */
  async clearSite(url: URL): Promise<number> {
    const host = url.hostname.toLowerCase();
    let removed = 0;
    for (const c of await this.all()) {
      const domain = (c.domain ?? '').toLowerCase();
      if (domain && (host === domain || host.endsWith(`.${domain}`))) {
        await this.jar.store.removeCookie(c.domain ?? '', c.path ?? '/', c.key);
        removed++;
      }
    }
    if (removed > 0) this.onChange();
    return removed;
  }

  /** Forgets every cookie (the session ended). */
  async clear(): Promise<void> {
    await this.jar.removeAllCookies();
  }

  private async enforceLimits(): Promise<number> {
    const cookies = await this.all();
    let bytes = cookies.reduce((n, c) => n + c.key.length + c.value.length, 0);
    if (cookies.length <= this.limits.maxCookies && bytes <= this.limits.maxBytes) return 0;
    // Oldest first, as browsers evict.
    const created = (c: Cookie) => (c.creation instanceof Date ? c.creation.getTime() : 0);
    cookies.sort((a, b) => created(a) - created(b));
    let count = cookies.length;
    let evicted = 0;
    for (const c of cookies) {
      if (count <= this.limits.maxCookies && bytes <= this.limits.maxBytes) break;
      await this.jar.store.removeCookie(c.domain ?? '', c.path ?? '/', c.key);
      count--;
      bytes -= c.key.length + c.value.length;
      evicted++;
    }
    this.onLimit(evicted, this.limits);
    return evicted;
  }
}
