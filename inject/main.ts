// Entry of the injected bundle. In the host's page it records the live DOM and applies remote
// input; on the follower view page it renders the mirror and sends the follower's input. It
// never throws into the site's page.

import { VIEW_PAGE_MARKER } from '../protocol/messages.js';
import { selectorMistake } from '../protocol/selector-check.js';
import { RUNTIME_MARK } from './child-windows.js';
import type { HubConnection } from './connection.js';
import { inheritCookieShim, installCookieShim } from './cookie-shim.js';
import { installDocumentDomain } from './document-domain.js';
import { startMirror } from './follower.js';
import { installFormCharset } from './form-charset.js';
import { startFrameRecorder } from './frame-bridge.js';
import { startLive } from './live.js';
import { isValidSelector, Masker } from './masking.js';
import type { HostOnlyRules } from './remote-input.js';
import { report } from './report.js';
import { installUrlRuntime, UrlRuntime } from './url-runtime.js';

declare global {
  interface Window {
    __cobrowse?: { mode: 'live' | 'mirror'; connection: HubConnection };
  }
}

/** Mask selectors the gateway put on the script tag for this site. */
function maskSelectors(script: HTMLOrSVGScriptElement | null): string[] {
  try {
    const raw = script instanceof HTMLScriptElement ? script.dataset.mask : undefined;
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

/** What the site reserves for the host: element selectors and path patterns. */
function hostOnlyRules(script: HTMLScriptElement | null): HostOnlyRules {
  const list = (raw: string | undefined): string[] => {
    try {
      const parsed: unknown = JSON.parse(raw ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
    } catch {
      return [];
    }
  };
  const selectors = list(script?.dataset.hostOnly);
  return {
    selector: selectors.join(','),
    paths: list(script?.dataset.hostOnlyUrls),
    // As the Masker's rules: one this browser cannot read, alone or joined, reserves the whole page.
    unreadable: selectors.some((s) => !isValidSelector(s) || selectorMistake(s) !== null),
  };
}

/** The real site's host of this page (the gateway names its origin on the script tag). */
function realHostOf(script: HTMLScriptElement | null): string {
  try {
    return new URL(script?.dataset.origin ?? '').hostname;
  } catch {
    return location.hostname;
  }
}

/**
 * The URL runtime, when the gateway embedded the origin table (proxied pages). `installed` is the
 * runtime already in this window's realm: a frame's or popup's first about:blank window that the
 * page put a runtime into is reused by the same-origin document that replaces it (HTML: the
 * initial about:blank's Window is kept), so its hooks are in place and only learn this tag.
 */
function installRuntime(script: HTMLScriptElement | null, installed: UrlRuntime | undefined): UrlRuntime | undefined {
  const origin = script?.dataset.origin;
  if (!origin) return installed;
  let table: Record<string, string> = {};
  try {
    table = JSON.parse(script?.dataset.origins ?? '{}') as Record<string, string>;
  } catch (err) {
    report(err);
  }
  let enter: string[] = [];
  try {
    enter = JSON.parse(script?.dataset.enter ?? '[]') as string[];
  } catch (err) {
    report(err);
  }
  if (installed) {
    installed.learn(table, enter, script?.nonce ?? '');
    return installed;
  }
  // A data: document's runtime names the proxied host of the page that made it (see data-documents.ts).
  const gateway = script?.dataset.gateway;
  const runtime = new UrlRuntime(table, origin, enter, { gateway, nonce: script?.nonce ?? '' });
  installUrlRuntime(runtime);
  return runtime;
}

try {
  const marks = window as unknown as Record<string, { doc: Document; runtime: UrlRuntime | undefined } | undefined>;
  const mark = marks[RUNTIME_MARK];
  // Once per document (a window may have had the runtime since its first about:blank document).
  if (!window.__cobrowse && mark?.doc !== document) {
    const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
    const masker = new Masker(maskSelectors(script));
    if (document.documentElement.hasAttribute(VIEW_PAGE_MARKER)) {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => startMirror(masker), { once: true });
      else startMirror(masker);
    } else {
      const realHost = realHostOf(script);
      const cookies = installCookieShim(script?.dataset.cookies, script?.dataset.cookiesExpire, realHost);
      if (script?.dataset.origin) installDocumentDomain(window, realHost);
      // A document the gateway did not serve (about:blank, srcdoc): its parent's jar view, or none.
      if (!cookies) inheritCookieShim();
      const runtime = installRuntime(script, mark?.runtime);
      const formCharset = script?.dataset.formCharset;
      if (formCharset) installFormCharset(formCharset);
      Object.defineProperty(window, RUNTIME_MARK, { value: { doc: document, runtime }, configurable: true, writable: true });
      // A runtime the page put into a blank window maps URLs only: the window is not a page of the site (yet).
      if (script?.dataset.adopted === undefined) {
        if (window.top === window) startLive(masker, cookies, hostOnlyRules(script));
        else startFrameRecorder(masker);
      }
    }
  }
} catch (err) {
  report(err);
}
