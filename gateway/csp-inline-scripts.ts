// Inline script elements (classic, module, import map) whose text the gateway rewrites no longer
// match the `'sha256-…'` sources of the page's policy. The site's own policies (header values as
// the site sent them) decide here whether the ORIGINAL text would run; only then does the
// rewritten element get the gateway's per-response nonce, which csp.ts adds to every policy that
// works with nonces or hashes. A script the site's policy would block stays blocked.

import { createHash } from 'node:crypto';
import { FETCH_DIRECTIVES_WITH_SCRIPTS, takesGatewayNonce } from './csp.js';

/** One policy's sources for script elements (null: the policy does not restrict them). */
interface ScriptElementPolicy {
  reportOnly: boolean;
  sources: string[] | null;
}

const HASH_SOURCE = /^'(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})'$/i;

function normalizeDigest(digest: string): string {
  return digest.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
}

function parsePolicies(value: string, reportOnly: boolean): ScriptElementPolicy[] {
  return value.split(',').map((policy) => {
    const directives = new Map<string, string[]>();
    for (const d of policy.split(';')) {
      const [name, ...sources] = d.trim().split(/[\t\n\f\r ]+/);
      const key = (name ?? '').toLowerCase();
      // CSP 3, "parse a serialized CSP": a repeated directive is ignored.
      if (key !== '' && !directives.has(key)) directives.set(key, sources);
    }
    const name = FETCH_DIRECTIVES_WITH_SCRIPTS.find((n) => directives.has(n));
    return { reportOnly, sources: name === undefined ? null : directives.get(name)! };
  });
}

/** Inline script text as CSP hashes it: the element's text, newlines normalized and NULs replaced as the HTML parser does. */
export function inlineSourceText(decoded: string): string {
  return decoded.replace(/\r\n?/g, '\n').replace(/\0/g, '\ufffd');
}

/** What a page's policies say about its inline script elements, for the ones the gateway rewrites. */
export class InlineScriptPolicy {
  private constructor(
    private readonly policies: ScriptElementPolicy[],
    /** The gateway's nonce for this response (in every policy that takesGatewayNonce). */
    readonly nonce: string,
  ) {}

  /** From the site's Content-Security-Policy(-Report-Only) values; null when no policy takes the gateway's nonce (nothing to decide). */
  static fromHeaders(values: readonly { value: string; reportOnly: boolean }[], nonce: string): InlineScriptPolicy | null {
    const policies = values.flatMap((v) => parsePolicies(v.value, v.reportOnly));
    if (!policies.some((p) => p.sources !== null && takesGatewayNonce(p.sources))) return null;
    return new InlineScriptPolicy(policies, nonce);
  }

  /**
   * The nonce a rewritten inline script element gets, given its original text (as the browser
   * sees it, inlineSourceText) and whether it carries a nonce attribute of its own: the gateway's
   * nonce when every enforced policy allows the original (and, when no enforced policy takes the
   * nonce, every report-only one that does, so that what the site would report is reported);
   * null otherwise. An element with a nonce of its own keeps it (a second nonce attribute would
   * be dropped by the parser): it runs where that nonce is allowed, as on the real site.
   */
  nonceFor(text: string, hasOwnNonce: boolean): string | null {
    if (hasOwnNonce) return null;
    const hashes = new Map<string, string>();
    const digest = (algorithm: string): string => {
      let d = hashes.get(algorithm);
      if (d === undefined) {
        d = normalizeDigest(createHash(algorithm).update(text, 'utf8').digest('base64'));
        hashes.set(algorithm, d);
      }
      return d;
    };
    const allows = (sources: readonly string[]): boolean => {
      let inlineKeywordCounts = true;
      for (const s of sources) {
        const m = HASH_SOURCE.exec(s);
        if (m && digest(m[1]!.toLowerCase()) === normalizeDigest(m[2]!)) return true;
        if (m || /^'(nonce-|strict-dynamic')/i.test(s)) inlineKeywordCounts = false;
      }
      return inlineKeywordCounts && sources.some((s) => s.toLowerCase() === "'unsafe-inline'");
    };
    const restricting = this.policies.filter((p): p is { reportOnly: boolean; sources: string[] } => p.sources !== null);
    const enforced = restricting.filter((p) => !p.reportOnly);
    if (!enforced.every((p) => allows(p.sources))) return null;
    if (enforced.some((p) => takesGatewayNonce(p.sources))) return this.nonce;
    const reported = restricting.filter((p) => p.reportOnly && takesGatewayNonce(p.sources));
    return reported.length > 0 && reported.every((p) => allows(p.sources)) ? this.nonce : null;
  }
}
