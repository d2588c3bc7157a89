// The Domain a page's script writes into document.cookie, seen from the real site. The page runs on
// its proxied host (o1--<session>.<gateway>), so a script that builds the attribute from
// location.hostname, or from its last labels (analytics and consent scripts take the registrable
// domain that way), names the proxied host or the gateway's domain, which the jar, holding the real
// site's cookies, refuses: the cookie was lost where directly it is set. Such a Domain is taken as
// the real host, or as as many of its last labels as the script took of the proxied host's. Any
// other Domain goes as written (the jar checks every Domain against the real host as browsers do).

const DOMAIN_ATTRIBUTE = /^(\s*domain\s*=\s*)(\.?)([^;]*?)(\s*)$/i;

/** `assignment` (a document.cookie assignment) with its Domain attribute mapped from the proxied host's view to the real host's. */
export function realCookieDomain(assignment: string, proxiedHostname: string, realHostname: string): string {
  const parts = assignment.split(';');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const m = DOMAIN_ATTRIBUTE.exec(parts[i]!);
    if (!m) continue;
    const written = m[3]!.toLowerCase();
    const proxied = proxiedHostname.toLowerCase();
    let real: string | null = null;
    if (written === proxied) real = realHostname;
    else if (written !== '' && proxied.endsWith(`.${written}`) && !isIpAddress(realHostname)) {
      const labels = realHostname.split('.');
      real = labels.slice(-Math.min(written.split('.').length, labels.length)).join('.');
    }
    if (real === null) continue;
    parts[i] = `${m[1]}${m[2]}${real}${m[4]}`;
    changed = true;
  }
  return changed ? parts.join(';') : assignment;
}

function isIpAddress(hostname: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(hostname) || hostname.includes(':') || hostname.startsWith('[');
}
