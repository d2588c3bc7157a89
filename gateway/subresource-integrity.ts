// Subresource Integrity for stylesheets the gateway rewrites (W3C SRI, section 3.3). The browser
// cannot check a stylesheet whose bytes the gateway changed, so the HTML rewriter moves the
// `integrity` value into a query parameter of the stylesheet's URL; the gateway takes it off
// before the request goes upstream, checks the site's bytes against it, and answers 502 when they
// do not match, which the page sees as a failed load, as it would directly.

import { createHash } from 'node:crypto';
import { GatewayError } from './errors.js';

/** The query parameter that carries a stylesheet's integrity metadata to the gateway. */
export const INTEGRITY_PARAM = '__cobrowse_sri';

/** `as` values of preloads for subresources the gateway rewrites (and so checks the integrity of). */
export const CHECKED_PRELOADS: ReadonlySet<string> = new Set(['style', 'script', 'worker', 'sharedworker', 'audioworklet', 'paintworklet']);

/** `url` (relative or absolute, as written in markup) with the integrity metadata added to its query. */
export function withIntegrityMarker(url: string, integrity: string): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${INTEGRITY_PARAM}=${encodeURIComponent(integrity)}${fragment}`;
}

/** Splits the gateway's marker off a request target (path and query), keeping the rest of the query as written. */
export function takeIntegrityMarker(target: string): { target: string; integrity: string | null } {
  const q = target.indexOf('?');
  if (q === -1 || !target.includes(INTEGRITY_PARAM, q)) return { target, integrity: null };
  let integrity: string | null = null;
  const kept: string[] = [];
  for (const pair of target.slice(q + 1).split('&')) {
    if (pair.startsWith(`${INTEGRITY_PARAM}=`)) {
      try {
        integrity = decodeURIComponent(pair.slice(INTEGRITY_PARAM.length + 1));
      } catch {
        integrity = '';
      }
    } else kept.push(pair);
  }
  const rest = kept.join('&');
  return { target: `${target.slice(0, q)}${rest ? `?${rest}` : ''}`, integrity };
}

const ALGORITHMS = { sha256: 1, sha384: 2, sha512: 3 } as const;
type Algorithm = keyof typeof ALGORITHMS;

/**
 * The valid hashes of an integrity attribute, by algorithm (unknown algorithms and options are
 * ignored, as SRI says). Chromium also takes the dashed spellings (`sha-256-...`): so does the
 * gateway, or a tampered resource with such an attribute would pass here and run.
 */
export function parseIntegrity(metadata: string): { algorithm: Algorithm; digest: string }[] {
  const out: { algorithm: Algorithm; digest: string }[] = [];
  for (const token of metadata.split(/[\t\n\f\r ]+/)) {
    const m = /^sha-?(256|384|512)-([A-Za-z0-9+/_-]+={0,2})(\?.*)?$/.exec(token);
    if (m) out.push({ algorithm: `sha${m[1]}` as Algorithm, digest: m[2]! });
  }
  return out;
}

function normalize(digest: string): string {
  return digest.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
}

/** True when `body` matches the metadata: one hash of the strongest algorithm listed matches (no valid hash: true). */
export function matchesIntegrity(body: Uint8Array, metadata: string): boolean {
  const hashes = parseIntegrity(metadata);
  if (hashes.length === 0) return true;
  const strongest = hashes.reduce((a, b) => (ALGORITHMS[b.algorithm] > ALGORITHMS[a.algorithm] ? b : a)).algorithm;
  const actual = normalize(createHash(strongest).update(body).digest('base64'));
  return hashes.some((h) => h.algorithm === strongest && normalize(h.digest) === actual);
}

/** Largest stylesheet the gateway reads whole to check it. */
export const MAX_CHECKED_BYTES = 16 * 1024 * 1024;

/** Reads a (decoded) body whole and checks it against the metadata; throws INTEGRITY_MISMATCH (502) when it does not match. */
export async function readChecked(body: AsyncIterable<Uint8Array> | null, metadata: string, max = MAX_CHECKED_BYTES): Promise<Buffer> {
  if (body === null)
    throw new GatewayError('INTEGRITY_MISMATCH', 502, "The site's stylesheet could not be checked against its integrity attribute (unknown encoding).");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) throw new GatewayError('INTEGRITY_MISMATCH', 502, `The site's stylesheet is larger than ${max} bytes: its integrity could not be checked.`);
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  if (!matchesIntegrity(bytes, metadata)) {
    throw new GatewayError('INTEGRITY_MISMATCH', 502, "The site's stylesheet does not match its integrity attribute: it was not loaded.");
  }
  return bytes;
}
