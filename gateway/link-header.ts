// The Link response header (RFC 8288): its URLs mapped to what the browser loads, and the
// integrity of preloads the gateway may change moved into the URL as the gateway's marker (as for
// <link> elements, see subresource-integrity.ts), since the browser cannot check bytes the gateway
// rewrote. Module preloads marked so are reported: the page's plain imports of them are mapped to
// the marked URL (rewrite/import-map.ts). Pure.

import { CHECKED_PRELOADS, withIntegrityMarker } from './subresource-integrity.js';

/** A module the browser preloads by its marked URL; `url` is the (mapped) URL the page imports. */
export interface MarkedModule {
  url: string;
  marked: string;
}

/** Splits at `sep` outside `<...>` and quoted strings. */
function splitOutside(value: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inAngle = false;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '<') inAngle = true;
    else if (c === '>') inAngle = false;
    else if (c === sep && !inAngle) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}

function paramValue(param: string): { name: string; value: string } {
  const eq = param.indexOf('=');
  const name = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
  let value = eq === -1 ? '' : param.slice(eq + 1).trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
  return { name, value };
}

/** `value` with its URLs mapped by `map` (null keeps one) and integrity moved into the URLs of checked preloads. */
export function mapLinkHeader(value: string, base: URL, map: (url: URL) => string): { value: string; markedModules: MarkedModule[] } {
  const markedModules: MarkedModule[] = [];
  const links = splitOutside(value, ',').map((link) => {
    const m = /^(\s*)<([^>]*)>(.*)$/s.exec(link);
    if (!m) return link;
    let url: string;
    try {
      url = map(new URL(m[2]!, base));
    } catch {
      return link;
    }
    const params = splitOutside(m[3]!, ';');
    const parsed = params.map(paramValue);
    const rel =
      parsed
        .find((p) => p.name === 'rel')
        ?.value.toLowerCase()
        .split(/\s+/) ?? [];
    const as = parsed.find((p) => p.name === 'as')?.value.toLowerCase() ?? '';
    const integrity = parsed.find((p) => p.name === 'integrity')?.value.trim() ?? '';
    const checked = rel.includes('modulepreload') || rel.includes('stylesheet') || (rel.includes('preload') && CHECKED_PRELOADS.has(as));
    if (!checked || integrity === '') return `${m[1]}<${url}>${m[3]}`;
    const marked = withIntegrityMarker(url, integrity);
    if (rel.includes('modulepreload')) markedModules.push({ url, marked });
    const kept = params.filter((_, k) => parsed[k]!.name !== 'integrity');
    return `${m[1]}<${marked}>${kept.join(';')}`;
  });
  return { value: links.join(','), markedModules };
}
