import { describe, expect, it } from 'vitest';
import {
  cookieContexts,
  fetchSiteBetween,
  isSameSite,
  isSameSiteRequest,
  type RequestFacts,
  realFetchSite,
  requestFacts,
  siteOf,
  upstreamFetchSite,
} from '../../gateway/same-site.js';
import { OriginTable, UrlMapper } from '../../gateway/url-mapper.js';

const B = new URL('https://shop.b.example/cart');

/** Facts of a request to B (a GET fetch by default). */
function facts(over: Partial<RequestFacts>): RequestFacts {
  return { method: 'GET', target: B, initiator: null, fetchSite: 'same-site', fetchMode: 'cors', fetchDest: 'empty', ...over };
}

const fromA = new URL('https://www.a.example/page');
const fromB = new URL('https://www.b.example/page');
const navigation = { fetchMode: 'navigate', fetchDest: 'document' } as const;

describe('siteOf / isSameSite', () => {
  it('is the scheme and the registrable domain (the host itself for an IP address); ports do not count', () => {
    expect(siteOf(new URL('https://a.b.example.co.uk:8443/x'))).toBe('https://example.co.uk');
    expect(siteOf(new URL('http://www.site-a.localhost:1234/'))).toBe('http://site-a.localhost');
    expect(siteOf(new URL('http://127.0.0.1:4000/'))).toBe('http://127.0.0.1');
    expect(siteOf(new URL('wss://api.b.example/socket'))).toBe('https://b.example');
    expect(isSameSite(new URL('http://127.0.0.1:1/'), new URL('http://127.0.0.1:2/'))).toBe(true);
    expect(isSameSite(new URL('https://a.b.example/'), new URL('https://c.b.example/'))).toBe(true);
    expect(isSameSite(new URL('http://site-a.localhost/'), new URL('http://site-b.localhost/'))).toBe(false);
    // Schemeful: http and https of one domain are two sites.
    expect(isSameSite(new URL('http://b.example/'), new URL('https://b.example/'))).toBe(false);
    // A private suffix of the public suffix list: two users' pages are two sites.
    expect(isSameSite(new URL('https://alice.github.io/'), new URL('https://bob.github.io/'))).toBe(false);
  });
});

describe('cookieContexts', () => {
  it('a same-site request: every cookie goes and may be set', () => {
    expect(cookieContexts(facts({ initiator: fromB }))).toEqual({ request: 'strict', response: 'strict', script: 'strict' });
    expect(cookieContexts(facts({ initiator: fromB, method: 'POST', fetchMode: 'navigate', fetchDest: 'document' }))).toEqual({
      request: 'strict',
      response: 'strict',
      script: 'strict',
    });
  });

  it('a cross-site fetch, image or frame: SameSite=None only, both ways; a form POST: also fresh cookies without SameSite (Lax+POST)', () => {
    for (const f of [
      facts({ initiator: fromA }),
      facts({ initiator: fromA, fetchMode: 'no-cors', fetchDest: 'image' }),
      facts({ initiator: fromA, fetchMode: 'navigate', fetchDest: 'iframe' }),
    ]) {
      expect(cookieContexts(f)).toEqual({ request: 'none', response: 'none', script: 'none' });
    }
    // A top-level POST: no Lax cookies go (but Chromium's two minutes for fresh ones without SameSite),
    // its answer (an SSO callback) may set them, and the page sees its own site's cookies.
    expect(cookieContexts(facts({ initiator: fromA, method: 'POST', ...navigation }))).toEqual({ request: 'lax-unsafe', response: 'lax', script: 'strict' });
  });

  it('a cross-site top-level navigation by GET or HEAD is Lax: Strict cookies stay behind', () => {
    expect(cookieContexts(facts({ initiator: fromA, ...navigation }))).toEqual({ request: 'lax', response: 'lax', script: 'strict' });
    expect(cookieContexts(facts({ initiator: fromA, method: 'HEAD', ...navigation })).request).toBe('lax');
    // A navigation from a page outside the gateway's site.
    expect(cookieContexts(facts({ initiator: 'foreign', fetchSite: 'cross-site', ...navigation })).request).toBe('lax');
  });

  it('no initiator: the user typed the URL (Sec-Fetch-Site: none) is same-site; a page that hid its Referer is not', () => {
    expect(cookieContexts(facts({ fetchSite: 'none', ...navigation })).request).toBe('strict');
    // rel=noreferrer / Referrer-Policy: no-referrer from another host of the session: which site is unknown.
    expect(cookieContexts(facts({ fetchSite: 'same-site', ...navigation })).request).toBe('lax');
    expect(cookieContexts(facts({ fetchSite: 'same-site', fetchMode: 'no-cors', fetchDest: 'image' })).request).toBe('none');
    // The target's own host.
    expect(cookieContexts(facts({ fetchSite: 'same-origin', fetchMode: 'no-cors', fetchDest: 'image' })).request).toBe('strict');
  });

  it('the browser has the last word on cross-site: Sec-Fetch-Site cross-site, an opaque or foreign initiator', () => {
    expect(cookieContexts(facts({ initiator: fromB, fetchSite: 'cross-site' })).request).toBe('none');
    expect(cookieContexts(facts({ initiator: 'foreign' })).request).toBe('none');
  });

  it('without Fetch Metadata (a gateway on plain http): the initiator decides, a request for HTML counts as a navigation', () => {
    const bare = { fetchSite: undefined, fetchMode: undefined, fetchDest: undefined };
    expect(cookieContexts(facts({ ...bare, initiator: fromB })).request).toBe('strict');
    expect(cookieContexts(facts({ ...bare, initiator: fromA })).request).toBe('none');
    expect(cookieContexts(facts({ ...bare, initiator: fromA, accept: 'text/html,*/*' })).request).toBe('lax');
    expect(cookieContexts(facts({ ...bare, initiator: fromA, accept: 'text/html', method: 'POST' }))).toEqual({
      request: 'lax-unsafe',
      response: 'lax',
      script: 'strict',
    });
    // Nothing at all (not a page's request: a tool, the participant's own client).
    expect(cookieContexts(facts({ ...bare })).request).toBe('strict');
  });
});

describe('fetchSiteBetween', () => {
  it.each<[string, string, string]>([
    ['https://shop.b.example/a', 'https://shop.b.example/b', 'same-origin'],
    ['https://www.b.example/', 'https://shop.b.example/', 'same-site'],
    // Ports count for the origin, not for the site.
    ['https://shop.b.example:8443/', 'https://shop.b.example/', 'same-site'],
    ['http://127.0.0.1:1/', 'http://127.0.0.1:2/', 'same-site'],
    // Schemeful.
    ['http://shop.b.example/', 'https://shop.b.example/', 'cross-site'],
    ['https://www.a.example/', 'https://shop.b.example/', 'cross-site'],
    ['https://alice.github.io/', 'https://bob.github.io/', 'cross-site'],
  ])('%s -> %s: %s', (initiator, target, expected) => {
    expect(fetchSiteBetween(new URL(initiator), new URL(target))).toBe(expected);
  });
});

describe('realFetchSite: the Sec-Fetch-Site the real site gets and the cookies that go with the request', () => {
  const sameOriginB = new URL('https://shop.b.example/other');
  const otherC = new URL('https://c.example/');
  const image = { fetchMode: 'no-cors', fetchDest: 'image' } as const;
  // [what, the browser's Sec-Fetch-Site (relative to the proxied hosts), the real initiator,
  //  the real relation, the Sec-Fetch-Site the real site gets,
  //  the jar's context for a subresource (an image), for a top-level navigation by GET]
  // (*: changed when the jar took its decision from the real relation; it used to prefer the
  // Referer to the browser's same-origin and to count a same-site hop back to the target's origin as same-site.)
  it.each<[string, string | undefined, RequestFacts['initiator'], string, string | undefined, string, string]>([
    // The browser said nothing (plain http gateway): nothing is invented; the initiator alone decides the cookies.
    ['no Fetch Metadata, an initiator of another site', undefined, fromA, 'cross-site', undefined, 'none', 'lax'],
    ['no Fetch Metadata, an initiator of the same site', undefined, fromB, 'same-site', undefined, 'strict', 'strict'],
    ['no Fetch Metadata, an initiator outside the session', undefined, 'foreign', 'cross-site', undefined, 'none', 'lax'],
    ["no Fetch Metadata, no initiator (a tool, the participant's own client)", undefined, null, 'none', undefined, 'strict', 'strict'],
    // User-initiated: stays none.
    ['typed by the user', 'none', null, 'none', 'none', 'strict', 'strict'],
    ['typed by the user, a Referer anyway', 'none', fromA, 'none', 'none', 'strict', 'strict'],
    // Same proxied host is the same real origin: exact, whatever the Referer says.
    ['same-origin', 'same-origin', sameOriginB, 'same-origin', 'same-origin', 'strict', 'strict'],
    ['same-origin without a Referer (no-referrer)', 'same-origin', null, 'same-origin', 'same-origin', 'strict', 'strict'],
    // * (was none / lax: the jar took Origin: null for a foreign page)
    ['same-origin with Origin: null (a POST under no-referrer)', 'same-origin', 'foreign', 'same-origin', 'same-origin', 'strict', 'strict'],
    // * (was none / lax: the jar took the style sheet for the initiator; Chromium sends the page's cookies)
    ['same-origin, a style sheet of another site for Referer', 'same-origin', fromA, 'same-origin', 'same-origin', 'strict', 'strict'],
    // The browser saw another site (outside the gateway's, or a redirect chain through one).
    ['cross-site', 'cross-site', null, 'cross-site', 'cross-site', 'none', 'lax'],
    ['cross-site, a Referer of the same site', 'cross-site', fromB, 'cross-site', 'cross-site', 'none', 'lax'],
    ['cross-site, a Referer of the same origin', 'cross-site', sameOriginB, 'cross-site', 'cross-site', 'none', 'lax'],
    // Another proxied host: the real initiator decides.
    ['same-site, from another site', 'same-site', fromA, 'cross-site', 'cross-site', 'none', 'lax'],
    ['same-site, from another site (a third one)', 'same-site', otherC, 'cross-site', 'cross-site', 'none', 'lax'],
    ['same-site, from the same site', 'same-site', fromB, 'same-site', 'same-site', 'strict', 'strict'],
    ['same-site, from a page outside the session (the gateway host, another session)', 'same-site', 'foreign', 'cross-site', 'cross-site', 'none', 'lax'],
    // No initiator (Referrer-Policy: no-referrer, or the ticket redirect hid it): unknown, so the safe answer.
    ['same-site, no initiator', 'same-site', null, 'cross-site', 'cross-site', 'none', 'lax'],
    // The initiator is the target's own origin, yet the browser saw another host: a redirect
    // through it, or a style sheet's Referer; which site is unknown. Cookies: Chromium does not
    // look at the redirect chain, so a navigation (its Referer is the document that started it)
    // keeps every cookie; a subresource could be a style sheet's image on another site's page.
    // * (the image was strict)
    ['same-site, an initiator of the same origin (a hop through another host)', 'same-site', sameOriginB, 'cross-site', 'cross-site', 'none', 'strict'],
    // Not a value of Fetch Metadata 1: nothing to rebuild it from. * (was strict / strict: the jar trusted the Referer)
    ['an unknown value', 'same-planet', fromB, 'cross-site', 'cross-site', 'none', 'lax'],
  ])('%s: %s from %s -> %s, sent %s; cookies of an image %s, of a navigation %s', (_what, fetchSite, initiator, relation, header, subresource, navigated) => {
    expect(realFetchSite(facts({ fetchSite, initiator }))).toBe(relation);
    expect(upstreamFetchSite(facts({ fetchSite, initiator }))).toBe(header);
    // Whatever the mode and destination.
    expect(realFetchSite(facts({ fetchSite, initiator, ...navigation }))).toBe(relation);
    expect(upstreamFetchSite(facts({ fetchSite, initiator, ...navigation }))).toBe(header);
    // The cookies follow the same relation (but for the navigation back to its initiator's origin).
    expect(cookieContexts(facts({ fetchSite, initiator, ...image })).request).toBe(subresource);
    expect(cookieContexts(facts({ fetchSite, initiator })).request).toBe(subresource);
    expect(cookieContexts(facts({ fetchSite, initiator, ...navigation })).request).toBe(navigated);
  });

  it("the jar is same-site exactly where the header is not cross-site, but for a navigation back to its initiator's origin through another host", () => {
    const initiators: RequestFacts['initiator'][] = [null, 'foreign', fromA, fromB, sameOriginB, otherC];
    for (const fetchSite of [undefined, 'none', 'same-origin', 'same-site', 'cross-site', 'same-planet']) {
      for (const initiator of initiators) {
        for (const over of [{}, image, navigation, { fetchMode: 'navigate', fetchDest: 'iframe' }]) {
          const f = facts({ fetchSite, initiator, ...over });
          const back = fetchSite === 'same-site' && f.fetchMode === 'navigate' && initiator === sameOriginB;
          expect(isSameSiteRequest(f), `${fetchSite} ${initiator} ${f.fetchDest}`).toBe(realFetchSite(f) !== 'cross-site' || back);
        }
      }
    }
  });

  it('what it cannot see: a redirect chain from www.b.example through another site to shop.b.example is same-site (Chromium: cross-site)', () => {
    // The last hop names only its initiator (Referer www.b.example), not the hop through the other site.
    expect(upstreamFetchSite(facts({ fetchSite: 'same-site', initiator: fromB }))).toBe('same-site');
    // Its cookies: every one, as in Chromium (which does not look at the chain for cookies).
    expect(cookieContexts(facts({ fetchSite: 'same-site', initiator: fromB })).request).toBe('strict');
  });

  it("what it cannot see: the page behind a style sheet's Referer", () => {
    // An image of shop.b.example in a style sheet of cdn.b.example on A's page: the browser says
    // same-site (two proxied hosts), the Referer is B's style sheet. Chromium: cross-site, None only.
    const cdnB = new URL('https://cdn.b.example/style.css');
    expect(upstreamFetchSite(facts({ fetchSite: 'same-site', initiator: cdnB, ...image }))).toBe('same-site');
    expect(cookieContexts(facts({ fetchSite: 'same-site', initiator: cdnB, ...image })).request).toBe('strict');
    // An image of shop.b.example in a style sheet of A on a page of www.b.example. Chromium: same-site, every cookie.
    expect(upstreamFetchSite(facts({ fetchSite: 'same-site', initiator: new URL('https://www.a.example/style.css'), ...image }))).toBe('cross-site');
    expect(cookieContexts(facts({ fetchSite: 'same-site', initiator: new URL('https://www.a.example/style.css'), ...image })).request).toBe('none');
    // An image of B in a style sheet of B's own origin on A's page: cross-site both ways, as in Chromium;
    // the same facts as B's own image redirected by A back to B, which Chromium sends every cookie.
    const styleB = new URL('https://shop.b.example/style.css');
    expect(upstreamFetchSite(facts({ fetchSite: 'same-site', initiator: styleB, ...image }))).toBe('cross-site');
    expect(cookieContexts(facts({ fetchSite: 'same-site', initiator: styleB, ...image })).request).toBe('none');
  });
});

describe('requestFacts', () => {
  const mapper = new UrlMapper('http://gw.localhost:8080');
  const origins = new OriginTable();
  const a = origins.labelFor('https://www.a.example')!;
  const b = origins.labelFor('https://shop.b.example')!;
  const sid = 'abcdefghijklmnopqrstuvwxyz';
  const proxied = (label: string, path = '/') => `${mapper.proxiedOrigin({ label, sessionId: sid })}${path}`;
  const toReal = (u: URL) => mapper.toRealUrl(u, sid, origins);

  it('takes the Origin, else the Referer, mapped back to the real site', () => {
    const f = requestFacts({ origin: proxied(a).slice(0, -1), referer: proxied(b, '/x') }, 'post', B, toReal);
    expect(f.initiator).toEqual(new URL('https://www.a.example/'));
    expect(f.method).toBe('POST');
    expect(requestFacts({ referer: proxied(b, '/page?q=1') }, 'GET', B, toReal).initiator).toEqual(new URL('https://shop.b.example/page?q=1'));
    expect(requestFacts({}, 'GET', B, toReal).initiator).toBeNull();
  });

  it('an opaque Origin, a page outside the session or an unreadable header is foreign', () => {
    expect(requestFacts({ origin: 'null', referer: proxied(b) }, 'POST', B, toReal).initiator).toBe('foreign');
    expect(requestFacts({ origin: 'https://evil.example' }, 'POST', B, toReal).initiator).toBe('foreign');
    expect(requestFacts({ referer: 'http://gw.localhost:8080/' }, 'GET', B, toReal).initiator).toBe('foreign');
    expect(requestFacts({ referer: 'not a url' }, 'GET', B, toReal).initiator).toBe('foreign');
    // Another session's host.
    expect(requestFacts({ referer: `http://${a}--${'b'.repeat(26)}.gw.localhost:8080/` }, 'GET', B, toReal).initiator).toBe('foreign');
  });

  it('gives the Fetch Metadata as sent', () => {
    const f = requestFacts(
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' },
      'GET',
      B,
      toReal,
    );
    expect(f).toMatchObject({ fetchSite: 'same-site', fetchMode: 'navigate', fetchDest: 'document', accept: 'text/html' });
  });
});
