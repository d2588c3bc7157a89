// A speculation rule set the browser fetches by itself (a Speculation-Rules header names it; its
// type is application/speculationrules+json): the URLs of its list rules are mapped as those of
// rules in pages are (protocol/speculation-rules.ts), or the browser would prefetch and prerender
// the real site's URLs straight from the real site. Read whole (rule sets are small), decoded as
// UTF-8 as the browser decodes them.

import { mapSpeculationRules, NO_RULES } from '../protocol/speculation-rules.js';

/** The type the browser requires of a rule set it fetches (it ignores any other). */
export const SPECULATION_RULES_TYPE = 'application/speculationrules+json';

/** Largest rule set mapped; a larger one becomes NO_RULES (its URLs are not left unmapped). */
export const MAX_RULES_BYTES = 1024 * 1024;

/**
 * The rule set `body` (decoded) with its URLs mapped, as it goes to the browser; `whole` false when
 * it was larger than `max` bytes and reading stopped (the caller lets go of the rest).
 */
export async function mappedRuleSet(
  body: AsyncIterable<Uint8Array>,
  mapUrl: (url: string) => string | null,
  max = MAX_RULES_BYTES,
): Promise<{ body: Buffer; whole: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) return { body: Buffer.from(NO_RULES), whole: false };
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  const mapped = mapSpeculationRules(new TextDecoder('utf-8').decode(bytes), mapUrl);
  return { body: mapped === null ? bytes : Buffer.from(mapped), whole: true };
}
