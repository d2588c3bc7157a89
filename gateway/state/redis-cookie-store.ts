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

/** The cookie jar of one session, stored in the Redis hash `key`. */
export class RedisCookieStore extends Store {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    /** Runs after each write: the caller keeps the hash's expiry in line with the session's. */
    private readonly afterWrite: () => void = () => {},
  ) {
    super();
    this.synchronous = false;
  }

  override async findCookie(domain: string | null, path: string | null, key: string | null): Promise<Cookie | undefined> {
    if (domain == null || path == null || key == null) return undefined;
    const json = await this.redis.hget(this.key, fieldOf(domain, path, key));
    return json ? parseCookie(json) : undefined;
  }

  override async findCookies(domain: string | null, path: string | null, allowSpecialUseDomain = false): Promise<Cookie[]> {
    if (!domain) return [];
    const domains = new Set(permuteDomain(domain, allowSpecialUseDomain) ?? [domain]);
    const out: Cookie[] = [];
    for (const cookie of await this.all()) {
      if (!cookie.domain || !domains.has(cookie.domain)) continue;
      if (path && !pathMatch(path, cookie.path ?? '/')) continue;
      out.push(cookie);
    }
    return out;
  }

  override async putCookie(cookie: Cookie): Promise<void> {
    const { domain, path, key } = cookie;
    if (domain == null || path == null || key == null) return;
    await this.redis.hset(this.key, fieldOf(domain, path, key), JSON.stringify(cookie.toJSON()));
    this.afterWrite();
  }

  override async updateCookie(_old: Cookie, cookie: Cookie): Promise<void> {
    await this.putCookie(cookie);
  }

  override async removeCookie(domain: string, path: string, key: string): Promise<void> {
    await this.redis.hdel(this.key, fieldOf(domain, path, key));
  }

  override async removeCookies(domain: string, path: string | null): Promise<void> {
    const doomed = (await this.redis.hkeys(this.key)).filter((field) => {
      const [d, p] = field.split(SEP);
      return d === domain && (!path || p === path);
    });
    if (doomed.length > 0) await this.redis.hdel(this.key, ...doomed);
  }

  override async removeAllCookies(): Promise<void> {
    await this.redis.del(this.key);
  }

  override async getAllCookies(): Promise<Cookie[]> {
    return (await this.all()).sort((a, b) => created(a) - created(b) || (a.creationIndex ?? 0) - (b.creationIndex ?? 0));
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
