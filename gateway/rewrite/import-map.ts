// A page's import map (<script type="importmap">, HTML standard "import maps"), with its URLs
// mapped as the gateway maps specifiers: the browser resolves a module's specifier (already mapped
// to a proxied host) against the map, so URL-like keys of "imports", the scope prefixes of
// "scopes", their keys and every address must name the proxied hosts too. Relative URLs and bare
// names stay. An "integrity" entry of a module the gateway may rewrite would make the browser
// refuse the module: the entry is moved into the module's addresses as the gateway's integrity
// marker (see subresource-integrity.ts), and the gateway checks the site's bytes instead.

import { absoluteSpecifier } from '../../protocol/module-specifier.js';
import { withIntegrityMarker } from '../subresource-integrity.js';

type SpecifierMap = Record<string, unknown>;

/** Keys that are URLs, not bare names ("URL-like module specifiers"). */
function isUrlLike(key: string): boolean {
  return /^\.{0,2}\//.test(key) || absoluteSpecifier(key) !== null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  if (!isObject(map)) return null;
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
  if (isObject(map.integrity)) {
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
  if (isObject(map.imports)) out.imports = mapSpecifiers(map.imports);
  if (isObject(map.scopes)) {
    const scopes: Record<string, unknown> = {};
    for (const [prefix, specifiers] of Object.entries(map.scopes)) scopes[mapOne(prefix)] = isObject(specifiers) ? mapSpecifiers(specifiers) : specifiers;
    out.scopes = scopes;
  }
  if (integrity.size > 0) {
    // Entries for URLs that no address names (a module imported by its URL): the URL itself is mapped to the marked one.
    const imports = (isObject(out.imports) ? out.imports : {}) as SpecifierMap;
    for (const [url, metadata] of integrity) {
      if (isUrlLike(url) && !(url in imports)) imports[url] = withIntegrityMarker(url, metadata);
    }
    out.imports = imports;
    delete out.integrity;
    changed = true;
  }
  // ASCII only (for any charset of the page), and no '<' that could end the script element.
  return changed ? JSON.stringify(out).replace(/[<\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : null;
}
