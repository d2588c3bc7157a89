// An iframe's `allow` attribute (Permissions Policy, "parse policy directive"): directives
// separated by `;`, each a feature name then an allowlist of ASCII-whitespace-separated tokens:
// `*`, `'self'`, `'src'`, `'none'`, or a URL whose origin the feature is granted to
// (`allow="geolocation https://maps.example"`). Through the gateway a frame of another of the
// site's origins has a proxied origin, so the real origin in the allowlist matched nothing and the
// frame lost the feature; the session's origins are mapped to their proxied hosts. Used by the
// rewriter (pages) and the runtime (attributes and markup the site's script writes).

/** Maps a real URL to the URL the browser should use; null to leave it as it is. */
export type AllowMapUrl = (url: string) => string | null;

const WS = /[\t\n\f\r ]+/;
/** A token that the URL parser may read as an http(s) URL (quoted keywords and `*` are never one). */
const HTTP_URL = /^https?:\/\//i;

/**
 * The origin a token of an allowlist stands for through the gateway, or null to keep it: a token
 * that is no http(s) URL, a wildcard origin (`https://*.example.com`: no proxied host matches
 * what it means), an origin the mapper leaves or sends to a page of the gateway (not the
 * session's: such an origin matches no frame through the gateway, so the feature stays off for
 * it, as it would for an origin the site did not list).
 */
function mappedOrigin(token: string, map: AllowMapUrl): string | null {
  if (!HTTP_URL.test(token) || token.includes('*')) return null;
  let origin: string;
  try {
    origin = new URL(token).origin;
  } catch {
    return null;
  }
  const to = map(origin);
  if (to === null) return null;
  try {
    const mapped = new URL(to);
    if (mapped.protocol !== 'http:' && mapped.protocol !== 'https:') return null;
    return mapped.pathname === '/' && mapped.search === '' ? mapped.origin : null;
  } catch {
    return null;
  }
}

/** `value` with the origins of its allowlists mapped, or null when none changed (the value is then kept as written). */
export function mapFrameAllow(value: string, map: AllowMapUrl): string | null {
  if (value.indexOf('//') === -1) return null;
  let changed = false;
  const directives = value.split(';').map((directive) => {
    if (directive.indexOf('//') === -1) return directive;
    // Separators kept as they are: only the tokens that are mapped change.
    const parts = directive.split(/([\t\n\f\r ]+)/);
    let feature = true;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '' || WS.test(part)) continue;
      if (feature) {
        feature = false;
        continue;
      }
      const origin = mappedOrigin(part, map);
      if (origin !== null && origin !== part) {
        parts[i] = origin;
        changed = true;
      }
    }
    return parts.join('');
  });
  return changed ? directives.join(';') : null;
}
