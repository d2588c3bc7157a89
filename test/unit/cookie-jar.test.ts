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
    );
    expect(r.refused).toBe(0);
    expect(await jar.cookieHeader(new URL('https://shop.example.com/cart/items'))).toBe('scoped=2; a=1; parent=3; secure=6; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://shop.example.com/'))).toBe('a=1; parent=3; secure=6; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://other.example.com/'))).toBe('parent=3');
    expect(await jar.cookieHeader(new URL('http://shop.example.com/'))).toBe('a=1; parent=3; hostonly=7');
    expect(await jar.cookieHeader(new URL('https://example.org/'))).toBe('');
  });

  it.each([
    ['a cookie for a domain the response may not set', 'x=1; Domain=evil.com'],
    ['a cookie for a public suffix', 'x=1; Domain=com'],
    ['a cookie without a name-value pair', '; Path=/'],
    ['a __Host- cookie without Secure', '__Host-x=1; Path=/'],
    ['an oversized cookie', `big=${'x'.repeat(9000)}`],
  ])('refuses %s without crashing or corrupting the jar', async (_name, header) => {
    const jar = new SessionCookieJar();
    await jar.store(['keep=1'], site);
    const r = await jar.store([header], site);
    expect(r.stored).toBe(0);
    expect(r.refused).toBe(1);
    expect(await jar.cookieHeader(site)).toBe('keep=1');
  });

  it('keeps unusual characters intact', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['q="a b,c"; Path=/', 'u=caf%C3%A9'], site);
    expect(await jar.cookieHeader(site)).toBe('q="a b,c"; u=caf%C3%A9');
  });

  it('document.cookie writes cannot set or overwrite HttpOnly cookies and reads never see them', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['sid=secret; HttpOnly; Path=/', 'pref=1; Path=/'], site);
    expect(await jar.scriptCookies(site)).toBe('pref=1');
    const r = await jar.setFromScript('sid=forged; Path=/', site);
    expect(r.stored).toBe(0);
    await jar.setFromScript('theme=dark; Path=/', site);
    expect(await jar.cookieHeader(site)).toBe('sid=secret; pref=1; theme=dark');
    expect(await jar.setFromScript('evil=1; HttpOnly', site)).toMatchObject({ stored: 0 });
  });

  it('reads document.cookie and its first expiry at once, never counting HttpOnly cookies', async () => {
    const jar = new SessionCookieJar();
    expect(await jar.scriptView(site)).toEqual({ cookies: '', expires: null });
    const soon = Date.now() + 60_000;
    await jar.store(
      [`sid=secret; HttpOnly; Path=/; Expires=${new Date(soon - 30_000).toUTCString()}`, 'pref=1; Path=/; Max-Age=60', 'theme=dark; Path=/'],
      site,
    );
    const view = await jar.scriptView(site);
    expect(view.cookies).toBe('pref=1; theme=dark');
    expect(view.cookies).toBe(await jar.scriptCookies(site));
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
    for (let i = 0; i < 5; i++) await jar.store([`c${i}=${i}`], site);
    expect(await jar.cookieHeader(site)).toBe('c2=2; c3=3; c4=4');
    expect(reports.reduce((a, b) => a + b, 0)).toBe(2);
    expect(changes).toBe(5);
    const bytes = new SessionCookieJar({ maxCookies: 100, maxBytes: 50 });
    await bytes.store([`a=${'x'.repeat(30)}`, `b=${'y'.repeat(30)}`], site);
    expect(await bytes.cookieHeader(site)).toBe(`b=${'y'.repeat(30)}`);
  });

  it('serializes and restores, and clears', async () => {
    const jar = new SessionCookieJar();
    await jar.store(['a=1; Path=/', 'b=2; HttpOnly; Path=/cart'], site);
    const copy = new SessionCookieJar();
    await copy.restore(await jar.serialize());
    expect(await copy.cookieHeader(site)).toBe(await jar.cookieHeader(site));
    await jar.clear();
    expect(await jar.cookieHeader(site)).toBe('');
  });

  describe('lookup: one read for a request and its page', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('gives the Cookie header (HttpOnly included) and document.cookie (without) from one read', async () => {
      const jar = new SessionCookieJar();
      await jar.store(['a=1; Path=/', 'h=2; HttpOnly; Path=/', 'e=3; Max-Age=3600; HttpOnly', 'f=4; Max-Age=60'], site);
      const view = await jar.lookup(site);
      expect(view.header).toBe('a=1; h=2; e=3; f=4');
      expect(view.script.cookies).toBe('a=1; f=4');
      // The first expiry of the cookies a script sees (e=3 is HttpOnly).
      expect(view.script.expires).toBeGreaterThan(Date.now() + 50_000);
      expect(view.script.expires).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(await jar.cookieHeader(site)).toBe(view.header);
      expect(await jar.scriptView(site)).toEqual(view.script);
    });

    it('never answers from what it read before a change: store, script writes, Clear-Site-Data, restore, clear', async () => {
      const jar = new SessionCookieJar();
      expect((await jar.lookup(site)).header).toBe('');
      const v0 = jar.version;
      await jar.store(['a=1; Path=/'], site);
      expect(jar.version).toBeGreaterThan(v0);
      expect((await jar.lookup(site)).header).toBe('a=1');
      await jar.setFromScript('b=2; Path=/', site);
      expect((await jar.lookup(site)).header).toBe('a=1; b=2');
      await jar.store(['a=; Max-Age=0; Path=/'], site);
      expect((await jar.lookup(site)).header).toBe('b=2');
      await jar.clearSite(site);
      expect((await jar.lookup(site)).header).toBe('');
      const other = new SessionCookieJar();
      await other.store(['c=3; Path=/'], site);
      await jar.restore(await other.serialize());
      expect((await jar.lookup(site)).header).toBe('c=3');
      await jar.clear();
      expect((await jar.lookup(site)).header).toBe('');
    });

    it('keys what it read by scheme, host and path', async () => {
      const jar = new SessionCookieJar();
      await jar.store(['a=1; Path=/', 'c=2; Path=/cart', 's=3; Secure; Path=/'], site);
      expect((await jar.lookup(new URL('https://shop.example.com/cart?x=1'))).header).toBe('c=2; a=1; s=3');
      expect((await jar.lookup(new URL('https://shop.example.com/'))).header).toBe('a=1; s=3');
      expect((await jar.lookup(new URL('http://shop.example.com/cart'))).header).toBe('c=2; a=1');
      expect((await jar.lookup(new URL('https://other.example.com/cart'))).header).toBe('');
      expect((await jar.lookup(new URL('https://shop.example.com/cart?y=2'))).header).toBe('c=2; a=1; s=3');
    });

    it('stops answering from what it read once a cookie in it expires', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-06-01T00:00:00Z'));
      const jar = new SessionCookieJar();
      await jar.store(['short=1; Max-Age=10; Path=/', 'long=2; Max-Age=3600; Path=/'], site);
      expect((await jar.lookup(site)).header).toBe('short=1; long=2');
      vi.setSystemTime(new Date('2026-06-01T00:00:09Z'));
      expect((await jar.lookup(site)).header).toBe('short=1; long=2');
      vi.setSystemTime(new Date('2026-06-01T00:00:11Z'));
      expect((await jar.lookup(site)).header).toBe('long=2');
      expect(jar.local).toBe(true);
    });
  });
});
