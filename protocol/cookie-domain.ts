// The Domain a page's script writes into document.cookie, seen from the real site. The page runs on
// its proxied host (o1--<session>.<gateway>), so a script that builds the attribute from
// location.hostname, or from its last labels (analytics and consent scripts take the registrable
// domain that way), names the proxied host or the gateway's domain, which the jar, holding the real
// site's cookies, refuses: the cookie was lost where directly it is set. Such a Domain is taken as
// the real host, or as as many of its last labels as the script took of the proxied host's. Any
// other Domain goes as written (the jar checks every Domain against the real host as browsers do).

const DOMAIN_ATTRIBUTE = /^(\s*domain\s*=\s*)(\.?)([^;]*?)(\s*)$/i;

/**
 * The real site's domain for a cookie domain `written` (no leading dot) from the proxied host's
 * view: the real host for the proxied host, as many of its last labels for a parent of the proxied
 * host; null for any other domain (it goes as written). The gateway's cookie endpoint uses it, and
 * the page's cookieStore for its own check (inject/cookie-shim.ts).
 */
export function realDomainOf(written: string, proxiedHostname: string, realHostname: string): string | null {
  const domain = written.toLowerCase();
  const proxied = proxiedHostname.toLowerCase();
  if (domain === proxied) return realHostname;
  if (domain === '' || !proxied.endsWith(`.${domain}`) || isIpAddress(realHostname)) return null;
  const labels = realHostname.split('.');
  return labels.slice(-Math.min(domain.split('.').length, labels.length)).join('.');
}

/** `assignment` (a document.cookie assignment) with its Domain attribute mapped from the proxied host's view to the real host's. */
export function realCookieDomain(assignment: string, proxiedHostname: string, realHostname: string): string {
  const parts = assignment.split(';');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const m = DOMAIN_ATTRIBUTE.exec(parts[i]!);
    if (!m) continue;
    const real = realDomainOf(m[3]!, proxiedHostname, realHostname);
    if (real === null) continue;
    parts[i] = `${m[1]}${m[2]}${real}${m[4]}`;
    changed = true;
  }
  return changed ? parts.join(';') : assignment;
}

function isIpAddress(hostname: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.includes(':') || hostname.startsWith('[');
}
