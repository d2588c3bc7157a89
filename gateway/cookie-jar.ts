// One server-side cookie jar per session: upstream Set-Cookie goes in, Cookie headers come out.

import { CookieJar, MemoryCookieStore } from 'tough-cookie';

/** The cookies one session has collected from the sites it browses. */
export class SessionCookieJar {
  private readonly jar = new CookieJar(new MemoryCookieStore(), {
    rejectPublicSuffixes: true,
    allowSpecialUseDomain: true,
    looseMode: false,
    prefixSecurity: 'strict',
  });

  /** Stores the Set-Cookie headers of a response to `url`; malformed or refused cookies are skipped and counted. */
  async store(setCookies: readonly string[], url: URL): Promise<{ stored: number; refused: number }> {
    let stored = 0;
    let refused = 0;
    for (const header of setCookies) {
      try {
        const cookie = await this.jar.setCookie(header, url.href, { ignoreError: false });
        if (cookie) stored++;
        else refused++;
      } catch {
        refused++;
      }
    }
    return { stored, refused };
  }

  /** The Cookie header value for a request to `url`, or '' when the jar has none for it. */
  async cookieHeader(url: URL): Promise<string> {
    return this.jar.getCookieString(url.href);
  }

  /** Forgets every cookie (the session ended). */
  async clear(): Promise<void> {
    await this.jar.removeAllCookies();
  }
}
