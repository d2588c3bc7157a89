// Live mode, in the host's page: records the DOM for the hub, applies remote input, restores
// handed-over form state, and shows the collaboration UI.

import { type CursorPos, RELOAD_NOTICE, type ServerMessage, type SpliceBase } from '../protocol/messages.js';
import { HubConnection } from './connection.js';
import type { CookieShim } from './cookie-shim.js';
import { restoreFormState } from './form-restore.js';
import { FrameBridge } from './frame-bridge.js';
import type { Masker } from './masking.js';
import { EditParts } from './paste-text.js';
import { Recorder } from './recorder.js';
import { applyRemoteInput, fieldValue, type HostOnlyRules, maskedRefusal, refusalFor, setFormState } from './remote-input.js';
import { report } from './report.js';
import { CollabClient } from './ui/collab-client.js';

/** Starts live mode in the host's page. */
export function startLive(masker: Masker, cookies: CookieShim | null, hostOnly: HostOnlyRules): void {
  let connection: HubConnection;
  let collab: CollabClient | null = null;
  // The welcome can arrive before the UI is mounted (DOMContentLoaded): kept and replayed then.
  let pendingWelcome: ServerMessage | null = null;
  const editParts = new EditParts();
  let outdated = false;
  const recorder = new Recorder((message) => {
    connection.send(message);
  }, masker);
  connection = new HubConnection('live', {
    onOpen: () => recorder.snapshot(),
    onMessage: (message: ServerMessage) => {
      try {
        if (collab?.handle(message)) return;
        if (message.type === 'welcome') pendingWelcome = message;
        if (message.type === 'request-snapshot') recorder.snapshot();
        else if (message.type === 'cookies-changed') cookies?.refresh();
        else if (message.type === 'input') {
          if (frames.forward(message.event, message.from)) return;
          const event = editParts.join(message.event, message.from);
          if (!event) return;
          const refusal = maskedRefusal(event, recorder.ids, masker) ?? refusalFor(event, recorder.ids, hostOnly);
          if (refusal) connection.send({ type: 'input-refused', participantId: message.from, reason: refusal });
          else
            applyRemoteInput(
              event,
              recorder.ids,
              (stale) => spliceRefused(message.from, stale.target, stale.base, fieldValue(recorder.ids.node(stale.target), masker)),
              message.from,
            );
        } else if (message.type === 'error' && message.code === 'NOT_HOST') location.assign('/__cobrowse/view');
        else if (message.type === 'error') report(`${message.code}: ${message.message}`);
      } catch (err) {
        report(err);
      }
    },
    onStatus: (status) => {
      // The hub and this page's script speak different protocol versions: nothing of the page is shared until it is loaded again.
      if (status !== 'outdated') return;
      outdated = true;
      collab?.lastingNotice(RELOAD_NOTICE);
    },
  });
  // The participant falls back (sends the whole value, or shows the host's text again: sent with the refusal).
  const spliceRefused = (participantId: string, target: number, base: SpliceBase, value?: string) =>
    connection.send(
      value === undefined ? { type: 'splice-refused', participantId, target, base } : { type: 'splice-refused', participantId, target, base, value },
    );
  const frames = new FrameBridge(recorder, masker, (batch) => recorder.sendChanges(batch));
  frames.onSpliceRefused = spliceRefused;
  frames.onInputRefused = (participantId, reason) => connection.send({ type: 'input-refused', participantId, reason });
  recorder.onCrossFrame = (frame) => frames.register(frame);
  window.__cobrowse = { mode: 'live', connection };
  const restore = () => {
    try {
      restoreFormState(document, location.href, sessionStorage, masker, setFormState);
    } catch (err) {
      report(err);
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', restore, { once: true });
  else restore();
  connection.connect();
  recorder.start();
  const mountUi = () => {
    collab = new CollabClient(
      {
        mode: 'live',
        documents: () => [document],
        anchor: (ev) => anchorIn(ev, (node) => recorder.ids.known(node)),
        locate: (target) => {
          const el = recorder.ids.node(target) as Element | undefined;
          return el?.isConnected && typeof el.getBoundingClientRect === 'function'
            ? { rect: el.getBoundingClientRect(), scale: 1, offsetX: 0, offsetY: 0 }
            : null;
        },
        viewport: () => ({ left: 0, top: 0, width: innerWidth, height: innerHeight }),
        onLeave: () => {},
      },
      (message) => connection.send(message),
    );
    if (pendingWelcome) collab.handle(pendingWelcome);
    if (outdated) collab.lastingNotice(RELOAD_NOTICE);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountUi, { once: true });
  else mountUi();
}

/** The element under the pointer (by id) and the pointer's offset inside it. */
export function anchorIn(ev: MouseEvent, idOf: (node: Node) => number | undefined): CursorPos | null {
  for (let node = (ev.composedPath()[0] ?? ev.target) as Node | null; node; node = node.parentNode) {
    const id = idOf(node);
    if (id === undefined || node.nodeType !== Node.ELEMENT_NODE) continue;
    const rect = (node as Element).getBoundingClientRect();
    return { target: id, x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  }
  return null;
}
