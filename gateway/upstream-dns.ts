// Name resolution for upstream connections: `*.localhost` names are loopback (RFC 6761), and a
// name whose DNS answer is a private, loopback, link-local or otherwise internal address is
// refused (SSRF) unless its site is configured with `privateNetwork: true`. On a connection to the
// port the gateway listens on, an answer that reaches the gateway itself (loopback, the machine's
// own addresses) is refused whatever the site says. IP literals in the allowlist never reach this
// code: naming an address there is the explicit choice (the allowlist judges those).

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { buildConnector } from 'undici';
import { isInternalAddress } from './ip-address.js';

/** The error a refused name fails the upstream connection with. */
export class SsrfBlockedError extends Error {
  readonly code = 'SSRF_BLOCKED';
}

type Callback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const defaultResolver: Resolver = (hostname, cb) => dnsLookup(hostname, { all: true }, cb);

/**
 * A `lookup` for undici's connect options and ws. `mayBePrivate(hostname)` says whether the site of
 * that name was configured to live on a private network; `reachesGateway(address)`, when given (for
 * connections to the gateway's own port), whether an answer is the gateway itself; `isMachine`,
 * whether an answer is one of this machine's own addresses (a public one too: the services of the
 * machine listen there), which counts as internal.
 */
export function guardedLookup(
  mayBePrivate: (hostname: string) => boolean,
  resolve: Resolver = defaultResolver,
  reachesGateway: ((address: string) => boolean) | null = null,
  isMachine: ((address: string) => boolean) | null = null,
) {
  return (hostname: string, options: { all?: boolean } | number | undefined, callback: Callback): void => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    const answer = (addresses: LookupAddress[]) => {
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      const self = reachesGateway && addresses.find((a) => reachesGateway(a.address));
      if (self) {
        return callback(new SsrfBlockedError(`${hostname} resolves to ${self.address}, this gateway's own address, on the port it listens on; refused`), []);
      }
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
      if (!mayBePrivate(name)) {
        const internal = addresses.find((a) => isInternalAddress(a.address));
        if (internal) return callback(new SsrfBlockedError(`${hostname} resolves to an internal address (${internal.address}); refused`), []);
        const machine = isMachine && addresses.find((a) => isMachine(a.address));
        if (machine) {
          return callback(new SsrfBlockedError(`${hostname} resolves to ${machine.address}, an address of the gateway's own machine; refused`), []);
        }
      }
      answer(addresses);
    });
  };
}

/** The lookup an upstream connection resolves its name with. */
export type UpstreamLookup = ReturnType<typeof guardedLookup>;

/**
 * The guarded lookup for each upstream port: on `gateway.port` (the port the gateway listens on)
 * an answer that `gateway.reaches` is refused too, whatever privateNetwork says; on every port an
 * internal answer or one that `gateway.isMachine` (this machine's addresses) is refused unless
 * the site is privateNetwork.
 */
export function lookupsByPort(
  mayBePrivate: (hostname: string) => boolean,
  gateway: { port: number; reaches(address: string): boolean; isMachine?: (address: string) => boolean },
  resolve: Resolver = defaultResolver,
): (port: number) => UpstreamLookup {
  const isMachine = gateway.isMachine ?? null;
  const elsewhere = guardedLookup(mayBePrivate, resolve, null, isMachine);
  const toGatewayPort = guardedLookup(mayBePrivate, resolve, (address) => gateway.reaches(address), isMachine);
  return (port) => (port === gateway.port ? toGatewayPort : elsewhere);
}

/** An undici connector (an Agent's `connect`) that resolves each connection's name with the lookup of the port it connects to. */
export function guardedConnector(lookupFor: (port: number) => UpstreamLookup): buildConnector.connector {
  // One connector (and its TLS session cache) per distinct lookup: lookupsByPort has two.
  const connectors = new Map<UpstreamLookup, buildConnector.connector>();
  return (options, callback) => {
    const lookup = lookupFor(Number(options.port) || (options.protocol === 'https:' ? 443 : 80));
    let connect = connectors.get(lookup);
    if (!connect) {
      connect = buildConnector({ lookup });
      connectors.set(lookup, connect);
    }
    connect(options, callback);
  };
}
