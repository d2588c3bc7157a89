import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionCookieJar } from '../../gateway/cookie-jar.js';

const site = new URL('https://shop.example.com/cart');

describe('SessionCookieJar', () => {
  it('follows RFC 6265 attributes: path, domain, secure, expiry, host-only', async () => {
    const jar = new SessionCookieJar();
    const r = await jar.store(
      [
        'a=1; Path=/',
        'scoped=2; Path=/cart',
        'parent=3; Domain=example.com; Path=/',
        'gone=4; Max-Age=0',
        'expired=5; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
        'secure=6; Secure',
        'hostonly=7',
      ],
      site,
      'strict',
    );
    expect(r.refused).toBe(0);
    expect(await jar.cookieHeader(new URL('https://shop.example.com/cart/items'), 'strict')).toBe('scoped=2; a=1; parent=3; secure=6; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://shop.example.com/'), 'strict')).toBe('a=1; parent=3; secure=6; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://other.example.com/'), 'strict')).toBe('parent=3');
    expect(await jar.cookieHeader(new URL('http://shop.example.com/'), 'strict')).toBe('a=1; parent=3; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://example.org/'), 'strict')).toBe('');
  });

  it.each([
    ['a cookie for a domain the response may not set', 'x=1; Domain=evil.com'],
    ['a cookie for a public suffix', 'x=1; Domain=com'],
    ['a cookie without a name-value pair', '; Path=/'],
    ['a __Host- cookie without Secure', '__Host-x=1; Path=/'],
    ['an oversized cookie', `big=${'x'.repeat(9000)}`],
  ])('refuses %s without crashing or corrupting the jar', async (_name, header) => {
    const jar = new SessionCookieJar();
    await jar.store(['keep=1'], site, 'strict');
    const r = await jar.store([header], site, 'strict');
    expect(r.stored).toBe(0);
    expect(r.refused).toBe(1);
    expect(await jar.cookieHeader(site, 'strict')).toBe('keep=1');
  });

  it('keeps unusual characters intact', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['q="a b,c"; Path=/', 'u=caf%C3%A9'], site, 'strict');
    expect(await jar.cookieHeader(site, 'strict')).toBe('q="a b,c"; u=caf%C3%A9');
  });

  it('keeps bytes for the wire and gives scripts their UTF-8 text, as Chromium does', async () => {
    const jar = new SessionCookieJar();
    const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
    // A Set-Cookie in UTF-8 bytes (undici gives each byte as one latin1 character), one in latin1.
    await jar.store([`srv=${bytes('café')}; Path=/`, 'old=caf\u00e9; Path=/'], site, 'strict');
    await jar.setFromScript('page=été 😀; Path=/', site, 'strict');
    expect(await jar.cookieHeader(site, 'strict')).toBe(`srv=${bytes('café')}; old=caf\u00e9; page=${bytes('été 😀')}`);
    // Bytes that are not UTF-8 stay as they are (latin1).
    expect(await jar.scriptCookies(site, 'strict')).toBe('srv=café; old=caf\u00e9; page=été 😀');
  });

  it('document.cookie writes cannot set or overwrite HttpOnly cookies and reads never see them', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['sid=secret; HttpOnly; Path=/', 'pref=1; Path=/'], site, 'strict');
    expect(await jar.scriptCookies(site, 'strict')).toBe('pref=1');
    const r = await jar.setFromScript('sid=forged; Path=/', site, 'strict');
    expect(r.stored).toBe(0);
    await jar.setFromScript('theme=dark; Path=/', site, 'strict');
    expect(await jar.cookieHeader(site, 'strict')).toBe('sid=secret; pref=1; theme=dark');
    expect(await jar.setFromScript('evil=1; HttpOnly', site, 'strict')).toMatchObject({ stored: 0 });
  });

  it('reads document.cookie and its first expiry at once, never counting HttpOnly cookies', async () => {
    const jar = new SessionCookieJar();
    expect(await jar.scriptView(site, 'strict')).toEqual({ cookies: '', expires: null });
    const soon = Date.now() + 60_000;
    await jar.store(
      [`sid=secret; HttpOnly; Path=/; Expires=${new Date(soon - 30_000).toUTCString()}`, 'pref=1; Path=/; Max-Age=60', 'theme=dark; Path=/'],
      site,
      'strict',
    );
    const view = await jar.scriptView(site, 'strict');
    expect(view.cookies).toBe('pref=1; theme=dark');
    expect(view.cookies).toBe(await jar.scriptCookies(site, 'strict'));
    expect(view.expires).toBeGreaterThan(soon - 2000);
    expect(view.expires).toBeLessThanOrEqual(soon + 2000);
  });

  it('evicts the oldest cookies past its limits and reports it', async () => {
    const reports: number[] = [];
    let changes = 0;
    const jar = new SessionCookieJar(
      { maxCookies: 3, maxBytes: 1000 },
      () => changes++,
      (evicted) => reports.push(evicted),
    );
    for (let i = 0; i < 5; i++) await jar.store([`c${i}=${i}`], site, 'strict');
    expect(await jar.cookieHeader(site, 'strict')).toBe('c2=2; c3=3; c4=4');
    expect(reports.reduce((a, b) => a + b, 0)).toBe(2);
    expect(changes).toBe(5);
    const bytes = new SessionCookieJar({ maxCookies: 100, maxBytes: 50 });
    await bytes.store([`a=${'x'.repeat(30)}`, `b=${'y'.repeat(30)}`], site, 'strict');
    expect(await bytes.cookieHeader(site, 'strict')).toBe(`b=${'y'.repeat(30)}`);
  });

  it('serializes and restores, and clears', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['a=1; Path=/', 'b=2; HttpOnly; Path=/cart'], site, 'strict');
    const copy = new SessionCookieJar();
    await copy.restore(await jar.serialize());
    expect(await copy.cookieHeader(site, 'strict')).toBe(await jar.cookieHeader(site, 'strict'));
    await jar.clear();
    expect(await jar.cookieHeader(site, 'strict')).toBe('');
  });

  describe('SameSite', () => {
    const cookies = ['strict=1; SameSite=Strict; Path=/', 'lax=2; SameSite=Lax; Path=/', 'none=3; SameSite=None; Secure; Path=/', 'default=4; Path=/'];

    it('a same-site request gets every cookie, a cross-site top-level GET all but Strict, anything else cross-site only SameSite=None', async () => {
      const jar = new SessionCookieJar();
      expect(await jar.store(cookies, site, 'strict')).toMatchObject({ stored: 4, refused: 0 });
      expect(await jar.cookieHeader(site, 'strict')).toBe('strict=1; lax=2; none=3; default=4');
      // A cookie without SameSite is Lax, as in Chromium.
      expect(await jar.cookieHeader(site, 'lax')).toBe('lax=2; none=3; default=4');
      expect(await jar.cookieHeader(site, 'none')).toBe('none=3');
      expect((await jar.lookup(site, 'none')).script.cookies).toBe('none=3');
    });

    it('keys what it read by context too', async () => {
      const jar = new SessionCookieJar();
      await jar.store(cookies, site, 'strict');
      // Each read once, in any order: a view of one context is never the answer for another.
      expect(await jar.cookieHeader(site, 'none')).toBe('none=3');
      expect(await jar.cookieHeader(site, 'strict')).toBe('strict=1; lax=2; none=3; default=4');
      expect(await jar.cookieHeader(site, 'lax')).toBe('lax=2; none=3; default=4');
      expect(await jar.cookieHeader(site, 'none')).toBe('none=3');
      expect((await jar.scriptView(site, 'none')).cookies).toBe('none=3');
      expect((await jar.scriptView(site, 'strict')).cookies).toBe('strict=1; lax=2; none=3; default=4');
    });

    it('a cross-site response sets SameSite=None cookies only; a top-level navigation (lax) sets any', async () => {
      const jar = new SessionCookieJar();
      expect(await jar.store(cookies, site, 'none')).toMatchObject({ stored: 1, refused: 3 });
      expect(await jar.cookieHeader(site, 'strict')).toBe('none=3');
      // Deleting a Lax cookie is setting one: refused cross-site too.
      await jar.store(['lax=2; SameSite=Lax; Path=/'], site, 'strict');
      expect(await jar.store(['lax=; Max-Age=0; SameSite=Lax; Path=/'], site, 'none')).toMatchObject({ refused: 1 });
      expect(await jar.cookieHeader(site, 'strict')).toBe('none=3; lax=2');
      const top = new SessionCookieJar();
      expect(await top.store(cookies, site, 'lax')).toMatchObject({ stored: 4 });
      // A script in a document framed by another site.
      expect(await top.setFromScript('framed=1; SameSite=Lax', site, 'none')).toMatchObject({ stored: 0, refused: 1 });
      expect(await top.setFromScript('framed=1; SameSite=None; Secure', site, 'none')).toMatchObject({ stored: 1 });
    });

    it('a cross-site top-level POST (lax-unsafe) also carries cookies without SameSite for two minutes after their creation', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date('2026-06-01T00:00:00Z'));
        const jar = new SessionCookieJar();
        await jar.store(cookies, site, 'strict');
        expect(await jar.cookieHeader(site, 'lax-unsafe')).toBe('none=3; default=4');
        // Not a response context: a cross-site answer sets SameSite=None cookies only.
        expect(await jar.store(['later=5; Path=/'], site, 'lax-unsafe')).toMatchObject({ refused: 1 });
        vi.setSystemTime(new Date('2026-06-01T00:01:59Z'));
        expect(await jar.cookieHeader(site, 'lax-unsafe')).toBe('none=3; default=4');
        // The view read before is not the answer past the two minutes.
        vi.setSystemTime(new Date('2026-06-01T00:02:01Z'));
        expect(await jar.cookieHeader(site, 'lax-unsafe')).toBe('none=3');
        expect(await jar.cookieHeader(site, 'lax')).toBe('lax=2; none=3; default=4');
      } finally {
        vi.useRealTimers();
      }
    });

    it('refuses SameSite=None without Secure, as Chromium does, and reads an old one cross-site as not None', async () => {
      const jar = new SessionCookieJar();
      expect(await jar.store(['insecure=1; SameSite=None; Path=/'], site, 'strict')).toMatchObject({ stored: 0, refused: 1 });
      expect(await jar.setFromScript('insecure=1; SameSite=None', site, 'strict')).toMatchObject({ stored: 0, refused: 1 });
      // A jar restored from before the rule: the cookie stays out of cross-site requests.
      const old = JSON.stringify({
        version: 'tough-cookie@6.0.0',
        storeType: 'MemoryCookieStore',
        rejectPublicSuffixes: true,
        cookies: [{ key: 'insecure', value: '1', domain: 'shop.example.com', path: '/', hostOnly: true, sameSite: 'none', creation: new Date().toISOString() }],
      });
      await jar.restore(old);
      expect(await jar.cookieHeader(site, 'strict')).toBe('insecure=1');
      expect(await jar.cookieHeader(site, 'none')).toBe('');
    });
  });

  describe('lookup: one read for a request and its page', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gives the Cookie header (HttpOnly included) and document.cookie (without) from one read', async () => {
      const jar = new SessionCookieJar();
      await jar.store(['a=1; Path=/', 'h=2; HttpOnly; Path=/', 'e=3; Max-Age=3600; HttpOnly', 'f=4; Max-Age=60'], site, 'strict');
      const view = await jar.lookup(site, 'strict');
      expect(view.header).toBe('a=1; h=2; e=3; f=4');
      expect(view.script.cookies).toBe('a=1; f=4');
      // The first expiry of the cookies a script sees (e=3 is HttpOnly).
      expect(view.script.expires).toBeGreaterThan(Date.now() + 50_000);
      expect(view.script.expires).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(await jar.cookieHeader(site, 'strict')).toBe(view.header);
      expect(await jar.scriptView(site, 'strict')).toEqual(view.script);
    });

    it('never answers from what it read before a change: store, script writes, Clear-Site-Data, restore, clear', async () => {
      const jar = new SessionCookieJar();
      expect((await jar.lookup(site, 'strict')).header).toBe('');
      const v0 = jar.version;
      await jar.store(['a=1; Path=/'], site, 'strict');
      expect(jar.version).toBeGreaterThan(v0);
      expect((await jar.lookup(site, 'strict')).header).toBe('a=1');
      await jar.setFromScript('b=2; Path=/', site, 'strict');
      expect((await jar.lookup(site, 'strict')).header).toBe('a=1; b=2');
      await jar.store(['a=; Max-Age=0; Path=/'], site, 'strict');
      expect((await jar.lookup(site, 'strict')).header).toBe('b=2');
      await jar.clearSite(site);
      expect((await jar.lookup(site, 'strict')).header).toBe('');
      const other = new SessionCookieJar();
      await other.store(['c=3; Path=/'], site, 'strict');
      await jar.restore(await other.serialize());
      expect((await jar.lookup(site, 'strict')).header).toBe('c=3');
      await jar.clear();
      expect((await jar.lookup(site, 'strict')).header).toBe('');
    });

    it('keys what it read by scheme, host and path', async () => {
      const jar = new SessionCookieJar();
      await jar.store(['a=1; Path=/', 'c=2; Path=/cart', 's=3; Secure; Path=/'], site, 'strict');
      expect((await jar.lookup(new URL('https://shop.example.com/cart?x=1'), 'strict')).header).toBe('c=2; a=1; s=3');
      expect((await jar.lookup(new URL('https://shop.example.com/'), 'strict')).header).toBe('a=1; s=3');
      expect((await jar.lookup(new URL('http://shop.example.com/cart'), 'strict')).header).toBe('c=2; a=1');
      expect((await jar.lookup(new URL('https://other.example.com/cart'), 'strict')).header).toBe('');
      expect((await jar.lookup(new URL('https://shop.example.com/cart?y=2'), 'strict')).header).toBe('c=2; a=1; s=3');
    });

    it('stops answering from what it read once a cookie in it expires', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-06-01T00:00:00Z'));
      const jar = new SessionCookieJar();
      await jar.store(['short=1; Max-Age=10; Path=/', 'long=2; Max-Age=3600; Path=/'], site, 'strict');
      expect((await jar.lookup(site, 'strict')).header).toBe('short=1; long=2');
      vi.setSystemTime(new Date('2026-06-01T00:00:09Z'));
      expect((await jar.lookup(site, 'strict')).header).toBe('short=1; long=2');
      vi.setSystemTime(new Date('2026-06-01T00:00:11Z'));
      expect((await jar.lookup(site, 'strict')).header).toBe('long=2');
      expect(jar.local).toBe(true);
    });
  });
});
