// JSON the browser fetches and acts on by itself, whose URLs are mapped as those of pages are:
// speculation rule sets (a Speculation-Rules header names them; the browser would prefetch and
// prerender the real site's URLs straight from the real site, protocol/speculation-rules.ts) and
// web app manifests (`<link rel=manifest>`: start_url, scope and id of the real origin are ignored
// on a proxied host, and icons of another origin are fetched from it, web-manifest.ts). Read
// whole (they are small), decoded as UTF-8 as the browser decodes them.

import { mapSpeculationRules, NO_RULES } from '../protocol/speculation-rules.js';
import { mapManifest } from './web-manifest.js';

/** The type the browser requires of a rule set it fetches (it ignores any other). */
export const SPECULATION_RULES_TYPE = 'application/speculationrules+json';

/** Largest body mapped; a larger one becomes its kind's empty value (its URLs are never left unmapped). */
export const MAX_JSON_BYTES = 1024 * 1024;

export type JsonKind = 'rules' | 'manifest';

const MAPPERS: Record<JsonKind, { map: (json: string, mapUrl: (url: string) => string | null) => string | null; empty: string }> = {
  rules: { map: mapSpeculationRules, empty: NO_RULES },
  manifest: { map: mapManifest, empty: '{}' },
};

/**
 * The JSON `body` (decoded) of kind `kind` with its URLs mapped, as it goes to the browser; `whole`
 * false when it was larger than `max` bytes and reading stopped (the caller lets go of the rest).
 */
export async function mappedJson(
  kind: JsonKind,
  body: AsyncIterable<Uint8Array>,
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
