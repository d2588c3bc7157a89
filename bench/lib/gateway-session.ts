// Sessions and participants on a running gateway, through its public HTTP API and join flow.

import { httpRequest } from './http.js';

export interface CreatedSession {
  id: string;
  hostUrl: string;
  joinUrl: string;
  observeUrl: string;
  adminToken: string;
}

/** A participant's credentials on a proxied host: send `Host: host` and `Cookie: cookie`. */
export interface Participant {
  /** e.g. o1--<id>.localhost:<port> */
  host: string;
  cookie: string;
  /** Where the entry redirect sent the browser (the page, or /__cobrowse/view for followers). */
  to: string;
}

/** Where the gateway listens (127.0.0.1:port) and its public URL (whose host the API answers on). */
export interface GatewayAddr {
  port: number;
  url: string;
}

/** The Host header of the gateway's own routes (API, join links), e.g. localhost:<port>. */
export function gatewayHost(gw: GatewayAddr): string {
  return new URL(gw.url).host;
}

/** POST /api/sessions for `url`. */
export async function createSession(gw: GatewayAddr, url: string): Promise<CreatedSession> {
  const res = await httpRequest(gw.port, 'POST', '/api/sessions', { host: gatewayHost(gw), 'content-type': 'application/json' }, JSON.stringify({ url }));
  if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
  return JSON.parse(res.body.toString()) as CreatedSession;
}

/** Follows a join link (/j/<invite>) and the ticket entry, as a fresh browser would; returns the participant cookie. */
export async function redeemLink(gw: GatewayAddr, link: string): Promise<Participant> {
  const join = await httpRequest(gw.port, 'GET', new URL(link).pathname, { host: new URL(link).host });
  const location = join.headers.location;
  if (join.status !== 302 || typeof location !== 'string') throw new Error(`join link answered ${join.status}, not a redirect`);
  const enter = new URL(location);
  const entered = await httpRequest(gw.port, 'GET', `${enter.pathname}${enter.search}`, { host: enter.host });
  const setCookie = ([] as string[]).concat(entered.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('__cobrowse='));
  if (entered.status !== 302 || !cookie) throw new Error(`ticket entry answered ${entered.status} without the __cobrowse cookie`);
  return { host: enter.host, cookie, to: String(entered.headers.location ?? '') };
}

/** A session on `originUrl` with its host participant. */
export async function sessionWithHost(gw: GatewayAddr, originUrl: string): Promise<{ session: CreatedSession; host: Participant }> {
  const session = await createSession(gw, originUrl);
  const host = await redeemLink(gw, session.hostUrl);
  return { session, host };
}
