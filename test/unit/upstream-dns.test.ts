import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { addressKey, isInternalAddress, isLoopbackAddress, parseIPv6 } from '../../gateway/ip-address.js';
import { guardedLookup, lookupsByPort, type UpstreamLookup } from '../../gateway/upstream-dns.js';

describe('isInternalAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['2606:4700::1111', false],
    // IPv4 documentation, 6to4 relay anycast, their neighbours stay public
    ['192.0.2.1', true],
    ['198.51.100.7', true],
    ['203.0.113.255', true],
    ['192.88.99.1', true],
    ['192.0.3.1', false],
    ['198.51.101.1', false],
    ['203.0.114.1', false],
    ['192.88.100.1', false],
    // not an address at all, or one in a spelling nothing resolves to: internal
    ['', true],
    ['localhost', true],
    ['127.000.0.1', true],
    ['256.1.1.1', true],
    ['1.2.3', true],
    [':::', true],
    ['1::2::3', true],
    ['1:2:3:4:5:6:7:8:9', true],
    ['1:2:3:4:5:6:7', true],
    ['1::2:3:4:5:6:7:8', true],
    ['12345::1', true],
    ['[2606:4700::1111]', true],
    ['2606:4700::1111%eth0', true],
    // loopback and unspecified, spelled every way
    ['0:0:0:0:0:0:0:1', true],
    ['0000:0000:0000:0000:0000:0000:0000:0001', true],
    ['::0001', true],
    ['0::0', true],
    // IPv4-mapped in dotted and hex form, expanded, uppercase
    ['::ffff:7f00:1', true],
    ['::FFFF:7F00:0001', true],
    ['0:0:0:0:0:ffff:127.0.0.1', true],
    ['::ffff:a9fe:a9fe', true],
    ['::ffff:808:808', false],
    ['0000:0000:0000:0000:0000:FFFF:0808:0808', false],
    // IPv4-compatible and IPv4-translated (never a public site's answer)
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['::8.8.8.8', true],
    ['::ffff:0:127.0.0.1', true],
    ['::ffff:0:8.8.8.8', true],
    // NAT64: the well-known prefix by the IPv4 address it carries, the local-use one always
    ['64:ff9b::7f00:1', true],
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['64:FF9B:0:0:0:0:0A00:0001', true],
    ['64:ff9b::808:808', false],
    ['64:ff9b::8.8.8.8', false],
    ['64:ff9b:1::808:808', true],
    ['64:ff9b:1:abcd::1', true],
    // 6to4: the IPv4 address in bits 16-48
    ['2002:7f00:1::', true],
    ['2002:c0a8:101::1', true],
    ['2002:a9fe:a9fe:1:2:3:4:5', true],
    ['2002:808:808::1', false],
    // Teredo, benchmarking, documentation
    ['2001::1', true],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true],
    ['2001:2::1', true],
    ['2001:db8::1', true],
    ['2001:DB8:85A3::8A2E:370:7334', true],
    ['3fff::1', true],
    // discard, unique-local, link-local (with a zone), site-local, multicast
    ['100::1', true],
    ['100::ffff:1', true],
    ['fc00::1', true],
    ['FD12:3456::1', true],
    ['fe80::1%eth0', true],
    ['fe80::1', true],
    ['febf::1', true],
    ['fec0::1', true],
    ['feff::1', true],
    ['ff02::1', true],
    // public IPv6 stays public
    ['2606:4700:4700::1111', false],
    ['2a00:1450::1', false],
    ['2A00:1450:4001:0811:0000:0000:0000:200E', false],
    ['2001:4860:4860::8888', false],
    ['2001:1::1', false],
    ['2400:cb00::1', false],
  ])('%s -> %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });
});

describe('parseIPv6', () => {
  it.each<[string, number[] | null]>([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['1:2:3:4:5:6:7::', [1, 2, 3, 4, 5, 6, 7, 0]],
    ['::2:3:4:5:6:7:8', [0, 2, 3, 4, 5, 6, 7, 8]],
    ['2001:DB8::0A:b', [0x2001, 0xdb8, 0, 0, 0, 0, 0xa, 0xb]],
    ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]],
    ['::1.2.3.4', [0, 0, 0, 0, 0, 0, 0x102, 0x304]],
    ['1:2:3:4:5:6:1.2.3.4', [1, 2, 3, 4, 5, 6, 0x102, 0x304]],
    ['1::1.2.3.4', [1, 0, 0, 0, 0, 0, 0x102, 0x304]],
    ['1:2:3:4:5:6:7:1.2.3.4', null],
    ['1.2.3.4', null],
    [':1.2.3.4', null],
    ['::1.2.3.4:1', null],
    ['1:::2', null],
    ['1:2:3:4:5:6:7:8:', null],
    [':1:2:3:4:5:6:7:8', null],
    ['fe80::1%eth0', null],
    ['g::1', null],
  ])('%s', (text, groups) => {
    expect(parseIPv6(text)).toEqual(groups);
  });
});

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:2', true],
    ['10.0.0.1', false],
    ['::2', false],
    ['fe80::1', false],
    ['localhost', false],
  ])('%s -> %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

function run(hostname: string, answer: LookupAddress[], mayBePrivate = false, all = true) {
  const lookup = guardedLookup(
    () => mayBePrivate,
    (_name, cb) => cb(null, answer),
  );
  return new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
    lookup(hostname, { all }, (err, address) => resolve({ err, address })),
  );
}

describe('guardedLookup', () => {
  it('passes public answers through, in both callback shapes', async () => {
    expect(await run('example.com', [{ address: '93.184.216.34', family: 4 }])).toEqual({ err: null, address: [{ address: '93.184.216.34', family: 4 }] });
    expect((await run('example.com', [{ address: '93.184.216.34', family: 4 }], false, false)).address).toBe('93.184.216.34');
  });

  it('refuses a name that resolves to an internal address (DNS rebinding, metadata endpoints)', async () => {
    const r = await run('evil.example', [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ]);
    expect(r.err?.code).toBe('SSRF_BLOCKED');
    expect(r.err?.message).toContain('169.254.169.254');
  });

  it('refuses an IPv6 answer that carries an internal IPv4 address (NAT64, 6to4, mapped)', async () => {
    for (const address of ['64:ff9b::a9fe:a9fe', '2002:a00:1::1', '::ffff:7f00:1']) {
      const r = await run('evil.example', [
        { address: '2606:4700::1111', family: 6 },
        { address, family: 6 },
      ]);
      expect(r.err?.code).toBe('SSRF_BLOCKED');
      expect(r.err?.message).toContain(address);
    }
    expect((await run('example.com', [{ address: '64:ff9b::808:808', family: 6 }])).err).toBeNull();
  });

  it('lets a site configured on a private network resolve privately', async () => {
    expect((await run('intranet.corp', [{ address: '10.0.0.5', family: 4 }], true)).err).toBeNull();
  });

  it('resolves *.localhost names to loopback without asking DNS (RFC 6761)', async () => {
    const lookup = guardedLookup(
      () => false,
      () => {
        throw new Error('DNS must not be asked');
      },
    );
    const address = await new Promise((resolve) => lookup('a.shop.localhost', {}, (_e, a) => resolve(a)));
    expect(address).toBe('127.0.0.1');
  });
});

describe('addressKey: one spelling per address', () => {
  it.each<[string, string | null]>([
    ['10.0.0.5', '10.0.0.5'],
    ['::ffff:10.0.0.5', '10.0.0.5'],
    ['::ffff:a00:5', '10.0.0.5'],
    ['[::ffff:a00:5]', '10.0.0.5'],
    ['fd00::5', 'fd00:0:0:0:0:0:0:5'],
    ['FD00:0:0:0:0:0:0:0005', 'fd00:0:0:0:0:0:0:5'],
    ['[fd00::5]', 'fd00:0:0:0:0:0:0:5'],
    ['::', '0:0:0:0:0:0:0:0'],
    ['010.0.0.5', null],
    ['fe80::5%eth0', null],
    ['example.com', null],
    ['', null],
  ])('%s -> %s', (text, key) => {
    expect(addressKey(text)).toBe(key);
  });
});

describe('lookupsByPort: on the gateway port, an answer that is the gateway is refused', () => {
  // The gateway listens on 8080 of a machine whose own address is 10.0.0.5; the site is privateNetwork.
  const own = new Set(['10.0.0.5', '127.0.0.1']);
  const answers: Record<string, LookupAddress[]> = {
    'app.corp': [{ address: '10.0.0.5', family: 4 }],
    'peer.corp': [{ address: '10.0.0.6', family: 4 }],
    'mixed.corp': [
      { address: '10.0.0.6', family: 4 },
      { address: '::ffff:10.0.0.5', family: 6 },
    ],
  };
  const lookupFor = lookupsByPort(
    () => true,
    { port: 8080, reaches: (address) => own.has(addressKey(address) ?? '') },
    (name, cb) => cb(null, answers[name] ?? []),
  );
  const resolveWith = (lookup: UpstreamLookup, hostname: string) =>
    new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
      lookup(hostname, { all: true }, (err, address) => resolve({ err, address })),
    );

  it.each(['app.corp', 'mixed.corp', 'a.shop.localhost'])('refuses %s on the gateway port (SSRF_BLOCKED, says why)', async (hostname) => {
    const r = await resolveWith(lookupFor(8080), hostname);
    expect(r.err?.code).toBe('SSRF_BLOCKED');
    expect(r.err?.message).toMatch(new RegExp(`^${hostname} resolves to \\S+, this gateway's own address, on the port it listens on; refused$`));
  });

  it('lets the same names through on another port, and another machine on the gateway port', async () => {
    expect((await resolveWith(lookupFor(3000), 'app.corp')).address).toEqual(answers['app.corp']);
    expect((await resolveWith(lookupFor(3000), 'mixed.corp')).err).toBeNull();
    expect((await resolveWith(lookupFor(8080), 'peer.corp')).address).toEqual(answers['peer.corp']);
  });
});

describe('lookupsByPort: on any port, an answer that is this machine counts as internal', () => {
  // The machine's public address is 203.0.114.9 (public, so isInternalAddress says no); the gateway
  // is bound to 127.0.0.1:8080 only, but Redis, SSH and the like listen on the public address.
  const machine = new Set(['203.0.114.9', '2001:db9:0:0:0:0:0:9']);
  const answers: Record<string, LookupAddress[]> = {
    'evil.shop.example': [{ address: '203.0.114.9', family: 4 }],
    'mapped.shop.example': [{ address: '::ffff:203.0.114.9', family: 6 }],
    'v6.shop.example': [{ address: '2001:db9::9', family: 6 }],
    'elsewhere.shop.example': [{ address: '203.0.114.10', family: 4 }],
    'app.intranet.example': [{ address: '203.0.114.9', family: 4 }],
  };
  const privateSite = (name: string) => name === 'app.intranet.example';
  const isMachine = (address: string) => machine.has(addressKey(address) ?? '');
  const lookupFor = lookupsByPort(privateSite, { port: 8080, reaches: () => false, isMachine }, (name, cb) => cb(null, answers[name] ?? []));
  const resolveWith = (lookup: UpstreamLookup, hostname: string) =>
    new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
      lookup(hostname, { all: true }, (err, address) => resolve({ err, address })),
    );

  it.each([
    ['evil.shop.example', 6379],
    ['evil.shop.example', 443],
    ['mapped.shop.example', 22],
    ['v6.shop.example', 80],
    ['evil.shop.example', 8080],
  ])('refuses %s on port %i (SSRF_BLOCKED, says why)', async (hostname, port) => {
    const r = await resolveWith(lookupFor(port), hostname);
    expect(r.err?.code).toBe('SSRF_BLOCKED');
    expect(r.err?.message).toMatch(new RegExp(`^${hostname.replace(/\./g, '\\.')} resolves to \\S+, an address of the gateway's own machine; refused$`));
  });

  it("lets another machine's address through, and this machine for a privateNetwork site", async () => {
    expect((await resolveWith(lookupFor(6379), 'elsewhere.shop.example')).address).toEqual(answers['elsewhere.shop.example']);
    expect((await resolveWith(lookupFor(6379), 'app.intranet.example')).address).toEqual(answers['app.intranet.example']);
  });

  it('without isMachine (the old guard), the public own address went through', async () => {
    const old = lookupsByPort(privateSite, { port: 8080, reaches: () => false }, (name, cb) => cb(null, answers[name] ?? []));
    expect((await resolveWith(old(6379), 'evil.shop.example')).err).toBeNull();
  });
});
