import { describe, expect, it } from 'vitest';
import {
  Allowlist,
  type GatewayHosts,
  isListenerHost,
  listenerAddresses,
  type NetworkInterfaces,
  parseSitePattern,
  patternCoversGateway,
  patternMatches,
  patternNamesOwnAddress,
  type SitePattern,
} from '../../gateway/allowlist.js';

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

/** A machine with loopback, eth0 (10.0.0.5, fd00::5 and a link-local address) and a docker bridge. */
const INTERFACES: NetworkInterfaces = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    {
      address: '::1',
      netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      family: 'IPv6',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '::1/128',
      scopeid: 0,
    },
  ],
  eth0: [
    { address: '10.0.0.5', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:05', internal: false, cidr: '10.0.0.5/24' },
    { address: 'fd00::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:05', internal: false, cidr: 'fd00::5/64', scopeid: 0 },
    { address: 'fe80::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:05', internal: false, cidr: 'fe80::5/64', scopeid: 2 },
  ],
  docker0: [{ address: '172.17.0.1', netmask: '255.255.0.0', family: 'IPv4', mac: '02:42:00:00:00:01', internal: false, cidr: '172.17.0.1/16' }],
};

describe('Allowlist: never the gateway itself', () => {
  // publicUrl https://cobrowse.example.com behind a TLS proxy; the gateway listens on 8080 of all
  // interfaces of a machine whose eth0 has 10.0.0.5 and fd00::5.
  const gateway: GatewayHosts = {
    hostname: 'cobrowse.example.com',
    ports: [443, 8080],
    listenPort: 8080,
    addresses: listenerAddresses('0.0.0.0', INTERFACES),
  };
  const entries = [
    'http://10.0.0.5:8080',
    'http://10.0.0.5:3000',
    'http://[fd00::5]:8080',
    'http://10.0.0.6:8080',
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
    // The machine's own addresses on the listening port, however spelled; elsewhere they are a site.
    ['http://10.0.0.5:8080/', false],
    ['http://167772165:8080/', false],
    ['http://[::ffff:10.0.0.5]:8080/', false],
    ['http://[fd00::5]:8080/', false],
    ['http://[fd00:0:0:0:0:0:0:0005]:8080/', false],
    ['http://10.0.0.5:3000/', true],
    ['http://10.0.0.6:8080/', true],
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
    ['http://10.0.0.5:8080', true],
    ['http://[fd00::5]:8080', true],
    ['http://[fe80::5]:8080', true],
    ['http://10.0.0.5:3000', false],
    ['https://10.0.0.5', false],
  ])('pattern %s covers the gateway: %s', (entry, expected) => {
    expect(patternCoversGateway(pattern(entry), gateway)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['10.0.0.5', true],
    ['::ffff:10.0.0.5', true],
    ['FD00::5', true],
    ['[fd00::5]', true],
    ['127.0.0.9', true],
    ['::1', true],
    ['10.0.0.6', false],
    ['2001:db8::5', false],
    ['fe80::5%eth0', false],
  ])('a DNS answer %s on the listening port is the gateway: %s', (address, expected) => {
    expect(isListenerHost(gateway, address)).toBe(expected);
  });
});

describe("listenerAddresses: the machine's own addresses a listener is reached at", () => {
  const ALL = ['10.0.0.5', 'fd00:0:0:0:0:0:0:5', 'fe80:0:0:0:0:0:0:5', '172.17.0.1'];
  it.each<[string, string[]]>([
    ['0.0.0.0', ALL],
    ['::', ALL],
    ['[::]', ALL],
    ['0:0:0:0:0:0:0:0', ALL],
    ['gateway.internal', ALL],
    ['127.0.0.1', []],
    ['::1', []],
    ['localhost', []],
    ['10.0.0.5', ['10.0.0.5']],
    ['FD00::0005', ['fd00:0:0:0:0:0:0:5']],
    ['::ffff:10.0.0.5', ['10.0.0.5']],
    // An address no interface lists yet (a floating IP): the gateway listens there all the same.
    ['203.0.113.9', ['203.0.113.9']],
  ])('server.host %s', (host, expected) => {
    expect([...listenerAddresses(host, INTERFACES)].sort()).toEqual([...expected].sort());
  });

  it('is empty for all interfaces of a machine with only loopback', () => {
    expect(listenerAddresses('0.0.0.0', { lo: INTERFACES.lo }).size).toBe(0);
  });

  it.each<[string, number, boolean]>([
    ['http://10.0.0.5:8080', 8080, true],
    ['http://[fd00::5]:8080', 8080, true],
    ['http://10.0.0.5:8081', 8080, false],
    ['http://10.0.0.5', 80, true],
    ['http://gateway.internal:8080', 8080, false],
    ['http://*.gateway.internal:8080', 8080, false],
  ])('pattern %s names an own address on port %i: %s', (entry, port, expected) => {
    expect(patternNamesOwnAddress(pattern(entry), listenerAddresses('0.0.0.0', INTERFACES), port)).toBe(expected);
  });
});
