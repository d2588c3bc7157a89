// A tough-cookie Store on Redis: one hash per session jar, one field per cookie (domain, path,
// name), so that nodes setting different cookies at the same time never overwrite each other.
// The same cookie set twice at once keeps the last write, as a browser would.

import type { Redis } from 'ioredis';
import { Cookie, pathMatch, permuteDomain, Store } from 'tough-cookie';

const SEP = '\t';

function fieldOf(domain: string, path: string, key: string): string {
  return `${domain}${SEP}${path}${SEP}${key}`;
}

function parseCookie(json: string): Cookie | undefined {
  return Cookie.fromJSON(json) ?? undefined;
}

function created(c: Cookie): number {
  return c.creation instanceof Date ? c.creation.getTime() : 0;
}

type Callback<T> = (error: Error | null, result?: T) => void;

/** tough-cookie's CookieJar calls stores with a callback; other callers await the promise. */
function settle<T>(work: Promise<T>, callback: unknown): Promise<T> {
  if (typeof callback === 'function') {
    const cb = callback as Callback<T>;
    work.then(
      (result) => cb(null, result),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }
  return work;
}

/** The cookie jar of one session, stored in the Redis hash `key`. */
export class RedisCookieStore extends Store {
  /** `write` stores one field of the hash, only while the session exists (so an ended session's jar is never recreated). */
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly write: (field: string, value: string) => Promise<void>,
  ) {
    super();
    this.synchronous = false;
  }

  override findCookie(domain: string | null, path: string | null, key: string | null, callback?: unknown): Promise<Cookie | undefined> {
    return settle(this.find(domain, path, key), callback);
  }

  override findCookies(domain: string | null, path: string | null, allowSpecialUseDomain?: unknown, callback?: unknown): Promise<Cookie[]> {
    // As tough-cookie's MemoryCookieStore: false unless given, true when the callback takes its place.
    const special = typeof allowSpecialUseDomain === 'boolean' ? allowSpecialUseDomain : typeof allowSpecialUseDomain === 'function';
    const cb = typeof allowSpecialUseDomain === 'function' ? allowSpecialUseDomain : callback;
    return settle(this.findAll(domain, path, special), cb);
  }

  override putCookie(cookie: Cookie, callback?: unknown): Promise<void> {
    return settle(this.put(cookie), callback);
  }

  override updateCookie(_old: Cookie, cookie: Cookie, callback?: unknown): Promise<void> {
    return settle(this.put(cookie), callback);
  }

  override removeCookie(domain: string, path: string, key: string, callback?: unknown): Promise<void> {
    return settle(
      this.redis.hdel(this.key, fieldOf(domain, path, key)).then(() => undefined),
      callback,
    );
  }

  override removeCookies(domain: string, path: string | null, callback?: unknown): Promise<void> {
    return settle(this.removeMatching(domain, path), callback);
  }

  override removeAllCookies(callback?: unknown): Promise<void> {
    return settle(
      this.redis.del(this.key).then(() => undefined),
      callback,
    );
  }

  override getAllCookies(callback?: unknown): Promise<Cookie[]> {
    const sorted = this.all().then((cookies) => cookies.sort((a, b) => created(a) - created(b) || (a.creationIndex ?? 0) - (b.creationIndex ?? 0)));
    return settle(sorted, callback);
  }

  private async find(domain: string | null, path: string | null, key: string | null): Promise<Cookie | undefined> {
    if (domain == null || path == null || key == null) return undefined;
    const json = await this.redis.hget(this.key, fieldOf(domain, path, key));
    return json ? parseCookie(json) : undefined;
  }

  private async findAll(domain: string | null, path: string | null, allowSpecialUseDomain: boolean): Promise<Cookie[]> {
    if (!domain) return [];
    const domains = new Set(permuteDomain(domain, allowSpecialUseDomain) ?? [domain]);
    return (await this.all()).filter((c) => c.domain && domains.has(c.domain) && (!path || pathMatch(path, c.path ?? '/')));
  }

  private async put(cookie: Cookie): Promise<void> {
    const { domain, path, key } = cookie;
    if (domain == null || path == null || key == null) return;
    await this.write(fieldOf(domain, path, key), JSON.stringify(cookie.toJSON()));
  }

  private async removeMatching(domain: string, path: string | null): Promise<void> {
    const doomed = (await this.redis.hkeys(this.key)).filter((field) => {
      const [d, p] = field.split(SEP);
      return d === domain && (!path || p === path);
    });
    if (doomed.length > 0) await this.redis.hdel(this.key, ...doomed);
  }

  private async all(): Promise<Cookie[]> {
    const out: Cookie[] = [];
    for (const json of Object.values(await this.redis.hgetall(this.key))) {
      const cookie = parseCookie(json);
      if (cookie) out.push(cookie);
    }
    return out;
  }
}
