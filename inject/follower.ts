// Follower mode, on the view page: renders the mirror, sends the follower's input when it has
// control, enters the other origins the host visits, and shows the collaboration UI.

import { RELOAD_NOTICE, type RemoteInput, type Role, type ServerMessage } from '../protocol/messages.js';
import { HubConnection } from './connection.js';
import { saveFormState } from './form-restore.js';
import { anchorIn } from './live.js';
import type { Masker } from './masking.js';
import { Mirror, MirrorDivergence } from './mirror.js';
import { attachMirrorControls, drawFocus, fitMirror } from './mirror-controls.js';
import { report } from './report.js';
import { TextSender } from './text-sender.js';
import { CollabClient } from './ui/collab-client.js';

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

/** Starts follower mode on the view page. */
export function startMirror(masker: Masker): void {
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
  // A mirrored frame's document is filled again in place (its frame loaded again, or sent again):
  // its old controls go first, or each of the follower's clicks would be sent once per fill.
  const wired = new WeakMap<Document, () => void>();
  const sendInput = (event: RemoteInput) => connection.send({ type: 'input', event });
  // One for every mirrored document: the host's refusals come for fields of any of them.
  let texts: TextSender | null = null;
  const wire = (doc: Document) => {
    if (!role) return;
    texts ??= new TextSender(mirror, masker, sendInput, setStatus, () => connection.spareBytes());
    wired.get(doc)?.();
    wired.set(doc, attachMirrorControls(doc, mirror, role, masker, sendInput, setStatus, texts));
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
      if (s === 'outdated') {
        // Shown until the page is loaded again, like the session's end.
        setStatus(RELOAD_NOTICE);
        ended = true;
        collab.lastingNotice(RELOAD_NOTICE);
      } else if (s !== 'connected') setStatus(s === 'closed' ? 'disconnected' : `${s}…`);
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
      if (collab.handle(message)) return;
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
          if (message.code === 'REMOVED') {
            // The host removed this participant: shown like the session's end, and no reconnecting.
            setStatus(message.message);
            ended = true;
            connection.stop();
            return;
          }
          setStatus(`error: ${message.message}`);
          return;
        case 'promoted': {
          // This participant is the host now: load the page live, carrying the form state over.
          const doc = frame.contentDocument;
          if (doc) saveFormState(doc, message.url, sessionStorage, masker);
          ended = true;
          connection.stop();
          location.assign(message.url);
          return;
        }
        case 'splice-refused':
          texts?.refused(message.target, message.base, message.value);
          return;
        case 'request-snapshot':
        case 'input':
        case 'cookies-changed':
        case 'roster':
        case 'presence':
        case 'chat':
        case 'control-request':
        case 'highlight':
        case 'notice':
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
  const collab = new CollabClient(
    {
      mode: 'mirror',
      documents: () => (frame.contentDocument ? [frame.contentDocument] : []),
      anchor: (ev) => anchorIn(ev, (node) => mirror.idOfNode(node)),
      locate: (target) => {
        const el = mirror.nodeById(target) as Element | undefined;
        if (!el || el.ownerDocument !== frame.contentDocument || typeof el.getBoundingClientRect !== 'function') return null;
        const frameRect = frame.getBoundingClientRect();
        return { rect: el.getBoundingClientRect(), scale, offsetX: frameRect.left, offsetY: frameRect.top };
      },
      viewport: () => {
        const r = stage.getBoundingClientRect();
        return { left: r.left, top: r.top, width: r.width, height: r.height };
      },
      onFollow: (following) => {
        mirror.followScroll = following;
      },
      onLeave: () => {
        ended = true;
        connection.stop();
        document.body.textContent = 'You left the cobrowsing session. Open your join link again to come back.';
      },
    },
    (message) => connection.send(message),
  );
  window.__cobrowse = { mode: 'mirror', connection };
  connection.connect();
}
