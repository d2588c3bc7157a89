// A page's import map (<script type="importmap">, HTML standard "import maps"), with its URLs
// mapped as the gateway maps specifiers: the browser resolves a module's specifier (already mapped
// to a proxied host) against the map, so URL-like keys of "imports", the scope prefixes of
// "scopes", their keys and every address must name the proxied hosts too. Relative URLs and bare
// names stay. An "integrity" entry of a module the gateway may rewrite would make the browser
// refuse the module: the entry is moved into the module's addresses as the gateway's integrity
// marker (see subresource-integrity.ts), and the gateway checks the site's bytes instead.

import { OWN_NODE_MARKER } from '../../protocol/messages.js';
import { absoluteSpecifier } from '../../protocol/module-specifier.js';
import { isJsonObject, scriptSafeJson } from '../../protocol/script-json.js';
import { trimC0 } from '../../protocol/trim.js';
import { withIntegrityMarker } from '../subresource-integrity.js';

type SpecifierMap = Record<string, unknown>;

/** Keys that are URLs, not bare names ("URL-like module specifiers"). */
function isUrlLike(key: string): boolean {
  return /^\.{0,2}\//.test(key) || absoluteSpecifier(key) !== null;
}

/** The top-level "imports" keys of an import map (as written), or none when it is not one. */
export function importMapKeys(json: string): string[] {
  try {
    const map: unknown = JSON.parse(json);
    return isJsonObject(map) && isJsonObject(map.imports) ? Object.keys(map.imports) : [];
  } catch {
    return [];
  }
}

/** What the gateway knows when it maps a module's URL to its integrity-marked one. */
export interface IntegrityMapContext {
  /** The gateway's nonce for the elements it adds (the page has a policy), or null. */
  nonce: string | null;
  /** The document's URL (proxied), against which the keys are compared; null: compared as written. */
  baseUrl: string | null;
  /** Top-level keys of the page's own import maps so far: a rule of theirs for the module's URL comes first, as it would on the real site. */
  pageKeys: readonly string[];
}

/**
 * The import map the gateway puts before an element that fetches a module with an integrity
 * marker (`url` as written, `marked` the same with the marker): `url` mapped to `marked`, so that
 * an `import` of the plain URL gets the same, checked, module record (fetched and run once).
 * null when `url` cannot be a key (a query or fragment only, not ASCII), or when a rule of the
 * page's import maps already applies to it.
 */
export function integrityImportMap(url: string, marked: string, ctx: IntegrityMapContext): string | null {
  const trimmed = trimC0(url);
  if (trimmed === '' || /^[?#]/.test(trimmed) || /[^\x21-\x7e]/.test(trimmed)) return null;
  // A key that is no URL of its own would be a bare name: `x.js` is written `./x.js`.
  const relative = !isUrlLike(trimmed);
  const key = relative ? `./${trimmed}` : trimmed;
  const resolve = (u: string): string => {
    if (ctx.baseUrl === null) return u;
    try {
      return new URL(u, ctx.baseUrl).href;
    } catch {
      return u;
    }
  };
  const target = resolve(key);
  for (const pageKey of ctx.pageKeys) {
    if (!isUrlLike(pageKey)) continue;
    const k = resolve(pageKey);
    if (k === target || (k.endsWith('/') && target.startsWith(k))) return null;
  }
  const address = relative ? `./${marked.replace(/^[\x00-\x20]+/, '')}` : marked.replace(/^[\x00-\x20]+/, '');
  const nonce = ctx.nonce === null ? '' : ` nonce="${ctx.nonce}"`;
  return `<script type="importmap" ${OWN_NODE_MARKER}=""${nonce}>${scriptSafeJson({ imports: { [key]: address } })}</script>`;
}

/**
 * The import map `json` (Unicode) with its URLs mapped by `mapUrl` (given a URL that names its
 * own host, absolute or `//host/...`; null keeps it), as ASCII JSON; null when nothing changed or
 * it is not a JSON object (the browser reports that error itself).
 */
export function rewriteImportMap(json: string, mapUrl: (url: string) => string | null): string | null {
  let map: unknown;
  try {
    map = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isJsonObject(map)) return null;
  let changed = false;
  const mapOne = (value: string): string => {
    const url = absoluteSpecifier(value);
    if (url === null) return value;
    let mapped: string | null = null;
    try {
      mapped = mapUrl(url);
    } catch {
      mapped = null;
    }
    if (mapped === null || mapped === value) return value;
    changed = true;
    return mapped;
  };
  const integrity = new Map<string, string>();
  if (isJsonObject(map.integrity)) {
    for (const [key, value] of Object.entries(map.integrity)) if (typeof value === 'string') integrity.set(mapOne(key), value);
  }
  const mapSpecifiers = (specifiers: SpecifierMap): SpecifierMap => {
    const out: SpecifierMap = {};
    for (const [key, value] of Object.entries(specifiers)) {
      let address = typeof value === 'string' ? mapOne(value) : value;
      const metadata = typeof address === 'string' ? integrity.get(address) : undefined;
      if (metadata !== undefined && typeof address === 'string') address = withIntegrityMarker(address, metadata);
      out[mapOne(key)] = address;
    }
    return out;
  };
  const out: Record<string, unknown> = { ...map };
  if (isJsonObject(map.imports)) out.imports = mapSpecifiers(map.imports);
  if (isJsonObject(map.scopes)) {
    const scopes: Record<string, unknown> = {};
    for (const [prefix, specifiers] of Object.entries(map.scopes)) scopes[mapOne(prefix)] = isJsonObject(specifiers) ? mapSpecifiers(specifiers) : specifiers;
    out.scopes = scopes;
  }
  if (integrity.size > 0) {
    // Entries for URLs that no address names (a module imported by its URL): the URL itself is mapped to the marked one.
    const imports = (isJsonObject(out.imports) ? out.imports : {}) as SpecifierMap;
    for (const [url, metadata] of integrity) {
      if (isUrlLike(url) && !(url in imports)) imports[url] = withIntegrityMarker(url, metadata);
    }
    out.imports = imports;
    delete out.integrity;
    changed = true;
  }
  return changed ? scriptSafeJson(out) : null;
}
