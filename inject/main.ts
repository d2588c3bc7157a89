// Entry of the injected bundle. In the host's page it records the live DOM; on the follower
// view page it renders the mirror. It never throws into the site's page.

import { type ServerMessage, VIEW_PAGE_MARKER } from '../protocol/messages.js';
import { HubConnection } from './connection.js';
import { Mirror, MirrorDivergence } from './mirror.js';
import { Recorder } from './recorder.js';

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

function startLive(): void {
  let connection: HubConnection;
  const recorder = new Recorder((message) => {
    connection.send(message);
  });
  connection = new HubConnection('live', {
    onOpen: () => recorder.snapshot(),
    onMessage: (message: ServerMessage) => {
      if (message.type === 'request-snapshot') recorder.snapshot();
      else if (message.type === 'error') report(`${message.code}: ${message.message}`);
    },
    onStatus: () => {},
  });
  window.__cobrowse = { mode: 'live', connection };
  connection.connect();
  recorder.start();
}

function startMirror(): void {
  const frame = document.getElementById('cobrowse-mirror') as HTMLIFrameElement | null;
  const status = document.getElementById('cobrowse-status');
  if (!frame) return;
  const mirror = new Mirror(frame);
  let ended = false;
  const setStatus = (text: string) => {
    if (status && !ended) status.textContent = text;
  };
  const connection: HubConnection = new HubConnection('mirror', {
    onOpen: () => {},
    onStatus: (s) => {
      if (s !== 'connected') setStatus(s === 'closed' ? 'disconnected' : `${s}…`);
    },
    onMessage: (message: ServerMessage) => {
      try {
        switch (message.type) {
          case 'welcome':
            setStatus('waiting for the host’s page…');
            return;
          case 'snapshot':
            mirror.applySnapshot(message.tree, message.url);
            connection.lastSeq = message.seq;
            document.title = message.title ? `${message.title} · cobrowsing` : 'Cobrowsing';
            setStatus('live');
            return;
          case 'mutations':
            if (connection.lastSeq === undefined || message.seq !== connection.lastSeq + 1) {
              connection.resync();
              return;
            }
            mirror.applyMutations(message.batch);
            connection.lastSeq = message.seq;
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
          case 'request-snapshot':
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
    },
  });
  // Followers never navigate the mirror themselves: links and forms stay inert.
  const block = (ev: Event) => ev.preventDefault();
  const doc = frame.contentDocument;
  doc?.addEventListener('click', block, true);
  doc?.addEventListener('submit', block, true);
  window.__cobrowse = { mode: 'mirror', connection };
  connection.connect();
}

try {
  if (!window.__cobrowse) {
    if (document.documentElement.hasAttribute(VIEW_PAGE_MARKER)) {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startMirror, { once: true });
      else startMirror();
    } else if (window.top === window) {
      startLive();
    }
  }
} catch (err) {
  report(err);
}
