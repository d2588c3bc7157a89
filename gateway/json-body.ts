// JSON the browser fetches and acts on by itself, whose URLs are mapped as those of pages are:
// speculation rule sets (a Speculation-Rules header names them; the browser would prefetch and
// prerender the real site's URLs straight from the real site, protocol/speculation-rules.ts) and
// web app manifests (`<link rel=manifest>`: start_url, scope and id of the real origin are ignored
// on a proxied host, and icons of another origin are fetched from it, web-manifest.ts). Read
// whole (they are small), decoded as UTF-8 as the browser decodes them.

import { decodeDataUrl } from '../protocol/data-url.js';
import { mapSpeculationRules, NO_RULES } from '../protocol/speculation-rules.js';
import type { ToBrowserUrl } from './header-policy.js';
import { absoluteUrlForm } from './rewrite/relative-url.js';
import { mapManifest, NO_MANIFEST } from './web-manifest.js';

/** The type the browser requires of a rule set it fetches (it ignores any other). */
export const SPECULATION_RULES_TYPE = 'application/speculationrules+json';

/** Largest body mapped; a larger one becomes its kind's empty value (its URLs are never left unmapped). */
export const MAX_JSON_BYTES = 1024 * 1024;

export type JsonKind = 'rules' | 'manifest';

const MAPPERS: Record<JsonKind, { map: (json: string, mapUrl: (url: string) => string | null) => string | null; empty: string }> = {
  rules: { map: mapSpeculationRules, empty: NO_RULES },
  manifest: { map: mapManifest, empty: NO_MANIFEST },
};

/**
 * The JSON `body` (decoded) of kind `kind` with its URLs mapped, as it goes to the browser; `whole`
 * false when it was larger than `max` bytes and reading stopped (the caller lets go of the rest).
 */
export async function mappedJson(
  kind: JsonKind,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  mapUrl: (url: string) => string | null,
  max = MAX_JSON_BYTES,
): Promise<{ body: Buffer; whole: boolean }> {
  const { map, empty } = MAPPERS[kind];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) return { body: Buffer.from(empty), whole: false };
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  const mapped = map(new TextDecoder('utf-8').decode(bytes), mapUrl);
  return { body: mapped === null ? bytes : Buffer.from(mapped), whole: true };
}

/**
 * A Speculation-Rules header (a structured list of strings, each the URL of a rule set the browser
 * fetches and acts on) with its absolute URLs mapped: the rule set is then fetched through the
 * gateway, which maps the URLs in it (mappedJson). Relative ones stay (they resolve against the
 * proxied page); an item that is no string, or no URL, is kept (the browser skips it too). A data:
 * rule set (which the browser reads without asking anyone) has its URLs mapped in it; a URL of
 * another scheme becomes about:blank, which holds no rules. Null when a string does not end (the
 * browser ignores such a header; it is not relayed). One pass over the value.
 */
export function mapSpeculationRulesHeader(value: string, base: URL, toBrowser: ToBrowserUrl): string | null {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const quote = value.indexOf('"', i);
    if (quote === -1) return out + value.slice(i);
    out += value.slice(i, quote);
    // The string's end: the next quote no backslash escapes.
    let url = '';
    let j = quote + 1;
    for (;;) {
      if (j >= value.length) return null;
      const c = value.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (j + 1 >= value.length) return null;
        url += value[j + 1];
        j += 2;
      } else {
        url += value[j];
        j++;
      }
    }
    out += mappedRuleSetUrl(url, base, toBrowser) ?? value.slice(quote, j + 1);
    i = j + 1;
  }
  return out;
}

/** The header item for the rule set at `url` (a structured field string), or null to keep it as written. */
function mappedRuleSetUrl(url: string, base: URL, toBrowser: ToBrowserUrl): string | null {
  if (absoluteUrlForm(url) === null) return null;
  try {
    const real = new URL(url, base);
    if (real.protocol === 'data:') return sfString(mappedDataRuleSet(url, base, toBrowser));
    if (real.protocol !== 'http:' && real.protocol !== 'https:') return '"about:blank"';
    return sfString(toBrowser(real));
  } catch {
    return null;
  }
}

/**
 * A data: URL of a rule set with the URLs in it mapped (about:blank when it cannot be read). Its
 * relative URLs resolve against nothing, or against the document (`relative_to: "document"`):
 * every URL that names a host (scheme-relative too) is resolved against the document's real URL
 * and mapped.
 */
function mappedDataRuleSet(url: string, base: URL, toBrowser: ToBrowserUrl): string {
  const data = decodeDataUrl(url);
  if (data === null) return 'about:blank';
  const rules = mapSpeculationRules(new TextDecoder('utf-8').decode(data.bytes), (u) => {
    const absolute = absoluteUrlForm(u);
    if (absolute === null) return null;
    let real: URL;
    try {
      real = new URL(absolute, base);
    } catch {
      return null;
    }
    return real.protocol === 'http:' || real.protocol === 'https:' ? toBrowser(real) : null;
  });
  // Its own media type kept: the browser takes a rule set of this type only.
  return rules === null ? url : `data:${data.type},${encodeURIComponent(rules)}`;
}

/** `text` as a structured field string. */
function sfString(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}
