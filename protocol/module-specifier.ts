// Which module specifiers name a URL of their own (HTML standard, "resolve a module specifier"):
// shared by the gateway's script rewriter and the page's import() hook, so that both leave the
// same specifiers to the browser (relative ones and bare names, which the import map resolves).

/** The global the gateway's rewritten `import(expr)` calls: (specifier, base) => what to import. */
export const IMPORT_HOOK = '__cobrowseImport';

const PROBE_HOST = 'base.invalid';
/** A scheme followed by two slashes or backslashes (after what the URL parser strips). */
const WRITTEN_WITH_AUTHORITY = /^[\x00-\x20]*[a-z][a-z0-9+.\-\t\n\r]*:[\t\n\r]*[\\/][\t\n\r]*[\\/]/i;
const PROBE = `https://${PROBE_HOST}/`;

/**
 * The URL a specifier names whatever the base: the specifier when it parses as an absolute URL
 * (serialized when it names its host without `//`, as in `http:host/x`), `//host/path` when it
 * starts with `/` but names another host (`//x`, `/\x`, tabs in between), null for relative
 * specifiers (same host) and bare names.
 */
export function absoluteSpecifier(specifier: string): string | null {
  const c0 = specifier.charCodeAt(0);
  // './' and '../' stay on the base's host; '.x' is a bare name.
  if (c0 === 0x2e) return null;
  if (c0 === 0x2f) {
    let url: URL;
    try {
      url = new URL(specifier, PROBE);
    } catch {
      return null;
    }
    return url.host === PROBE_HOST ? null : `//${url.host}${url.pathname}${url.search}${url.hash}`;
  }
  let url: URL;
  try {
    url = new URL(specifier);
  } catch {
    return null;
  }
  // Parsed without a base, as the browser does: `http:cdn.test/a.js` is http://cdn.test/a.js,
  // where against a base of the same scheme it would be a path on the base's host; such a
  // spelling is handed on serialized, any other as written.
  return WRITTEN_WITH_AUTHORITY.test(specifier) || (url.protocol !== 'http:' && url.protocol !== 'https:') ? specifier : url.href;
}
