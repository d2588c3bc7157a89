import { describe, expect, it } from 'vitest';
import { Allowlist, type GatewayHosts, parseSitePattern, patternCoversGateway, patternMatches, type SitePattern } from '../../gateway/allowlist.js';

function pattern(input: string): SitePattern {
  const parsed = parseSitePattern(input);
  if (!parsed.ok) throw new Error(`expected ${input} to parse: ${parsed.error}`);
  return parsed.value;
}

describe('parseSitePattern: accepted entries', () => {
  it.each<[string, SitePattern]>([
    ['https://example.com', { text: 'https://example.com', scheme: 'https:', host: 'example.com', wildcard: false, port: '' }],
    ['https://example.com/', { text: 'https://example.com', scheme: 'https:', host: 'example.com', wildcard: false, port: '' }],
    ['  https://example.com  ', { text: 'https://example.com', scheme: 'https:', host: 'example.com', wildcard: false, port: '' }],
    ['HTTPS://EXAMPLE.COM', { text: 'https://example.com', scheme: 'https:', host: 'example.com', wildcard: false, port: '' }],
    ['https://example.com:443', { text: 'https://example.com', scheme: 'https:', host: 'example.com', wildcard: false, port: '' }],
    ['http://example.com:80', { text: 'http://example.com', scheme: 'http:', host: 'example.com', wildcard: false, port: '' }],
    ['http://example.com:443', { text: 'http://example.com:443', scheme: 'http:', host: 'example.com', wildcard: false, port: '443' }],
    ['https://example.com:80', { text: 'https://example.com:80', scheme: 'https:', host: 'example.com', wildcard: false, port: '80' }],
    ['https://example.com:8443', { text: 'https://example.com:8443', scheme: 'https:', host: 'example.com', wildcard: false, port: '8443' }],
    ['http://localhost:3000', { text: 'http://localhost:3000', scheme: 'http:', host: 'localhost', wildcard: false, port: '3000' }],
    ['http://127.0.0.1:8000', { text: 'http://127.0.0.1:8000', scheme: 'http:', host: '127.0.0.1', wildcard: false, port: '8000' }],
    ['http://[::1]:8000', { text: 'http://[::1]:8000', scheme: 'http:', host: '[::1]', wildcard: false, port: '8000' }],
    ['https://*.example.com', { text: 'https://*.example.com', scheme: 'https:', host: 'example.com', wildcard: true, port: '' }],
    ['https://*.Example.COM:443/', { text: 'https://*.example.com', scheme: 'https:', host: 'example.com', wildcard: true, port: '' }],
    ['http://*.example.com:8080', { text: 'http://*.example.com:8080', scheme: 'http:', host: 'example.com', wildcard: true, port: '8080' }],
    [
      'https://x-1.a-b.example.com:65535',
      { text: 'https://x-1.a-b.example.com:65535', scheme: 'https:', host: 'x-1.a-b.example.com', wildcard: false, port: '65535' },
    ],
    ['https://example.com:1', { text: 'https://example.com:1', scheme: 'https:', host: 'example.com', wildcard: false, port: '1' }],
  ])('%s', (input, expected) => {
    expect(parseSitePattern(input)).toEqual({ ok: true, value: expected });
  });
});

describe('parseSitePattern: refused entries', () => {
  it.each<[string, string]>([
    ['path', 'https://example.com/path'],
    ['path with trailing slash', 'https://example.com/a/'],
    ['query', 'https://example.com?q=1'],
    ['query after slash', 'https://example.com/?q=1'],
    ['fragment', 'https://example.com#top'],
    ['user', 'https://user@example.com'],
    ['user and password', 'https://user:pw@example.com'],
    ['no scheme', 'example.com'],
    ['scheme-relative', '//example.com'],
    ['ftp', 'ftp://example.com'],
    ['ws', 'ws://example.com'],
    ['file', 'file:///etc/passwd'],
    ['javascript', 'javascript:alert(1)'],
    ['single slash', 'https:/example.com'],
    ['empty', ''],
    ['scheme only', 'https://'],
    ['bare star', 'https://*'],
    ['star on a TLD', 'https://*.com'],
    ['star in the middle', 'https://a.*.example.com'],
    ['star at the end', 'https://example.*'],
    ['star glued to a label', 'https://*example.com'],
    ['star inside a label', 'https://a*.example.com'],
    ['double star', 'https://*.*.example.com'],
    ['star in scheme', '*://example.com'],
    ['wildcard on IPv4', 'https://*.10.0.0.1'],
    ['wildcard on IPv6', 'https://*.[::1]'],
    ['underscore', 'https://a_b.example.com'],
    ['space', 'https://exa mple.com'],
    ['leading hyphen', 'https://-a.example.com'],
    ['trailing hyphen', 'https://a-.example.com'],
    ['empty label', 'https://a..example.com'],
    ['trailing dot', 'https://example.com.'],
    ['leading dot', 'https://.example.com'],
    ['label of 64 characters', `https://${'a'.repeat(64)}.com`],
    ['host longer than 253', `https://${Array.from({ length: 50 }, () => 'abcde').join('.')}.com`],
    ['non-ASCII host', 'https://bücher.de'],
    ['IPv4 octet above 255', 'http://256.0.0.1'],
    ['port 0', 'https://example.com:0'],
    ['port 65536', 'https://example.com:65536'],
    ['port 70000', 'https://example.com:70000'],
    ['port of six digits', 'https://example.com:123456'],
    ['empty port', 'https://example.com:'],
    ['port not a number', 'https://example.com:http'],
    ['backslash', 'https://example.com\\evil.com'],
  ])('%s: %s', (_what, input) => {
    const parsed = parseSitePattern(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.length).toBeGreaterThan(10);
  });

  it('names the out-of-range port', () => {
    expect(parseSitePattern('https://example.com:70000')).toEqual({ ok: false, error: 'port 70000 is out of range' });
  });

  it('quotes the entry when it is not an origin', () => {
    const parsed = parseSitePattern('https://example.com/path');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain('"https://example.com/path"');
  });

  it('explains a wildcard that covers a whole TLD', () => {
    const parsed = parseSitePattern('https://*.com');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain('wildcard');
  });
});

describe('patternMatches', () => {
  it.each<[string, string, boolean]>([
    ['https://example.com', 'https://example.com', true],
    ['https://example.com', 'https://example.com/some/path?q=1', true],
    ['https://example.com', 'https://EXAMPLE.com', true],
    ['https://example.com', 'https://example.com:443', true],
    ['https://example.com:443', 'https://example.com', true],
    ['http://example.com:80', 'http://example.com', true],
    ['https://example.com', 'http://example.com', false],
    ['http://example.com', 'https://example.com', false],
    ['https://example.com', 'https://example.com:8443', false],
    ['https://example.com:8443', 'https://example.com:8443', true],
    ['https://example.com:8443', 'https://example.com', false],
    ['https://example.com:8443', 'https://example.com:8444', false],
    ['http://example.com:443', 'https://example.com', false],
    ['https://example.com', 'https://www.example.com', false],
    ['https://example.com', 'https://example.com.evil.net', false],
    ['https://example.com', 'https://evilexample.com', false],
    ['https://example.com', 'https://example.com./', false],
    ['https://*.example.com', 'https://a.example.com', true],
    ['https://*.example.com', 'https://a.b.example.com', true],
    ['https://*.example.com', 'https://A.Example.COM', true],
    ['https://*.example.com', 'https://a.example.com:443', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'https://evil-example.com', false],
    ['https://*.example.com', 'https://evilexample.com', false],
    ['https://*.example.com', 'https://example.com.evil.net', false],
    ['https://*.example.com', 'https://a.example.com.evil.net', false],
    ['https://*.example.com', 'https://a.example.community', false],
    ['https://*.example.com', 'http://a.example.com', false],
    ['https://*.example.com', 'https://a.example.com:8443', false],
    ['https://*.example.com:8443', 'https://a.example.com:8443', true],
    ['https://*.example.com:8443', 'https://a.example.com', false],
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000', true],
    ['http://127.0.0.1:8000', 'http://127.0.0.2:8000', false],
    ['http://[::1]:8000', 'http://[::1]:8000', true],
    ['http://[::1]:8000', 'http://[::2]:8000', false],
  ])('%s vs %s -> %s', (entry, url, expected) => {
    expect(patternMatches(pattern(entry), new URL(url))).toBe(expected);
  });
});

describe('Allowlist', () => {
  const list = new Allowlist(['https://example.com', 'https://*.shop.test', 'http://localhost:3000'].map(pattern));

  it.each<[string, boolean]>([
    ['https://example.com/', true],
    ['https://example.com:443/a?b#c', true],
    ['https://www.shop.test/cart', true],
    ['https://a.b.shop.test/', true],
    ['http://localhost:3000/api', true],
    ['https://shop.test/', false],
    ['https://evil-shop.test/', false],
    ['https://shop.test.evil.net/', false],
    ['http://example.com/', false],
    ['https://example.com:8443/', false],
    ['http://localhost:3001/', false],
    ['http://localhost/', false],
    ['https://other.com/', false],
    ['https://user@example.com/', false],
    ['https://user:pw@example.com/', false],
    ['https://:pw@example.com/', false],
    ['https://user@www.shop.test/', false],
    ['ftp://example.com/', false],
    ['ws://example.com/', false],
    ['wss://example.com/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['data:text/html,hi', false],
    ['blob:https://example.com/abc', false],
  ])('%s -> %s', (url, expected) => {
    expect(list.allows(new URL(url))).toBe(expected);
  });

  it('allows nothing when empty', () => {
    expect(new Allowlist([]).allows(new URL('https://example.com'))).toBe(false);
  });
});

describe('Allowlist: never the gateway itself', () => {
  // publicUrl https://cobrowse.example.com behind a TLS proxy; the gateway listens on 8080.
  const gateway: GatewayHosts = { hostname: 'cobrowse.example.com', ports: [443, 8080], listenPort: 8080 };
  const entries = [
    'https://*.example.com',
    'http://*.example.com:8080',
    'http://localhost:8080',
    'http://*.shop.localhost:8080',
    'http://127.0.0.1:8080',
    'http://[::1]:8080',
    'http://localhost:3000',
  ];
  const list = new Allowlist(entries.map(pattern), gateway);

  it.each<[string, boolean]>([
    ['https://shop.example.com/', true],
    ['http://shop.example.com:8080/', true],
    ['http://localhost:3000/', true],
    ['https://cobrowse.example.com/api/sessions', false],
    ['https://COBROWSE.example.com./', false],
    ['https://o1--abcdefghijklmnopqrstuvwxyz.cobrowse.example.com/', false],
    ['https://a.b.cobrowse.example.com:443/', false],
    ['http://o1--abcdefghijklmnopqrstuvwxyz.cobrowse.example.com:8080/', false],
    ['https://notcobrowse.example.com/', true],
    ['http://localhost:8080/', false],
    ['http://a.shop.localhost:8080/', false],
    ['http://127.0.0.1:8080/', false],
    ['http://2130706433:8080/', false],
    ['http://[::1]:8080/', false],
    ['http://[0:0:0:0:0:0:0:1]:8080/', false],
  ])('%s -> %s', (url, expected) => {
    expect(list.allows(new URL(url))).toBe(expected);
  });

  it('says why the gateway itself is refused', () => {
    expect(list.refusal(new URL('https://cobrowse.example.com/x'))).toBe(
      'https://cobrowse.example.com is this cobrowsing gateway itself: it never proxies to itself.',
    );
    expect(list.refusal(new URL('https://other.test/'))).toBe("https://other.test is not on this gateway's list of allowed sites.");
  });

  it.each<[string, boolean]>([
    ['https://*.example.com', true],
    ['https://cobrowse.example.com', true],
    ['https://*.cobrowse.example.com', true],
    ['http://*.cobrowse.example.com:8080', true],
    ['https://x.cobrowse.example.com', true],
    ['http://*.cobrowse.example.com', false],
    ['https://shop.example.com', false],
    ['https://*.shop.example.com', false],
    ['http://localhost:8080', true],
    ['http://*.shop.localhost:8080', true],
    ['http://127.0.0.2:8080', true],
    ['http://[::1]:8080', true],
    ['http://localhost:3000', false],
    ['http://10.0.0.1:8080', false],
  ])('pattern %s covers the gateway: %s', (entry, expected) => {
    expect(patternCoversGateway(pattern(entry), gateway)).toBe(expected);
  });
});
