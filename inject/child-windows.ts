// Same-origin documents the gateway never served, whose script realm is not the page's: an
// iframe's about:blank document (or a popup's), which the site reaches through contentWindow and
// contentDocument (a pristine fetch, elements its document makes, markup written into it), and
// srcdoc documents. Left alone, what they load goes to the real sites. The runtime is put into
// each: into an about:blank window at once, as an inline script (inserted scripts run when they go
// in), the first time the page reaches it; into srcdoc markup as the first script of its <head>.
// Their cookie accessors (document.cookie, cookieStore) go through the page's jar (cookie-shim.ts).

import { OWN_NODE_MARKER } from '../protocol/messages.js';
import { guardWindowCookies } from './cookie-shim.js';
import { report } from './report.js';

/** What the runtime in another document needs from this page's. */
export interface RuntimeTagSettings {
  /** The real origin of the documents (same-origin: this page's). */
  realOrigin: string;
  /** The proxied origin whose `/__cobrowse/` endpoints the runtime uses. */
  gateway: string;
  /** Real origin -> proxied origin, as this page knows them. */
  origins: Record<string, string>;
  /** The nonce of this page's own script ('' when none). */
  nonce: string;
}

/** Set on a window once a runtime runs in it (with the document it ran for, see main.ts). */
export const RUNTIME_MARK = '__cobrowseRuntime';

/** Gives `script` what main.ts reads from the runtime's script tag (`adopted`: a blank window's, URL mapping only). */
export function setRuntimeTag(script: Element, settings: RuntimeTagSettings, adopted = false): void {
  script.setAttribute(OWN_NODE_MARKER, '');
  if (adopted) script.setAttribute('data-adopted', '');
  if (settings.nonce) script.setAttribute('nonce', settings.nonce);
  script.setAttribute('data-origin', settings.realOrigin);
  script.setAttribute('data-gateway', settings.gateway);
  script.setAttribute('data-origins', JSON.stringify(settings.origins));
}

/** Puts the runtime's script (loaded from `settings.gateway`) first in `doc`'s <head>. */
export function insertRuntimeTag(doc: Document, settings: RuntimeTagSettings): void {
  const script = doc.createElement('script');
  setRuntimeTag(script, settings);
  script.setAttribute('src', `${settings.gateway}/__cobrowse/inject.js`);
  const head = doc.head ?? doc.documentElement?.insertBefore(doc.createElement('head'), doc.documentElement.firstChild);
  head?.insertBefore(script, head.firstChild);
}

/** The runtime's script tag as markup (for srcdoc). */
export function runtimeTagMarkup(settings: RuntimeTagSettings): string {
  const script = document.createElement('script');
  setRuntimeTag(script, settings);
  script.setAttribute('src', `${settings.gateway}/__cobrowse/inject.js`);
  return script.outerHTML;
}

/** True for a same-origin window whose document has no runtime yet. */
function needsRuntime(win: Window): boolean {
  try {
    return win.document !== undefined && !(win as unknown as Record<string, unknown>)[RUNTIME_MARK];
  } catch {
    return false;
  }
}

/**
 * Runs the runtime in `win` (a same-origin window without one) before the page's script can use
 * it; `source` is the runtime bundle's text (null when it cannot be had).
 */
export function adoptWindow(win: Window, settings: () => RuntimeTagSettings, source: () => string | null): void {
  if (!needsRuntime(win)) return;
  try {
    const text = source();
    const doc = win.document;
    const parent = doc.head ?? doc.documentElement ?? doc;
    if (text !== null && parent) {
      const script = doc.createElement('script');
      setRuntimeTag(script, settings(), true);
      script.text = text;
      parent.appendChild(script);
      script.remove();
    }
  } catch (err) {
    report(err);
  }
  // Whether or not the runtime could run there: the window's cookie accessors go through this page's jar (cookie-shim.ts).
  try {
    guardWindowCookies(win);
  } catch (err) {
    report(err);
  }
}
