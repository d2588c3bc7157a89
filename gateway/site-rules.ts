// The rules that apply to a page: those of every configured entry its origin matches, merged so
// that none is lost. With `https://*.example.com` and `https://bank.example.com` (masks) both
// listed, the first match alone gave the bank's pages the wildcard's rules, without the masks.
// Lists (mask, hostOnly, hostOnlyUrls) are joined; the control policy is the strictest of them.

import type { SiteConfig } from '../config/schema.js';
import type { ControlPolicy } from '../protocol/messages.js';
import { patternMatches } from './allowlist.js';

export interface SiteRules {
  mask: string[];
  hostOnly: string[];
  hostOnlyUrls: string[];
  /** The strictest policy of the matching entries; `take` when none matches. */
  control: ControlPolicy;
}

const STRICTNESS: Record<ControlPolicy, number> = { take: 0, request: 1, 'host-only': 2 };

/** The merged rules of the entries of `sites` whose pattern matches `url`'s origin. */
export function siteRules(sites: readonly SiteConfig[], url: URL): SiteRules {
  const rules: SiteRules = { mask: [], hostOnly: [], hostOnlyUrls: [], control: 'take' };
  for (const site of sites) {
    if (!patternMatches(site.pattern, url)) continue;
    joinInto(rules.mask, site.mask);
    joinInto(rules.hostOnly, site.hostOnly);
    joinInto(rules.hostOnlyUrls, site.hostOnlyUrls);
    if (STRICTNESS[site.control] > STRICTNESS[rules.control]) rules.control = site.control;
  }
  return rules;
}

function joinInto(into: string[], more: readonly string[]): void {
  for (const item of more) if (!into.includes(item)) into.push(item);
}
