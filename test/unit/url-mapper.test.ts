import { describe, expect, it } from 'vitest';
import { OriginTable, SESSION_ID_PATTERN, UrlMapper } from '../../gateway/url-mapper.js';

const SID = 'abcdefghijklmnopqrstuvwxyz';
const OTHER_SID = '234567abcdefghijklmnopqrst';

function tableWith(...origins: string[]): OriginTable {
  const table = new OriginTable();
  for (const o of origins) table.labelFor(o);
  return table;
}

describe('SESSION_ID_PATTERN', () => {
  it.each<[string, boolean]>([
    [SID, true],
    [OTHER_SID, true],
    ['a'.repeat(26), true],
    ['7'.repeat(26), true],
    ['a'.repeat(25), false],
    ['a'.repeat(27), false],
    [`${'a'.repeat(25)}1`, false],
    [`${'a'.repeat(25)}8`, false],
    [`${'a'.repeat(25)}0`, false],
    [`${'a'.repeat(25)}A`, false],
    [`${'a'.repeat(25)}-`, false],
    ['', false],
  ])('%s -> %s', (id, expected) => {
    expect(SESSION_ID_PATTERN.test(id)).toBe(expected);
  });
});

describe('OriginTable', () => {
  it('labels origins o1, o2, ... in order and keeps them stable', () => {
    const table = new OriginTable();
    expect(table.labelFor('https://a.com')).toBe('o1');
    expect(table.labelFor('https://b.com')).toBe('o2');
    expect(table.labelFor('https://a.com')).toBe('o1');
    expect(table.labelFor('http://a.com')).toBe('o3');
    expect(table.labelFor('https://b.com')).toBe('o2');
    expect(table.entries()).toEqual([
      ['o1', 'https://a.com'],
      ['o2', 'https://b.com'],
      ['o3', 'http://a.com'],
    ]);
  });

  it('maps labels back to origins', () => {
    const table = tableWith('https://a.com', 'https://b.com');
    expect(table.originOf('o1')).toBe('https://a.com');
    expect(table.originOf('o2')).toBe('https://b.com');
    expect(table.originOf('o3')).toBeUndefined();
    expect(table.originOf('o0')).toBeUndefined();
    expect(table.originOf('')).toBeUndefined();
  });

  it(`caps the table at MAX_ORIGINS (${OriginTable.MAX_ORIGINS})`, () => {
    const table = new OriginTable();
    for (let i = 1; i <= OriginTable.MAX_ORIGINS; i++) {
      expect(table.labelFor(`https://s${i}.example.com`)).toBe(`o${i}`);
    }
    expect(table.labelFor('https://one-too-many.example.com')).toBeNull();
    expect(table.labelFor('https://s1.example.com')).toBe('o1');
    expect(table.labelFor(`https://s${OriginTable.MAX_ORIGINS}.example.com`)).toBe(`o${OriginTable.MAX_ORIGINS}`);
    expect(table.entries()).toHaveLength(OriginTable.MAX_ORIGINS);
    expect(table.originOf(`o${OriginTable.MAX_ORIGINS + 1}`)).toBeUndefined();
  });

  it('gives every session its own labels', () => {
    const a = tableWith('https://a.com', 'https://b.com');
    const b = tableWith('https://b.com');
    expect(a.labelFor('https://b.com')).toBe('o2');
    expect(b.labelFor('https://b.com')).toBe('o1');
  });
});

describe('UrlMapper basics', () => {
  it.each<[string, string, string, string]>([
    ['http://localhost:8080', 'http:', 'localhost', '8080'],
    ['http://localhost:8080/', 'http:', 'localhost', '8080'],
    ['https://cobrowse.example.com', 'https:', 'cobrowse.example.com', ''],
    ['https://cobrowse.example.com:443', 'https:', 'cobrowse.example.com', ''],
    ['https://COBROWSE.Example.com:8443', 'https:', 'cobrowse.example.com', '8443'],
  ])('%s', (publicUrl, scheme, baseHostname, port) => {
    const m = new UrlMapper(publicUrl);
    expect([m.scheme, m.baseHostname, m.port]).toEqual([scheme, baseHostname, port]);
  });

  it('builds the gateway origin and proxied hosts', () => {
    const local = new UrlMapper('http://localhost:8080');
    expect(local.gatewayOrigin).toBe('http://localhost:8080');
    expect(local.proxiedHostname({ label: 'o3', sessionId: SID })).toBe(`o3--${SID}.localhost`);
    expect(local.proxiedOrigin({ label: 'o3', sessionId: SID })).toBe(`http://o3--${SID}.localhost:8080`);
    const prod = new UrlMapper('https://cobrowse.example.com');
    expect(prod.gatewayOrigin).toBe('https://cobrowse.example.com');
    expect(prod.proxiedOrigin({ label: 'o1', sessionId: SID })).toBe(`https://o1--${SID}.cobrowse.example.com`);
  });

  it.each<[string, string, boolean]>([
    ['http://localhost:8080', 'localhost:8080', true],
    ['http://localhost:8080', 'LOCALHOST:8080', true],
    ['http://localhost:8080', 'localhost', true],
    ['http://localhost:8080', `o1--${SID}.localhost:8080`, false],
    ['http://localhost:8080', 'localhost.evil.com:8080', false],
    ['http://localhost:8080', 'evil-localhost:8080', false],
    ['https://cobrowse.example.com', 'cobrowse.example.com', true],
    ['https://cobrowse.example.com', 'x.cobrowse.example.com', false],
    ['https://cobrowse.example.com', 'example.com', false],
  ])('isGatewayHost (%s) %s -> %s', (publicUrl, host, expected) => {
    expect(new UrlMapper(publicUrl).isGatewayHost(host)).toBe(expected);
  });
});

describe('UrlMapper.parseHost', () => {
  const local = new UrlMapper('http://localhost:8080');
  const prod = new UrlMapper('https://cobrowse.example.com');

  it.each<[UrlMapper, string, { label: string; sessionId: string }]>([
    [local, `o1--${SID}.localhost:8080`, { label: 'o1', sessionId: SID }],
    [local, `o1--${SID}.localhost`, { label: 'o1', sessionId: SID }],
    [local, `O1--${SID.toUpperCase()}.LOCALHOST:8080`, { label: 'o1', sessionId: SID }],
    [local, `o42--${OTHER_SID}.localhost:8080`, { label: 'o42', sessionId: OTHER_SID }],
    [local, `o200--${SID}.localhost:8080`, { label: 'o200', sessionId: SID }],
    [local, `o9999--${SID}.localhost:8080`, { label: 'o9999', sessionId: SID }],
    [prod, `o1--${SID}.cobrowse.example.com`, { label: 'o1', sessionId: SID }],
    [prod, `o7--${SID}.Cobrowse.Example.Com:443`, { label: 'o7', sessionId: SID }],
  ])('accepts %#: %s', (mapper, host, expected) => {
    expect(mapper.parseHost(host)).toEqual(expected);
  });

  it.each<[UrlMapper, string]>([
    [local, 'localhost:8080'],
    [local, 'localhost'],
    [local, ''],
    [local, `.localhost:8080`],
    [local, `${SID}.localhost:8080`],
    [local, `o1${SID}.localhost:8080`],
    [local, `o1-${SID}.localhost:8080`],
    [local, `o1---${SID}.localhost:8080`],
    [local, `o0--${SID}.localhost:8080`],
    [local, `o01--${SID}.localhost:8080`],
    [local, `o10000--${SID}.localhost:8080`],
    [local, `x1--${SID}.localhost:8080`],
    [local, `o--${SID}.localhost:8080`],
    [local, `oa--${SID}.localhost:8080`],
    [local, `o1--${SID.slice(1)}.localhost:8080`],
    [local, `o1--${SID}a.localhost:8080`],
    [local, `o1--${SID.slice(1)}0.localhost:8080`],
    [local, `o1--${SID.slice(1)}8.localhost:8080`],
    [local, `o1--${SID.slice(1)}_.localhost:8080`],
    [local, `o1--${SID}.localhost.evil.com:8080`],
    [local, `o1--${SID}.localhost.evil.com`],
    [local, `o1--${SID}.evil.com:8080`],
    [local, `o1--${SID}.notlocalhost:8080`],
    [local, `o1--${SID}localhost:8080`],
    [local, `evil.o1--${SID}.localhost:8080`],
    [local, `o1--${SID}.o2--${SID}.localhost:8080`],
    [prod, `o1--${SID}.localhost:8080`],
    [prod, `o1--${SID}.example.com`],
    [prod, `o1--${SID}.cobrowse.example.com.evil.net`],
    [prod, `o1--${SID}.evilcobrowse.example.com`],
    [prod, 'cobrowse.example.com'],
  ])('rejects %#: %s', (mapper, host) => {
    expect(mapper.parseHost(host)).toBeNull();
  });
});

const REAL_URLS = [
  'https://example.com/',
  'https://example.com/a/b/c.html',
  'https://example.com/search?q=hello+world&lang=en',
  'https://example.com/page#section-2',
  'https://example.com/p?x=1#frag',
  'https://example.com/path%20with%20spaces/%E2%9C%93',
  'https://shop.example.com:8443/cart?id=5',
  'http://example.org/',
  'http://example.org:8000/api/v1/items?limit=10',
  'http://127.0.0.1:3000/dashboard',
  'http://10.1.2.3/x?y#z',
];

describe.each(['http://localhost:8080', 'https://cobrowse.example.com'])('round trips through %s', (publicUrl) => {
  const mapper = new UrlMapper(publicUrl);
  const publicOrigin = new URL(publicUrl);

  it.each(REAL_URLS)('%s', (realText) => {
    const origins = new OriginTable();
    origins.labelFor('https://unrelated.example');
    const real = new URL(realText);
    const proxiedText = mapper.toProxiedUrl(real, SID, origins);
    expect(proxiedText).not.toBeNull();
    const proxied = new URL(proxiedText!);
    const label = origins.labelFor(real.origin);
    expect(label).toBe('o2');
    expect(proxied.protocol).toBe(publicOrigin.protocol);
    expect(proxied.port).toBe(publicOrigin.port);
    expect(proxied.hostname).toBe(`o2--${SID}.${publicOrigin.hostname}`);
    expect(`${proxied.pathname}${proxied.search}${proxied.hash}`).toBe(`${real.pathname}${real.search}${real.hash}`);
    expect(mapper.parseHost(proxied.host)).toEqual({ label: 'o2', sessionId: SID });
    expect(mapper.toRealUrl(proxied, SID, origins)?.href).toBe(real.href);
  });

  it('keeps one label for every URL of an origin', () => {
    const origins = new OriginTable();
    const a = mapper.toProxiedUrl(new URL('https://example.com/a'), SID, origins);
    const b = mapper.toProxiedUrl(new URL('https://example.com/b?c'), SID, origins);
    const c = mapper.toProxiedUrl(new URL('https://example.com:8443/'), SID, origins);
    expect(new URL(a!).host).toBe(new URL(b!).host);
    expect(new URL(c!).host).not.toBe(new URL(a!).host);
  });
});

describe('UrlMapper.toProxiedUrl', () => {
  const mapper = new UrlMapper('http://localhost:8080');

  it('gives exact proxied URLs', () => {
    const origins = new OriginTable();
    expect(mapper.toProxiedUrl(new URL('https://example.com/x?y=1#z'), SID, origins)).toBe(`http://o1--${SID}.localhost:8080/x?y=1#z`);
    expect(mapper.toProxiedUrl(new URL('http://example.com:81/'), SID, origins)).toBe(`http://o2--${SID}.localhost:8080/`);
  });

  it('returns null when the origin table is full', () => {
    const origins = new OriginTable();
    for (let i = 0; i < OriginTable.MAX_ORIGINS; i++) origins.labelFor(`https://s${i}.example.com`);
    expect(mapper.toProxiedUrl(new URL('https://new.example.com/'), SID, origins)).toBeNull();
    expect(mapper.toProxiedUrl(new URL('https://s0.example.com/p'), SID, origins)).toBe(`http://o1--${SID}.localhost:8080/p`);
  });
});

describe('UrlMapper.toRealUrl refusals', () => {
  const local = new UrlMapper('http://localhost:8080');
  const prod = new UrlMapper('https://cobrowse.example.com');
  const origins = tableWith('https://example.com', 'http://example.org:8000');

  it.each<[string, UrlMapper, string]>([
    ['another session', local, `http://o1--${OTHER_SID}.localhost:8080/`],
    ['unknown label', local, `http://o3--${SID}.localhost:8080/`],
    ['wrong scheme', local, `https://o1--${SID}.localhost:8080/`],
    ['wrong port', local, `http://o1--${SID}.localhost:9090/`],
    ['default port instead of 8080', local, `http://o1--${SID}.localhost/`],
    ['gateway host itself', local, 'http://localhost:8080/'],
    ['other base domain', local, `http://o1--${SID}.evil.com:8080/`],
    ['suffix trick', local, `http://o1--${SID}.localhost.evil.com:8080/`],
    ['prod with http', prod, `http://o1--${SID}.cobrowse.example.com/`],
    ['prod with explicit port', prod, `https://o1--${SID}.cobrowse.example.com:8443/`],
    ['prod with another session', prod, `https://o2--${OTHER_SID}.cobrowse.example.com/`],
    ['non-http URL', local, 'javascript:alert(1)'],
  ])('%s: %s', (_what, mapper, url) => {
    expect(mapper.toRealUrl(new URL(url), SID, origins)).toBeNull();
  });

  it('maps the second label to its origin', () => {
    expect(local.toRealUrl(new URL(`http://o2--${SID}.localhost:8080/items?a=1`), SID, origins)?.href).toBe('http://example.org:8000/items?a=1');
    expect(prod.toRealUrl(new URL(`https://o1--${SID}.cobrowse.example.com:443/`), SID, origins)?.href).toBe('https://example.com/');
  });
});

describe('UrlMapper.toRealUrl stays on the label origin', () => {
  const mapper = new UrlMapper('http://localhost:8080');
  const origins = tableWith('https://example.com');

  it.each([
    `http://o1--${SID}.localhost:8080//evil.com/x`,
    `http://o1--${SID}.localhost:8080//evil.com`,
    `http://o1--${SID}.localhost:8080/\\evil.com/x`,
    `http://o1--${SID}.localhost:8080///evil.com/x`,
  ])('%s', (proxied) => {
    const real = mapper.toRealUrl(new URL(proxied), SID, origins);
    expect(real?.origin).toBe('https://example.com');
  });

  it('round-trips a real URL whose path starts with //', () => {
    const real = new URL('https://example.com//double/slash?x=1');
    const proxied = mapper.toProxiedUrl(real, SID, origins);
    expect(mapper.toRealUrl(new URL(proxied!), SID, origins)?.href).toBe(real.href);
  });
});
