// Entry of the injected bundle. In the host's page it records the live DOM and applies remote
// input; on the follower view page it renders the mirror and sends the follower's input. It
// never throws into the site's page.

import { type Role, type ServerMessage, VIEW_PAGE_MARKER } from '../protocol/messages.js';
import { HubConnection } from './connection.js';
import { type CookieShim, installCookieShim } from './cookie-shim.js';
import { restoreFormState, saveFormState } from './form-restore.js';
import { Masker } from './masking.js';
import { Mirror, MirrorDivergence } from './mirror.js';
import { attachMirrorControls, drawFocus, fitMirror } from './mirror-controls.js';
import { Recorder } from './recorder.js';
import { applyRemoteInput, setFormState } from './remote-input.js';
import { installUrlRuntime, UrlRuntime } from './url-runtime.js';

declare global {
  interface Window {
    __cobrowse?: { mode: 'live' | 'mirror'; connection: HubConnection };
  }
}

function report(err: unknown): void {
  try {
    console.debug('[cobrowse]', err);
  } catch {
    // Nothing else is safe to do inside the site's page.
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

/** The URL runtime, when the gateway embedded the origin table (proxied pages). */
function installRuntime(script: HTMLScriptElement | null): void {
  const origin = script?.dataset.origin;
  if (!origin) return;
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
  const runtime = new UrlRuntime(table, origin, enter);
  installUrlRuntime(runtime);
  runtime.enterAll();
}

function startLive(masker: Masker, cookies: CookieShim | null): void {
  let connection: HubConnection;
  const recorder = new Recorder((message) => {
    connection.send(message);
  }, masker);
  connection = new HubConnection('live', {
    onOpen: () => recorder.snapshot(),
    onMessage: (message: ServerMessage) => {
      try {
        if (message.type === 'request-snapshot') recorder.snapshot();
        else if (message.type === 'cookies-changed') cookies?.refresh();
        else if (message.type === 'input') applyRemoteInput(message.event, recorder.ids);
        else if (message.type === 'error' && message.code === 'NOT_HOST') location.assign('/__cobrowse/view');
        else if (message.type === 'error') report(`${message.code}: ${message.message}`);
      } catch (err) {
        report(err);
      }
    },
    onStatus: () => {},
  });
  window.__cobrowse = { mode: 'live', connection };
  const restore = () => {
    try {
      restoreFormState(document, location.href, sessionStorage, setFormState);
    } catch (err) {
      report(err);
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', restore, { once: true });
  else restore();
  connection.connect();
  recorder.start();
}

function navigationBar(send: (url: string | 'back' | 'forward' | 'reload') => void): void {
  const bar = document.getElementById('cobrowse-nav');
  const form = document.getElementById('cobrowse-go') as HTMLFormElement | null;
  const input = document.getElementById('cobrowse-url') as HTMLInputElement | null;
  if (!bar || !form || !input) return;
  bar.hidden = false;
  for (const action of ['back', 'forward', 'reload'] as const) {
    document.getElementById(`cobrowse-${action}`)?.addEventListener('click', () => send(action));
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (input.value.trim()) send(input.value.trim());
  });
}

function startMirror(masker: Masker): void {
  const frame = document.getElementById('cobrowse-mirror') as HTMLIFrameElement | null;
  const stage = document.getElementById('cobrowse-stage');
  const status = document.getElementById('cobrowse-status');
  const urlField = document.getElementById('cobrowse-url') as HTMLInputElement | null;
  if (!frame || !stage) return;
  let ended = false;
  let role: Role | null = null;
  const setStatus = (text: string) => {
    if (status && !ended) status.textContent = text;
  };
  const focusBox = document.getElementById('cobrowse-focus');
  let scale = 1;
  const wire = (doc: Document) => {
    if (role) attachMirrorControls(doc, mirror, role, masker, (event) => connection.send({ type: 'input', event }), setStatus);
  };
  const mirror = new Mirror(
    frame,
    (viewport) => {
      scale = fitMirror(frame, stage, viewport);
    },
    wire,
  );
  const showFocus = () => {
    if (focusBox) drawFocus(frame, focusBox, mirror, scale);
  };
  addEventListener('resize', () => {
    scale = fitMirror(frame, stage, mirror.viewport);
    showFocus();
  });
  frame.contentDocument?.addEventListener('scroll', showFocus, true);
  const connection: HubConnection = new HubConnection('mirror', {
    onOpen: () => {},
    onStatus: (s) => {
      if (s !== 'connected') setStatus(s === 'closed' ? 'disconnected' : `${s}…`);
    },
    onMessage: (message: ServerMessage) => {
      // Messages are handled in order; a snapshot of another origin waits until the follower
      // holds its identity there (the mirror loads that origin's assets).
      queue = queue.then(() => handle(message)).catch(report);
    },
  });
  let queue: Promise<void> = Promise.resolve();
  const entered = new Map<string, Promise<void>>();
  const enterOrigin = (url: string): Promise<void> => {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return Promise.resolve();
    }
    if (origin === location.origin) return Promise.resolve();
    let pending = entered.get(origin);
    if (!pending) {
      pending = new Promise<void>((resolve) => {
        const hidden = document.createElement('iframe');
        hidden.hidden = true;
        hidden.addEventListener('load', () => resolve(), { once: true });
        setTimeout(resolve, 5000);
        hidden.src = `/__cobrowse/cross-enter?label=${encodeURIComponent(new URL(origin).hostname.split('--')[0] ?? '')}`;
        document.body.appendChild(hidden);
      });
      entered.set(origin, pending);
    }
    return pending;
  };
  const handle = async (message: ServerMessage): Promise<void> => {
    try {
      switch (message.type) {
        case 'welcome':
          if (role === null) {
            role = message.role;
            const top = frame.contentDocument;
            if (top) wire(top);
            if (role !== 'observer') {
              navigationBar((what) =>
                connection.send({
                  type: 'input',
                  event: what === 'back' || what === 'forward' || what === 'reload' ? { kind: 'history', action: what } : { kind: 'navigate', url: what },
                }),
              );
            }
          }
          setStatus('waiting for the host’s page…');
          return;
        case 'snapshot':
          await enterOrigin(message.url);
          mirror.applySnapshot(message.tree, message.url, message.viewport);
          connection.lastSeq = message.seq;
          document.title = message.title ? `${message.title} · cobrowsing` : 'Cobrowsing';
          if (urlField && document.activeElement !== urlField) urlField.value = message.url;
          setStatus('live');
          showFocus();
          return;
        case 'mutations':
          if (connection.lastSeq === undefined || message.seq !== connection.lastSeq + 1) {
            connection.resync();
            return;
          }
          mirror.applyMutations(message.batch);
          connection.lastSeq = message.seq;
          showFocus();
          if (urlField && document.activeElement !== urlField) urlField.value = mirror.url;
          return;
        case 'waiting-for-host':
          setStatus('waiting for the host to open the page…');
          return;
        case 'ended':
          setStatus(`The session has ended: ${message.reason}`);
          ended = true;
          connection.stop();
          return;
        case 'error':
          setStatus(`error: ${message.message}`);
          return;
        case 'promoted': {
          // This participant is the host now: load the page live, carrying the form state over.
          const doc = frame.contentDocument;
          if (doc) saveFormState(doc, message.url, sessionStorage);
          ended = true;
          connection.stop();
          location.assign(message.url);
          return;
        }
        case 'request-snapshot':
        case 'input':
        case 'cookies-changed':
          return;
        default: {
          const unknown: never = message;
          report(unknown);
        }
      }
    } catch (err) {
      if (err instanceof MirrorDivergence) connection.resync();
      else report(err);
    }
  };
  window.__cobrowse = { mode: 'mirror', connection };
  connection.connect();
}

try {
  if (!window.__cobrowse) {
    const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
    const masker = new Masker(maskSelectors(script));
    if (document.documentElement.hasAttribute(VIEW_PAGE_MARKER)) {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => startMirror(masker), { once: true });
      else startMirror(masker);
    } else {
      const cookies = installCookieShim(script?.dataset.cookies);
      installRuntime(script);
      if (window.top === window) startLive(masker, cookies);
    }
  }
} catch (err) {
  report(err);
}
