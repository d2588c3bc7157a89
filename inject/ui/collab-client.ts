// The browser side of working together, for the host's page and the follower view alike: mounts
// the panel and the overlay, sends this participant's cursor and highlights, and shows everyone
// else's. Positions are anchored to mirrored elements by id.

import type { ClientMessage, CursorPos, Highlight, ServerMessage } from '../../protocol/messages.js';
import { type Locate, Overlay } from './overlay.js';
import { Panel } from './panel.js';

/** Where this page's elements are, and which id an element has. */
export interface CollabSurface {
  mode: 'live' | 'mirror';
  /** Documents whose pointer movements are this participant's cursor. */
  documents(): Document[];
  /** Id of a mirrored element and the pointer offset inside it. */
  anchor(ev: MouseEvent): CursorPos | null;
  locate: Locate;
  viewport(): { width: number; height: number; left: number; top: number };
  onFollow?(following: boolean): void;
  onLeave(): void;
}

const SEND_INTERVAL_MS = 50;

/** Mounts the collaboration UI; `handle` takes the hub's messages meant for it. */
export class CollabClient {
  private readonly panel: Panel;
  private readonly overlay: Overlay;
  private readonly wired = new WeakSet<Document>();
  private lastSent = 0;
  private pending: CursorPos | null | undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly surface: CollabSurface,
    private readonly send: (message: ClientMessage) => boolean,
  ) {
    const container = document.createElement('cobrowse-ui');
    container.setAttribute('data-cobrowse', '');
    // Styles through the CSSOM everywhere in the UI: a site's CSP may forbid inline style attributes and elements.
    container.style.cssText = 'all:initial;position:static';
    const overlayHost = document.createElement('div');
    const panelHost = document.createElement('div');
    container.append(overlayHost, panelHost);
    document.documentElement.append(container);
    this.overlay = new Overlay(overlayHost, surface.locate, () => surface.viewport(), surface.mode);
    this.panel = new Panel(panelHost, { mode: surface.mode, send, onFollow: surface.onFollow, onLeave: surface.onLeave });
    setInterval(() => this.overlay.refresh(), 200);
    this.wireDocuments();
  }

  /** Listens for pointer movement and highlight gestures in every document of the surface. */
  wireDocuments(): void {
    for (const doc of this.surface.documents()) {
      if (this.wired.has(doc)) continue;
      this.wired.add(doc);
      doc.addEventListener('mousemove', (ev) => this.moved(ev), true);
      doc.addEventListener('mouseleave', () => this.queue(null), true);
      let pressed: { at: CursorPos; x: number; y: number } | null = null;
      let dragged = false;
      doc.addEventListener(
        'mousedown',
        (ev) => {
          const at = ev.altKey ? this.surface.anchor(ev) : null;
          pressed = at ? { at, x: ev.clientX, y: ev.clientY } : null;
          dragged = false;
        },
        true,
      );
      doc.addEventListener(
        'mouseup',
        (ev) => {
          // Alt+drag marks an area for everyone.
          const start = pressed;
          pressed = null;
          if (!start || !ev.altKey) return;
          const dx = ev.clientX - start.x;
          const dy = ev.clientY - start.y;
          if (Math.hypot(dx, dy) <= 8) return;
          dragged = true;
          this.highlight({
            kind: 'area',
            target: start.at.target,
            x: start.at.x + Math.min(0, dx),
            y: start.at.y + Math.min(0, dy),
            w: Math.abs(dx),
            h: Math.abs(dy),
          });
        },
        true,
      );
      doc.addEventListener(
        'click',
        (ev) => {
          const at = this.surface.anchor(ev);
          if (!ev.altKey) {
            // Everyone sees where a participant clicks.
            if (at) this.highlight({ kind: 'ripple', target: at.target, x: at.x, y: at.y });
            return;
          }
          // Alt+click marks an element for everyone instead of clicking it.
          ev.preventDefault();
          ev.stopImmediatePropagation();
          if (!dragged && at) this.highlight({ kind: 'mark', target: at.target, x: at.x, y: at.y });
          dragged = false;
        },
        true,
      );
    }
  }

  private moved(ev: MouseEvent): void {
    const at = this.surface.anchor(ev);
    // Alt held while moving is a laser pointer.
    if (ev.altKey && at && Date.now() - this.lastSent > SEND_INTERVAL_MS) this.highlight({ kind: 'laser', target: at.target, x: at.x, y: at.y });
    this.queue(at);
  }

  private highlight(h: Highlight): void {
    this.send({ type: 'highlight', ...h });
    this.overlay.highlight('self', h);
  }

  private queue(cursor: CursorPos | null): void {
    this.pending = cursor;
    if (this.timer !== null) return;
    const wait = Math.max(0, SEND_INTERVAL_MS - (Date.now() - this.lastSent));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.pending === undefined) return;
      this.send({ type: 'presence', cursor: this.pending });
      this.pending = undefined;
      this.lastSent = Date.now();
    }, wait);
  }

  /** Takes a hub message; returns false when it is not about collaboration. */
  handle(message: ServerMessage): boolean {
    switch (message.type) {
      case 'welcome':
        this.panel.welcome(message.participantId, message.role, message.sessionId);
        return false;
      case 'roster':
        this.overlay.setRoster(message.participants);
        this.panel.setRoster(message.participants, message.controlHolder, message.policy);
        return true;
      case 'presence':
        this.overlay.setCursor(message.from, message.cursor);
        return true;
      case 'highlight':
        this.overlay.highlight(message.from, message);
        return true;
      case 'chat':
        this.panel.addChat(message.name, message.text);
        return true;
      case 'control-request':
        this.panel.controlRequest(message.from, message.name);
        return true;
      case 'notice':
        this.panel.notice(message.text);
        return true;
      case 'error':
        if (message.code !== 'CHAT_NOT_SENT') return false;
        this.panel.chatNotSent(message.message);
        return true;
      default:
        return false;
    }
  }

  /** Shows a notice that stays in the panel (this page has to be loaded again). */
  lastingNotice(text: string): void {
    this.panel.lastingNotice(text);
  }

  /** Re-places cursors after the page changed. */
  refresh(): void {
    this.overlay.refresh();
  }
}
