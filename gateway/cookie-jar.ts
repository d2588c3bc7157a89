// One server-side cookie jar per session: upstream Set-Cookie goes in, Cookie headers come out,
// and the page's document.cookie reads and writes it (never HttpOnly cookies).

import { type Cookie, CookieJar, MemoryCookieStore, type Store } from 'tough-cookie';

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

/** Views a jar keeps while its store does not change (memory stores only), one per scheme, host and path. */
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
  /** Views by scheme, host and path: valid while the store's count is `version` and before `until` (a cookie's expiry). Made on first use. */
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

  /** Stores the Set-Cookie headers of a response to `url`; malformed or refused cookies are skipped and counted. */
  async store(setCookies: readonly string[], url: URL): Promise<StoreResult> {
    return this.set(setCookies, url, true);
  }

  /** Stores one `document.cookie = ...` assignment made by a page at `url` (HttpOnly refused). */
  async setFromScript(assignment: string, url: URL): Promise<StoreResult> {
    return this.set([assignment], url, false);
  }

  private async set(headers: readonly string[], url: URL, http: boolean): Promise<StoreResult> {
    let stored = 0;
    let refused = 0;
    for (const header of headers) {
      if (header.length > 8192) {
        refused++;
        continue;
      }
      try {
        const cookie = await this.jar.setCookie(header, url.href, { http, ignoreError: false });
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

  /** The Cookie header value for a request to `url`, or '' when the jar has none for it. */
  async cookieHeader(url: URL): Promise<string> {
    return (await this.lookup(url)).header;
  }

  /** The Cookie header of a request to `url` and document.cookie of a page there, read from the store once (both in RFC 6265's order: longer paths, then older cookies, first, as browsers list them). */
  async lookup(url: URL): Promise<JarView> {
    const key = this.counting ? `${url.protocol}//${url.host}${url.pathname}` : '';
    const cached = this.views?.get(key);
    if (cached && cached.version === this.counting?.changes && Date.now() < cached.until) return cached.view;
    // Counted before the read: a change during it (or an expired cookie it removes) makes the view stale at once.
    const version = this.version;
    const cookies = await this.jar.getCookies(url.href, { http: true, sort: true });
    let expires: number | null = null;
    let scriptExpires: number | null = null;
    const header: string[] = [];
    const script: string[] = [];
    for (const c of cookies) {
      const at = c.expiryTime();
      const finite = at !== undefined && Number.isFinite(at);
      if (finite && (expires === null || at < expires)) expires = at;
      const pair = c.cookieString();
      header.push(pair);
      if (c.httpOnly) continue;
      script.push(pair);
      if (finite && (scriptExpires === null || at < scriptExpires)) scriptExpires = at;
    }
    const view: JarView = { header: header.join('; '), script: { cookies: script.join('; '), expires: scriptExpires } };
    if (this.counting) {
      this.views ??= new Map();
      if (this.views.size >= MAX_CACHED_VIEWS) this.views.clear();
      this.views.set(key, { view, version, until: expires ?? Number.POSITIVE_INFINITY });
    }
    return view;
  }

  /** What document.cookie shows on a page at `url`: the cookies a script may see. */
  async scriptCookies(url: URL): Promise<string> {
    return (await this.scriptView(url)).cookies;
  }

  /**
   * document.cookie for a page at `url` and when the first of those cookies expires (epoch ms, or
   * null when none does), read from the store once.
   */
  async scriptView(url: URL): Promise<{ cookies: string; expires: number | null }> {
    return (await this.lookup(url)).script;
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
