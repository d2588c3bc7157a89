// IP addresses as text: which ones are internal (not to be reached from a site's name, against
// SSRF) or loopback, and one spelling per address to compare them by. Pure functions, no I/O: the
// allowlist and the configuration's validation use them too, without pulling in the upstream client.

const V4_BLOCKS: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 this network
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata lives here)
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0000200, 24], // 192.0.2/24 TEST-NET-1
  [0xc0586300, 24], // 192.88.99/24 6to4 relay anycast
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xc6336400, 24], // 198.51.100/24 TEST-NET-2
  [0xcb007100, 24], // 203.0.113/24 TEST-NET-3
  [0xe0000000, 3], // multicast and reserved
];

/**
 * IPv6 blocks inside 2000::/3 (global unicast) that are not public. Outside 2000::/3 nothing is:
 * that covers ::, ::1, IPv4-compatible ::a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d, the
 * local-use NAT64 prefix 64:ff9b:1::/48, discard 100::/64, unique-local fc00::/7, link-local
 * fe80::/10, site-local fec0::/10 and multicast ff00::/8. The IPv4-mapped ::ffff:0:0/96, the
 * well-known NAT64 prefix 64:ff9b::/96 and 6to4 2002::/16 are judged by the IPv4 address they carry.
 * Each entry: the first groups of the prefix, and its length in bits.
 */
const V6_BLOCKS: [number[], number][] = [
  [[0x2001, 0x0000], 32], // Teredo (a tunnel to any IPv4 address)
  [[0x2001, 0x0002, 0x0000], 48], // benchmarking
  [[0x2001, 0x0db8], 32], // documentation
  [[0x3fff, 0x0000], 20], // documentation (RFC 9637)
];

/** 32 bits of a dotted IPv4 address; null unless it is exactly four decimal parts of 0-255 (no leading zeros). */
function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    n = n * 256 + Number(part);
  }
  return n;
}

/**
 * The eight 16-bit groups of an IPv6 address in any spelling: one `::` for a run of zero groups,
 * leading zeros, either case, a dotted IPv4 address as the last 32 bits. Null when it is not one,
 * and for an address with a zone id (`fe80::1%eth0`): only addresses of a local scope carry one.
 */
export function parseIPv6(text: string): number[] | null {
  if (text.includes('%')) return null;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (lastColon === -1) return null;
  const dotted: number[] = [];
  if (body.includes('.', lastColon)) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === null) return null;
    dotted.push(v4 >>> 16, v4 & 0xffff);
    // `::ffff:1.2.3.4` leaves `::ffff`; `::1.2.3.4` leaves `::`.
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const hex = (side: string): number[] | null => {
    if (side === '') return [];
    const out: number[] = [];
    for (const part of side.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
      out.push(Number.parseInt(part, 16));
    }
    return out;
  };
  const front = hex(halves[0] ?? '');
  const back = halves.length === 2 ? hex(halves[1] ?? '') : [];
  if (!front || !back) return null;
  if (halves.length === 1) {
    front.push(...dotted);
    return front.length === 8 ? front : null;
  }
  back.push(...dotted);
  const given = front.length + back.length;
  // `::` stands for at least one zero group.
  if (given > 7) return null;
  return [...front, ...new Array<number>(8 - given).fill(0), ...back];
}

function inV4Blocks(n: number): boolean {
  return V4_BLOCKS.some(([base, bits]) => n >>> (32 - bits) === base >>> (32 - bits));
}

function startsWith(groups: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i * 16 < bits; i++) {
    const take = Math.min(16, bits - i * 16);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** True for addresses a public site never legitimately resolves to; anything that is not an address counts as one. */
export function isInternalAddress(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4 !== null) return inV4Blocks(v4);
  const g = parseIPv6(address);
  if (!g) return true;
  const embedded = (hi: number, lo: number) => inV4Blocks(((hi << 16) | lo) >>> 0);
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // IPv4-mapped ::ffff:a.b.c.d: the IPv4 address itself.
  if (zero(0, 5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!);
  // NAT64 64:ff9b::a.b.c.d: the translator connects to the IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return embedded(g[6]!, g[7]!);
  if ((g[0]! & 0xe000) !== 0x2000) return true;
  // 6to4 2002:aabb:ccdd::/48: a relay tunnels to a.b.c.d.
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!);
  return V6_BLOCKS.some(([prefix, bits]) => startsWith(g, prefix, bits));
}

/** True for an address that is this machine: 127/8, 0.0.0.0, ::1, :: and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = parseIPv4(address);
  if (v4 !== null) return v4 >>> 24 === 127 || v4 === 0;
  const g = parseIPv6(address);
  if (!g?.slice(0, 5).every((x) => x === 0)) return false;
  if (g[5] === 0xffff) return isLoopbackAddress(`${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`);
  return g[5] === 0 && g[6] === 0 && (g[7] === 0 || g[7] === 1);
}

/**
 * One spelling per address, to compare addresses by: dotted IPv4 (also for an IPv4-mapped IPv6
 * address), else the eight IPv6 groups in lowercase hex. Brackets (`[::1]`, as in URLs) are
 * allowed; null for a name or anything else that is not an address.
 */
export function addressKey(text: string): string | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (parseIPv4(bare) !== null) return bare;
  const g = parseIPv6(bare);
  if (!g) return null;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`;
  return g.map((x) => x.toString(16)).join(':');
}
