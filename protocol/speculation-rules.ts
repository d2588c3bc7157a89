// Speculation rules (`<script type="speculationrules">`, WICG Speculation Rules): the browser
// itself fetches the URLs of their list rules (prefetch) or loads them (prerender), outside CSP and
// outside the page's script, so an absolute URL of the real site was fetched from it straight from
// the browser. Those URLs are mapped as the page's other URLs are; relative ones stay (they resolve
// against the proxied page). Document rules stay as written: they act on the page's links, which
// are mapped already (a `href_matches` pattern naming the real origin then matches none of them,
// so those links are not prefetched: slower, never outside the gateway). Shared by the gateway's
// rewriter (rules in pages) and the page runtime (rules the page's script writes).

import { isJsonObject, readJsonObject, scriptSafeJson, UNREADABLE } from './script-json.js';

/** The rule lists a rule set may hold, each of rules that may have `urls`. */
const ACTIONS = ['prefetch', 'prerender', 'prefetch_with_subresources'];

/** What a rule set becomes when its URLs cannot be mapped: none (the browser speculates nothing). */
export const NO_RULES = '{}';

/**
 * The rule set `json` with the URLs of its list rules mapped by `mapUrl` (null: keep), as
 * script-safe JSON; null when nothing changed or `json` is no rule set (the browser ignores it too);
 * NO_RULES when it cannot be read (Blink's reader takes more than JSON.parse, parseLenientJson),
 * a URL could not be mapped or the result written (never throws).
 */
export function mapSpeculationRules(json: string, mapUrl: (url: string) => string | null): string | null {
  const rules = readJsonObject(json);
  if (rules === UNREADABLE) return NO_RULES;
  if (rules === null) return null;
  try {
    let changed = false;
    for (const action of ACTIONS) {
      const list = rules[action];
      if (!Array.isArray(list)) continue;
      for (const rule of list) {
        if (!isJsonObject(rule) || !Array.isArray(rule.urls)) continue;
        rule.urls = rule.urls.map((url: unknown) => {
          if (typeof url !== 'string') return url;
          const mapped = mapUrl(url);
          if (mapped === null || mapped === url) return url;
          changed = true;
          return mapped;
        });
      }
    }
    return changed ? scriptSafeJson(rules) : null;
  } catch {
    // A mapper that threw, or a rule set nested too deep to write back: left as it was, the
    // browser would fetch its real URLs itself.
    return NO_RULES;
  }
}
