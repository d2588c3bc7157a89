// The policies of a proxied page's response that the gateway rewrites for its session: the
// Content-Security-Policy (sources mapped to proxied hosts, the injected script allowed by nonce)
// and Clear-Site-Data (the cookies it clears are the session jar's). Used by proxy.ts.

import { randomBytes } from 'node:crypto';
import type { GatewayContext } from './context.js';
import { type CspContext, rewriteCsp } from './csp.js';
import { InlineScriptPolicy } from './csp-inline-scripts.js';
import type { Session } from './session.js';

/** How the policies of a page of origin `label` are rewritten (rewriteCsp), with `nonce` for the injected script. */
export function cspContext(gw: GatewayContext, session: Session, label: string, target: URL, nonce: string): CspContext {
  const base = new URL(gw.mapper.gatewayOrigin);
  const proxiedOrigin = gw.mapper.proxiedOrigin({ label, sessionId: session.id });
  return {
    pageOrigin: target,
    mapOrigin: (origin) => {
      const url = new URL(origin);
      return gw.allowlist.allows(url) ? (gw.mapper.toProxiedUrl(url, session.id, session.origins)?.replace(/\/$/, '') ?? null) : null;
    },
    knownOrigins: [...session.origins.entries()].map(([, origin]) => origin),
    nonce,
    injectScriptUrl: `${proxiedOrigin}/__cobrowse/inject.js`,
    insecureGateway: base.protocol === 'http:',
    gatewayOrigin: gw.mapper.gatewayOrigin,
    entrySource: `${base.protocol}//*.${base.host}/__cobrowse/enter`,
  };
}

/**
 * Rewrites the page's Content-Security-Policy headers in place (sources mapped, the injected script
 * allowed); returns the nonce the script tag must carry and what the site's own policies say about
 * inline scripts the gateway rewrites, or nulls when the page has no policy.
 */
export function applyCsp(
  gw: GatewayContext,
  session: Session,
  label: string,
  target: URL,
  headers: [string, string][],
): { nonce: string | null; inlineScripts: InlineScriptPolicy | null } {
  let nonce: string | null = null;
  const original: { value: string; reportOnly: boolean }[] = [];
  let ctx: CspContext | null = null;
  for (const h of headers) {
    if (h[0] !== 'content-security-policy' && h[0] !== 'content-security-policy-report-only') continue;
    nonce ??= randomBytes(16).toString('base64');
    ctx ??= cspContext(gw, session, label, target, nonce);
    original.push({ value: h[1], reportOnly: h[0] === 'content-security-policy-report-only' });
    h[1] = rewriteCsp(h[1], ctx);
  }
  return { nonce, inlineScripts: nonce === null ? null : InlineScriptPolicy.fromHeaders(original, nonce) };
}

/**
 * Clear-Site-Data: the site's cookies live in the session's jar, so "cookies" clears the jar's
 * cookies of that site (`clearJar`: a request with the jar); the browser must not clear its own
 * (they are the participant's identity, and cookies are cleared for the whole registrable domain,
 * every session's hosts included). Every header line counts; what is left goes on as one line.
 */
export async function applyClearSiteData(session: Session, headers: [string, string][], target: URL, clearJar: boolean): Promise<void> {
  if (!headers.some(([name]) => name === 'clear-site-data')) return;
  const types = new Set<string>();
  for (let i = headers.length - 1; i >= 0; i--) {
    const [name, value] = headers[i]!;
    if (name !== 'clear-site-data') continue;
    for (const t of value.split(',')) if (t.trim() !== '') types.add(t.trim().toLowerCase());
    headers.splice(i, 1);
  }
  const all = types.has('"*"');
  if (clearJar && (all || types.has('"cookies"'))) await session.jar.clearSite(target);
  const rest = all ? ['"cache"', '"storage"'] : [...types].filter((t) => t !== '"cookies"');
  if (rest.length > 0) headers.push(['clear-site-data', rest.join(', ')]);
}
