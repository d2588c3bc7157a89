// Reading the gateway's own cookies from a browser's Cookie header.

/** The value of cookie `name` in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Every value of cookie `name` in a Cookie header, in order (at most `limit`): a page of another
 * host of the same site can set a cookie of that name for a parent domain, which then comes
 * along with (and may come before) the host's own.
 */
export function readCookies(header: string | undefined, name: string, limit: number): string[] {
  const values: string[] = [];
  if (!header) return values;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      values.push(part.slice(eq + 1).trim());
      if (values.length >= limit) break;
    }
  }
  return values;
}
