// The hook the gateway's rewritten `import(expr)` calls (gateway/rewrite/js-imports.ts): the
// specifier the site's code computed, mapped when it names another origin, as a literal one is on
// the gateway. Relative specifiers and bare names are handed back as they are, so that the browser
// resolves them against the right base and the page's import map.

import { absoluteSpecifier, IMPORT_HOOK } from '../protocol/module-specifier.js';
import type { UrlRuntime } from './url-runtime.js';

/** A value whose conversion to a string throws `err`: import() then rejects with it, as it would have. */
function throwing(err: unknown): { toString(): string } {
  return {
    toString() {
      throw err;
    },
  };
}

/** What import() gets: the specifier, mapped when it names a URL of another origin. */
export function mapSpecifier(runtime: UrlRuntime, specifier: unknown, base: unknown): unknown {
  try {
    const text = String(specifier);
    const url = absoluteSpecifier(text);
    if (url === null) return text;
    if (!url.startsWith('//')) return runtime.map(text);
    // `//host/path` takes the scheme of the script's real URL.
    let scheme = new URL(runtime.realOrigin).protocol;
    if (typeof base === 'string') {
      try {
        scheme = new URL(runtime.realOriginOf(new URL(base).origin)).protocol;
      } catch {
        // not a URL: the page's scheme
      }
    }
    return runtime.map(`${scheme}${url}`);
  } catch (err) {
    return throwing(err);
  }
}

/** Defines the hook in `scope` (a window or a worker), once. */
export function installImportHook(scope: typeof globalThis, runtime: UrlRuntime): void {
  if (Object.hasOwn(scope, IMPORT_HOOK)) return;
  Object.defineProperty(scope, IMPORT_HOOK, {
    value: (specifier: unknown, base?: unknown) => mapSpecifier(runtime, specifier, base),
    configurable: false,
    enumerable: false,
    writable: false,
  });
}
