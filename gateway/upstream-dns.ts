// Name resolution for upstream connections: `*.localhost` names are loopback (RFC 6761), and a
// name whose DNS answer is a private, loopback, link-local or otherwise internal address is
// refused (SSRF) unless its site is configured with `privateNetwork: true`. IP literals in the
// allowlist never reach this code: naming an address there is the explicit choice.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** The error a refused name fails the upstream connection with. */
export class SsrfBlockedError extends Error {
  readonly code = 'SSRF_BLOCKED';
}

type Callback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const V4_BLOCKS: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 this network
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata lives here)
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xe0000000, 3], // multicast and reserved
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
}

/** True for addresses a public site never legitimately resolves to. */
export function isInternalAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const n = v4ToInt(address);
    return V4_BLOCKS.some(([base, bits]) => n >>> (32 - bits) === base >>> (32 - bits));
  }
  const a = address.toLowerCase();
  if (a === '::' || a === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped?.[1]) return isInternalAddress(mapped[1]);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(a);
}

const defaultResolver: Resolver = (hostname, cb) => dnsLookup(hostname, { all: true }, cb);

/**
 * A `lookup` for undici's connect options. `mayBePrivate(hostname)` says whether the site of that
 * name was configured to live on a private network.
 */
export function guardedLookup(mayBePrivate: (hostname: string) => boolean, resolve: Resolver = defaultResolver) {
  return (hostname: string, options: { all?: boolean } | number | undefined, callback: Callback): void => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    const answer = (addresses: LookupAddress[]) => {
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (all) callback(null, addresses);
      else callback(null, first.address, first.family);
    };
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) {
      answer([{ address: '127.0.0.1', family: 4 }]);
      return;
    }
    resolve(name, (err, addresses) => {
      if (err) return callback(err, []);
      const internal = addresses.find((a) => isInternalAddress(a.address));
      if (internal && !mayBePrivate(name)) {
        return callback(new SsrfBlockedError(`${hostname} resolves to an internal address (${internal.address}); refused`), []);
      }
      answer(addresses);
    });
  };
}
