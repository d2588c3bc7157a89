import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { guardedLookup, isInternalAddress } from '../../gateway/upstream-dns.js';

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
  ])('%s -> %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
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
