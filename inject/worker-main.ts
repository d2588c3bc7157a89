// Entry of dist/inject-worker.js, which the gateway puts in front of the site's worker scripts
// (dedicated and shared): URLs the worker builds (fetch, XHR, WebSocket, EventSource,
// importScripts, nested workers, FontFace sources) go to the gateway as in the page. Its settings are in
// `self.__cobrowseWorker`, defined by the gateway just before it; they are removed once read.

import { TOP_HOOK } from '../protocol/top-window.js';
import { mapCssUrls, mapSafely } from './css-mapping.js';
import { installFontFace } from './css-objects.js';
import { installImportHook } from './module-imports.js';
import { installNetworkHooks } from './network-hooks.js';
import { report } from './report.js';
import { UrlRuntime } from './url-runtime.js';

/** What the gateway tells the worker: its real origin, the session's origin table, the hosts not entered yet. */
interface WorkerSettings {
  origin: string;
  origins: Record<string, string>;
  enter: string[];
}

const SETTINGS = '__cobrowseWorker';
const INSTALLED = '__cobrowseWorkerInstalled';

try {
  const scope = self as unknown as Record<string, unknown>;
  const settings = scope[SETTINGS] as WorkerSettings | undefined;
  delete scope[SETTINGS];
  // A module worker's imported modules may carry the prelude too: the first one installs.
  if (settings && !scope[INSTALLED]) {
    Object.defineProperty(scope, INSTALLED, { value: true });
    const runtime = new UrlRuntime(settings.origins, settings.origin, settings.enter);
    installNetworkHooks(self, runtime);
    installImportHook(self, runtime);
    installFontFace(self as unknown as { FontFace?: typeof FontFace }, (css) => mapSafely(css, (text) => mapCssUrls(text, (u) => runtime.map(u))));
    // A script a worker imports is requested as a script (Sec-Fetch-Dest), like a page's, so the
    // gateway wraps its references to the top window too: a worker has none, the value is kept.
    if (!Object.hasOwn(scope, TOP_HOOK)) Object.defineProperty(scope, TOP_HOOK, { value: (value: unknown) => value });
    const importScripts = scope.importScripts as ((...urls: string[]) => void) | undefined;
    if (typeof importScripts === 'function') {
      scope.importScripts = (...urls: unknown[]) => {
        const mapped = urls.map((url) => runtime.map(String(url)));
        for (const url of mapped) runtime.entry.enterNow(url);
        return importScripts.apply(self, mapped);
      };
    }
  }
} catch (err) {
  report(err);
}
