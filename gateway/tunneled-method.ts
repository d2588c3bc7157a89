// Methods the gateway's server does not take (protocol/runtime-requests.ts): the page runtime sends
// such a request to its own host as a POST naming the method, and this makes it the request again.

import { FORBIDDEN_METHODS, METHOD_HEADER, METHOD_TOKEN, SERVER_METHODS } from '../protocol/runtime-requests.js';
import type { GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import type { Exchange } from './http-bridge.js';
import type { ProxiedHost } from './url-mapper.js';

/**
 * A request the page runtime sent as a POST naming its method in METHOD_HEADER (one the gateway's
 * server does not take, see protocol/runtime-requests.ts) becomes that request again, for the
 * follower rules, the logs and the site. Only the page's own requests may ask it: the header is
 * honoured with this host's own Origin only (a POST from anywhere else, which a site could have
 * refused as PROPPATCH or DELETE-like, stays a POST to nobody).
 */
export function restoreTunneledMethod(gw: GatewayContext, exchange: Exchange, host: ProxiedHost): void {
  const { request } = exchange;
  const asked = request.headers[METHOD_HEADER];
  if (asked === undefined) return;
  const own = gw.mapper.proxiedOrigin(host);
  if (request.method === 'GET' || request.method === 'HEAD') {
    // The browser following a 303 (or a 301/302 the site sent another way): a GET now, the header
    // kept, as directly the browser sends a GET then too.
    delete request.headers[METHOD_HEADER];
    return;
  }
  if (request.method !== 'POST') throw new GatewayError('BAD_REQUEST', 400, `${METHOD_HEADER} comes on a POST only.`);
  const site = request.headers['sec-fetch-site'];
  // `Origin: null` is what a same-origin request says under Referrer-Policy: no-referrer; then only with Fetch Metadata.
  const ownOrigin = request.headers.origin === own || (request.headers.origin === 'null' && site === 'same-origin');
  if (!ownOrigin || (site ?? 'same-origin') !== 'same-origin') {
    throw new GatewayError('BAD_ORIGIN', 403, `Only this site's own page may send ${METHOD_HEADER}.`);
  }
  if (!METHOD_TOKEN.test(asked) || SERVER_METHODS.includes(asked) || FORBIDDEN_METHODS.includes(asked.toUpperCase())) {
    throw new GatewayError(
      'BAD_REQUEST',
      400,
      `${METHOD_HEADER} must name a method the gateway cannot take as it is (not ${JSON.stringify(asked.slice(0, 40))}).`,
    );
  }
  request.method = asked;
  delete request.headers[METHOD_HEADER];
  exchange.annotations.tunneled = true;
}
