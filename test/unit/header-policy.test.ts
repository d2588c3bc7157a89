import { describe, expect, it } from 'vitest';
import {
  downstreamResponseHeaders,
  mapPermissionsPolicy,
  type RawHeaders,
  type ToBrowserUrl,
  type ToRealUrl,
  upstreamRequestHeaders,
} from '../../gateway/header-policy.js';
import { mapLinkHeader } from '../../gateway/link-header.js';

const PROXY_ORIGIN = 'http://o1--abcdefghijklmnopqrstuvwxyz.localhost:8080';
const REAL_ORIGIN = 'https://shop.example.com';

const toReal: ToRealUrl = (url) => (url.origin === PROXY_ORIGIN ? new URL(`${url.pathname}${url.search}${url.hash}`, REAL_ORIGIN) : null);
const toBrowser: ToBrowserUrl = (url) => `browser(${url.href})`;

const REQUEST_URL = new URL('https://shop.example.com/dir/page?x=1');

function upstream(incoming: Record<string, string>, jar = ''): Record<string, string> {
  return upstreamRequestHeaders(incoming, toReal, jar);
}

function downstream(raw: RawHeaders) {
  return downstreamResponseHeaders(raw, REQUEST_URL, toBrowser);
}

describe('upstreamRequestHeaders', () => {
  it('keeps ordinary headers as they are', () => {
    const out = upstream({
      accept: 'text/html',
      'user-agent': 'UA/1',
      'accept-language': 'fr',
      'content-type': 'application/json',
      authorization: 'Bearer x',
      'x-custom': 'y',
    });
    expect(out).toEqual({
      accept: 'text/html',
      'user-agent': 'UA/1',
      'accept-language': 'fr',
      'content-type': 'application/json',
      authorization: 'Bearer x',
      'x-custom': 'y',
      // The browser sent no Accept-Encoding: the site is asked for the body as it is.
      'accept-encoding': 'identity',
    });
  });

  it.each([
    'connection',
    'keep-alive',
    'proxy-connection',
    'proxy-authenticate',
    'proxy-authorization',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'http2-settings',
    'host',
    'content-length',
    'expect',
    'forwarded',
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-real-ip',
  ])('drops %s', (name) => {
    const out = upstream({ [name]: 'v', accept: '*/*' });
    expect(out).not.toHaveProperty(name);
    expect(out.accept).toBe('*/*');
  });

  it('drops the headers named in Connection', () => {
    const out = upstream({ connection: 'keep-alive, X-Secret-Hop ,  x-other', 'x-secret-hop': '1', 'x-other': '2', 'x-kept': '3' });
    expect(out).not.toHaveProperty('x-secret-hop');
    expect(out).not.toHaveProperty('x-other');
    expect(out).not.toHaveProperty('connection');
    expect(out['x-kept']).toBe('3');
  });

  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['browser cookie, empty jar', { cookie: 'gateway_session=secret' }, '', undefined],
    ['browser cookie, jar cookie', { cookie: 'gateway_session=secret' }, 'sid=real', 'sid=real'],
    ['no browser cookie, jar cookie', {}, 'a=1; b=2', 'a=1; b=2'],
    ['nothing at all', {}, '', undefined],
  ])('cookies: %s', (_what, incoming, jar, expected) => {
    const out = upstream(incoming, jar);
    expect(out.cookie).toBe(expected);
    expect(Object.values(out).join('\n')).not.toContain('secret');
  });

  it.each<[string, string]>([
    [PROXY_ORIGIN, REAL_ORIGIN],
    [`${PROXY_ORIGIN}/`, REAL_ORIGIN],
    ['null', 'null'],
    ['http://localhost:8080', 'null'],
    ['https://evil.example', 'null'],
    ['not a url', 'null'],
    ['', 'null'],
  ])('Origin %j becomes %j', (origin, expected) => {
    expect(upstream({ origin }).origin).toBe(expected);
  });

  it('adds no Origin when the browser sent none', () => {
    expect(upstream({ accept: '*/*' })).not.toHaveProperty('origin');
  });

  it.each<[string, string | undefined]>([
    [`${PROXY_ORIGIN}/products/1?color=red`, 'https://shop.example.com/products/1?color=red'],
    [`${PROXY_ORIGIN}/`, 'https://shop.example.com/'],
    ['http://localhost:8080/s/abc', undefined],
    ['https://elsewhere.example/page', undefined],
    ['garbage', undefined],
  ])('Referer %j becomes %j', (referer, expected) => {
    expect(upstream({ referer }).referer).toBe(expected);
  });

  it("Sec-Fetch-Site is the one rebuilt for the real site (never the browser's); Mode, Dest and User go as sent", () => {
    const fetchMetadata = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-user': '?1' };
    expect(upstreamRequestHeaders(fetchMetadata, toReal, '', 'cross-site')).toMatchObject({ ...fetchMetadata, 'sec-fetch-site': 'cross-site' });
    // None rebuilt (the browser sent none): none goes.
    const out = upstreamRequestHeaders(fetchMetadata, toReal, '');
    expect(out).not.toHaveProperty('sec-fetch-site');
    expect(out['sec-fetch-mode']).toBe('no-cors');
  });

  it.each<[string | undefined, string]>([
    ['gzip, deflate, br, zstd', 'gzip, deflate, br'],
    ['gzip, deflate', 'gzip, deflate'],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', 'gzip, deflate, br'],
    ['gzip;q=0, br', 'br'],
    ['*', 'gzip, deflate, br'],
    ['*;q=0, deflate', 'deflate'],
    ['x-gzip', 'gzip'],
    ['GZIP ; Q=0.5', 'gzip'],
    ['zstd, gzip', 'gzip'],
    ['zstd', 'identity'],
    ['identity', 'identity'],
    ['gzip;q=0', 'identity'],
    ['', 'identity'],
    [undefined, 'identity'],
  ])('the site is offered what the browser accepts of gzip, deflate and br: %j -> %j', (value, expected) => {
    expect(upstream(value === undefined ? {} : { 'accept-encoding': value })['accept-encoding']).toBe(expected);
  });

  it('does not change the incoming headers', () => {
    const incoming = { cookie: 'a=1', origin: PROXY_ORIGIN, connection: 'close' };
    const before = { ...incoming };
    upstream(incoming, 'b=2');
    expect(incoming).toEqual(before);
  });
});

describe('downstreamResponseHeaders: dropped and kept', () => {
  it('keeps ordinary headers, lowercased', () => {
    const { headers, setCookies } = downstream({ 'Content-Type': 'text/html', 'cache-control': 'no-store', ETag: '"1"', vary: 'accept' });
    expect(headers).toEqual([
      ['content-type', 'text/html'],
      ['cache-control', 'no-store'],
      ['etag', '"1"'],
      ['vary', 'accept'],
    ]);
    expect(setCookies).toEqual([]);
  });

  it.each([
    'connection',
    'keep-alive',
    'proxy-connection',
    'transfer-encoding',
    'upgrade',
    'trailer',
    'te',
    'strict-transport-security',
    'Strict-Transport-Security',
    'alt-svc',
    'Alt-Svc',
    'public-key-pins',
    'public-key-pins-report-only',
    'expect-ct',
    'content-length',
    'set-cookie2',
    'report-to',
    'Reporting-Endpoints',
    'nel',
  ])('drops %s', (name) => {
    const { headers } = downstream({ [name]: 'v', 'content-type': 'text/plain' });
    expect(headers).toEqual([['content-type', 'text/plain']]);
  });

  it('drops the headers named in Connection, as a string or a list', () => {
    expect(downstream({ connection: 'X-Hop, close', 'x-hop': '1', 'x-kept': '2' }).headers).toEqual([['x-kept', '2']]);
    expect(downstream({ connection: ['x-a', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' }).headers).toEqual([['x-c', '3']]);
  });

  it('skips undefined values and repeats list values', () => {
    expect(downstream({ 'x-none': undefined, vary: ['accept', 'origin'] }).headers).toEqual([
      ['vary', 'accept'],
      ['vary', 'origin'],
    ]);
  });
});

describe('downstreamResponseHeaders: Set-Cookie', () => {
  it.each<[string, RawHeaders, string[]]>([
    ['single value', { 'set-cookie': 'a=1; Path=/' }, ['a=1; Path=/']],
    ['list', { 'set-cookie': ['a=1', 'b=2; HttpOnly'] }, ['a=1', 'b=2; HttpOnly']],
    ['mixed-case name', { 'Set-Cookie': 'c=3' }, ['c=3']],
    ['empty list', { 'set-cookie': [] }, []],
  ])('%s', (_what, raw, expected) => {
    const { headers, setCookies } = downstream({ ...raw, 'content-type': 'text/html' });
    expect(setCookies).toEqual(expected);
    expect(headers).toEqual([['content-type', 'text/html']]);
  });

  it('collects Set-Cookie even when Connection names it', () => {
    const { headers, setCookies } = downstream({ connection: 'set-cookie', 'set-cookie': 'a=1' });
    expect(setCookies).toEqual(['a=1']);
    expect(headers).toEqual([]);
  });
});

describe('downstreamResponseHeaders: URL mapping', () => {
  it.each<[string, string, string]>([
    ['location', 'https://shop.example.com/next', 'browser(https://shop.example.com/next)'],
    ['location', '/login?back=%2F', 'browser(https://shop.example.com/login?back=%2F)'],
    ['location', 'other', 'browser(https://shop.example.com/dir/other)'],
    ['location', '../up', 'browser(https://shop.example.com/up)'],
    ['location', '?y=2', 'browser(https://shop.example.com/dir/page?y=2)'],
    ['location', '#frag', 'browser(https://shop.example.com/dir/page?x=1#frag)'],
    ['location', '//cdn.example.net/a', 'browser(https://cdn.example.net/a)'],
    ['location', 'http://other.example/', 'browser(http://other.example/)'],
    ['Location', '/mixed-case', 'browser(https://shop.example.com/mixed-case)'],
    ['content-location', '/doc.json', 'browser(https://shop.example.com/doc.json)'],
    ['location', 'http://[bad', 'http://[bad'],
  ])('%s: %s', (name, value, expected) => {
    expect(downstream({ [name]: value }).headers).toEqual([[name.toLowerCase(), expected]]);
  });

  it.each<[string, string]>([
    ['5; url=/x', '5; url=browser(https://shop.example.com/x)'],
    ['0;URL=https://other.example/y', '0;URL=browser(https://other.example/y)'],
    ['3, url=next', '3, url=browser(https://shop.example.com/dir/next)'],
    ["1; url='/quoted'", '1; url=browser(https://shop.example.com/quoted)'],
    ['2; url="/dq"', '2; url=browser(https://shop.example.com/dq)'],
    ['7; /bare', '7; browser(https://shop.example.com/bare)'],
    ['5', '5'],
    ['', ''],
    ['not a refresh', 'not a refresh'],
  ])('refresh %j', (value, expected) => {
    expect(downstream({ refresh: value }).headers).toEqual([['refresh', expected]]);
  });

  it.each<[string, string]>([
    ['<https://a/x>; rel=preload', '<browser(https://a/x)>; rel=preload'],
    ['</style.css>; rel=preload; as=style', '<browser(https://shop.example.com/style.css)>; rel=preload; as=style'],
    [
      '<a.js>; rel=modulepreload, <https://cdn.example/f.woff2>; rel=preload; as=font',
      '<browser(https://shop.example.com/dir/a.js)>; rel=modulepreload, <browser(https://cdn.example/f.woff2)>; rel=preload; as=font',
    ],
    ['<http://[bad>; rel=x', '<http://[bad>; rel=x'],
    ['rel=nothing', 'rel=nothing'],
  ])('link %j', (value, expected) => {
    expect(downstream({ link: value }).headers).toEqual([['link', expected]]);
  });

  // Header values come from undici as byte strings (one latin1 character per byte).
  const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

  it.each<[string, string, string]>([
    // UTF-8 bytes in a URL are read as UTF-8, as browsers do (the latin1 reading gave /caf%C3%83%C2%A9).
    ['location', bytes('/café?q=€'), 'browser(https://shop.example.com/caf%C3%A9?q=%E2%82%AC)'],
    ['content-location', bytes('/ü.json'), 'browser(https://shop.example.com/%C3%BC.json)'],
    // Bytes that are not UTF-8: as latin1 characters, as before.
    ['location', '/caf\u00e9', 'browser(https://shop.example.com/caf%C3%A9)'],
    ['refresh', bytes('0; url=/café'), '0; url=browser(https://shop.example.com/caf%C3%A9)'],
    // The rest of the value goes back as the bytes it came as.
    [
      'link',
      bytes('</ü.css>; rel=preload; as=style; title="Grüße"'),
      bytes('<browser(https://shop.example.com/%C3%BC.css)>; rel=preload; as=style; title="Grüße"'),
    ],
    ['content-disposition', bytes('attachment; filename="café.txt"'), bytes('attachment; filename="café.txt"')],
  ])('%s with bytes above 0x7f: %j', (name, value, expected) => {
    expect(downstream({ [name]: value }).headers).toEqual([[name, expected]]);
  });

  it('maps every value of a repeated Link header', () => {
    expect(downstream({ link: ['</a>; rel=preload', '</b>; rel=preload'] }).headers).toEqual([
      ['link', '<browser(https://shop.example.com/a)>; rel=preload'],
      ['link', '<browser(https://shop.example.com/b)>; rel=preload'],
    ]);
  });
});

describe('Link header preloads with integrity', () => {
  const base = new URL('https://site.test/page');
  const toBrowser = (u: URL) => (u.host === 'cdn.test' ? `http://o2--s.localhost${u.pathname}${u.search}` : u.href);

  it('moves the integrity of checked preloads into the URL, reports module preloads, and leaves others alone', () => {
    const value = [
      '<https://cdn.test/m.js>; rel=modulepreload; integrity="sha384-M/x+="; crossorigin',
      '</s.css?v=1>; rel=preload; as=style; integrity=sha256-S',
      '<https://cdn.test/i.png>; rel=preload; as=image; integrity="sha256-I"',
      '<https://cdn.test/p.js>; rel="modulepreload"',
    ].join(', ');
    const out = mapLinkHeader(value, base, toBrowser);
    expect(out.value).toBe(
      [
        `<http://o2--s.localhost/m.js?__cobrowse_sri=${encodeURIComponent('sha384-M/x+=')}>; rel=modulepreload; crossorigin`,
        ' <https://site.test/s.css?v=1&__cobrowse_sri=sha256-S>; rel=preload; as=style',
        ' <http://o2--s.localhost/i.png>; rel=preload; as=image; integrity="sha256-I"',
        ' <http://o2--s.localhost/p.js>; rel="modulepreload"',
      ].join(','),
    );
    expect(out.markedModules).toEqual([
      { url: 'http://o2--s.localhost/m.js', marked: `http://o2--s.localhost/m.js?__cobrowse_sri=${encodeURIComponent('sha384-M/x+=')}` },
    ]);
  });

  it('keeps commas and semicolons inside quoted parameters and URLs', () => {
    const out = mapLinkHeader('<https://cdn.test/a,b.js>; rel=preload; as=script; title="x, y; z"', base, toBrowser);
    expect(out.value).toBe('<http://o2--s.localhost/a,b.js>; rel=preload; as=script; title="x, y; z"');
  });
});

describe('mapPermissionsPolicy', () => {
  // maps.test (and, as an allowlist pattern would, any name ending so) is a session origin; anything else goes to the "not allowed" page.
  const map: ToBrowserUrl = (u) =>
    u.host.endsWith('maps.test') ? `http://o2--s.localhost${u.pathname}${u.search}` : `http://gw.localhost/blocked?url=${encodeURIComponent(u.href)}`;

  it.each<[string, boolean, string]>([
    ['geolocation=(self "https://maps.test"), camera=()', false, 'geolocation=(self "http://o2--s.localhost"), camera=()'],
    ['payment=("https://maps.test" "https://pay.other"), fullscreen=*', false, 'payment=("http://o2--s.localhost" "https://pay.other"), fullscreen=*'],
    ['geolocation="https://maps.test";report-to=main', false, 'geolocation="http://o2--s.localhost";report-to=main'],
    ['geolocation=("https://*.maps.test" "not a url")', false, 'geolocation=("https://*.maps.test" "not a url")'],
    ['geolocation=("https://*.test")', false, 'geolocation=("https://*.test")'],
    ["geolocation 'self' https://maps.test; camera 'none'", true, "geolocation 'self' http://o2--s.localhost; camera 'none'"],
    ['microphone https://other.test https://maps.test/', true, 'microphone https://other.test http://o2--s.localhost'],
  ])('%s', (value, legacy, expected) => {
    expect(mapPermissionsPolicy(value, legacy, map)).toBe(expected);
  });

  it('is applied to the policy headers the browser gets', () => {
    const raw = { 'Permissions-Policy': 'geolocation=(self "https://maps.test")', 'feature-policy': 'geolocation https://maps.test' };
    expect(downstreamResponseHeaders(raw, REQUEST_URL, map).headers).toEqual([
      ['permissions-policy', 'geolocation=(self "http://o2--s.localhost")'],
      ['feature-policy', 'geolocation http://o2--s.localhost'],
    ]);
  });
});

describe('downstreamResponseHeaders: Timing-Allow-Origin', () => {
  const map: ToBrowserUrl = (u) =>
    u.host === 'maps.test' ? `http://o2--s.localhost${u.pathname}` : `http://gw.localhost/blocked?url=${encodeURIComponent(u.href)}`;

  it.each<[string, string]>([
    ['https://maps.test', 'http://o2--s.localhost'],
    ['https://other.test, https://maps.test', 'https://other.test, http://o2--s.localhost'],
    ['*', '*'],
    ['null,  https://*.maps.test', 'null,  https://*.maps.test'],
    // Not serialized origins: they match nothing directly, and nothing through the gateway.
    ['https://MAPS.test, https://maps.test/, https://maps.test:443', 'https://MAPS.test, https://maps.test/, https://maps.test:443'],
  ])('%s', (value, expected) => {
    expect(downstreamResponseHeaders({ 'Timing-Allow-Origin': value }, REQUEST_URL, map).headers).toEqual([['timing-allow-origin', expected]]);
  });
});
