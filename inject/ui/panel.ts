// The participant panel, in the page without disturbing it: a closed shadow root with its own
// styles, keyboard usable, collapsible on small screens. Shows who is here (names, colors, roles,
// connection), control (request, grant, revoke, pass the host role), follow, chat, the host's
// "Invite…" button, leave and end. The join links are never in this page: its scripts are the
// site's, so the button opens the gateway's own invite page (another origin) in a new window.

import type { ClientMessage, ControlPolicy, Role, RosterEntry } from '../../protocol/messages.js';
import { constructedSheet } from './overlay.js';

const NAME_KEY = 'cobrowse:name';

// The browser's own window.open, taken when the bundle is evaluated (before the URL runtime wraps
// it: the wrapper maps every URL into the session, and the gateway's own host is not a site).
const nativeOpen = window.open;

const STYLE = `
:host{all:initial}
.panel{position:fixed;right:12px;bottom:12px;width:min(300px,calc(100vw - 24px));max-height:min(70vh,520px);display:flex;flex-direction:column;z-index:2147483647;
  background:#fff;color:#1d2330;border-radius:12px;box-shadow:0 4px 18px #0003;font:13px/1.4 system-ui,sans-serif;overflow:hidden}
.panel.collapsed .body{display:none}
header{display:flex;align-items:center;gap:6px;padding:8px 10px;background:#1d2330;color:#fff}
header .dot{width:8px;height:8px;border-radius:50%;background:#40c057}
header .title{flex:1}
button{font:inherit;border:0;border-radius:6px;padding:3px 8px;background:#e7ebf3;color:#1d2330;cursor:pointer}
button.primary{background:#3b5bdb;color:#fff}button.danger{background:#fa5252;color:#fff}
button:focus-visible,input:focus-visible{outline:2px solid #4c6ef5;outline-offset:1px}
header button{background:#323a4f;color:#fff}
.body{display:flex;flex-direction:column;gap:8px;padding:8px 10px;overflow:auto}
ul{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:4px}
li{display:flex;align-items:center;gap:6px;flex-wrap:wrap}
li.offline{opacity:.5}
.swatch{width:10px;height:10px;border-radius:50%}
.role{font-size:11px;padding:0 5px;border-radius:6px;background:#edf2ff;color:#364fc7}
.name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
.chat-log{max-height:140px;overflow:auto;display:flex;flex-direction:column;gap:2px;border-top:1px solid #e9ecef;padding-top:6px}
.chat-log b{font-weight:600}
form{display:flex;gap:6px}input{flex:1;min-width:0;font:inherit;padding:3px 6px;border:1px solid #ced4da;border-radius:6px}
.notice{color:#c92a2a}.grow{flex:1}
.request{background:#fff3bf;padding:4px 6px;border-radius:6px}
`;

/** What the panel needs from its page. */
export interface PanelOptions {
  mode: 'live' | 'mirror';
  /** False when the message could not be sent (not connected). */
  send(message: ClientMessage): boolean;
  /** Followers only: whether the mirror follows the host's scroll. */
  onFollow?(following: boolean): void;
  onLeave(): void;
}

/** The panel; updated by the hub's roster, chat and notices. */
export class Panel {
  private readonly root: ShadowRoot;
  private readonly panel: HTMLDivElement;
  private me: { id: string; role: Role } | null = null;
  private roster: RosterEntry[] = [];
  private holder: string | null = null;
  private policy: ControlPolicy = 'take';
  private sessionId = '';
  /** The last chat message sent, until the hub has stored it. */
  private unsent = '';
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  /** A notice that stays is showing: later ones do not replace it. */
  private lasting = false;

  constructor(
    host: HTMLElement,
    private readonly options: PanelOptions,
  ) {
    // Closed in the site's page (its scripts cannot read the chat); open on the gateway's view page.
    this.root = host.attachShadow({ mode: options.mode === 'live' ? 'closed' : 'open' });
    this.root.adoptedStyleSheets = [constructedSheet(STYLE)];
    this.panel = document.createElement('div');
    this.panel.className = 'panel';
    this.panel.setAttribute('role', 'complementary');
    this.panel.setAttribute('aria-label', 'Cobrowsing');
    // Markup here is XML as well as HTML (void elements closed, attributes with values): an XHTML
    // page parses it as XML and refuses anything else.
    this.panel.innerHTML = `<header><span class="dot" aria-hidden="true"></span><span class="title" id="title">Cobrowsing</span><button type="button" id="toggle" aria-expanded="true">Hide</button></header>
<div class="body"><div class="row" id="you"></div><ul id="roster" aria-label="Participants"></ul><div id="requests"></div><div class="row" id="control"></div>
<div class="row" id="session"></div><p class="notice" id="notice" role="status" aria-live="polite" hidden="hidden"></p>
<div class="chat-log" id="chat" aria-label="Chat" aria-live="polite"></div><form id="chat-form"><input id="chat-input" aria-label="Message" maxlength="2000" placeholder="Message everyone" /><button type="submit">Send</button></form></div>`;
    this.root.append(this.panel);
    const toggle = this.$('toggle');
    toggle.addEventListener('click', () => {
      const collapsed = this.panel.classList.toggle('collapsed');
      toggle.textContent = collapsed ? 'Show' : 'Hide';
      toggle.setAttribute('aria-expanded', String(!collapsed));
    });
    if (innerWidth < 600) toggle.click();
    this.$('chat-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = this.$('chat-input') as HTMLInputElement;
      const text = input.value.trim();
      if (!text) return;
      if (options.send({ type: 'chat', text })) {
        this.unsent = text;
        input.value = '';
      } else {
        this.notice('Not connected right now: your message is kept here, send it again in a moment.');
      }
    });
  }

  private $(id: string): HTMLElement {
    const el = this.root.getElementById(id);
    if (!el) throw new Error(`panel has no #${id}`);
    return el;
  }

  /** Who this browser is; asks for a name on first join (remembered). */
  welcome(id: string, role: Role, sessionId: string): void {
    this.me = { id, role };
    this.sessionId = sessionId;
    // The hub replays the whole chat history after every welcome (a reconnect included).
    this.$('chat').replaceChildren();
    const saved = localStorage.getItem(NAME_KEY);
    if (saved) this.options.send({ type: 'name', name: saved });
    this.renderYou(saved);
    this.render();
  }

  private renderYou(name: string | null): void {
    const you = this.$('you');
    you.innerHTML = `<form id="name-form" class="grow"><input id="name-input" aria-label="Your name" maxlength="60" placeholder="Your name" /><button type="submit">${name ? 'Rename' : 'Set name'}</button></form>`;
    const input = this.root.getElementById('name-input') as HTMLInputElement;
    input.value = name ?? '';
    this.root.getElementById('name-form')?.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      localStorage.setItem(NAME_KEY, value);
      this.options.send({ type: 'name', name: value });
    });
  }

  /** The hub's roster. */
  setRoster(entries: readonly RosterEntry[], holder: string | null, policy: ControlPolicy): void {
    this.roster = [...entries];
    this.holder = holder;
    this.policy = policy;
    this.render();
  }

  /** The hub could not store the last message sent: it goes back into the input, with the reason. */
  chatNotSent(reason: string): void {
    const input = this.$('chat-input') as HTMLInputElement;
    if (this.unsent && !input.value) input.value = this.unsent;
    this.unsent = '';
    this.notice(reason);
  }

  /** A chat message (also the history replayed on join). */
  addChat(name: string, text: string): void {
    const line = document.createElement('div');
    const who = document.createElement('b');
    who.textContent = `${name}: `;
    line.append(who, document.createTextNode(text));
    const log = this.$('chat');
    log.append(line);
    log.scrollTop = log.scrollHeight;
    if (text === this.unsent) this.unsent = '';
  }

  /** A notice for this participant (refusals, decisions). */
  notice(text: string): void {
    if (this.lasting) return;
    const el = this.$('notice');
    el.textContent = text;
    el.hidden = false;
    if (this.noticeTimer !== null) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      el.hidden = true;
      this.noticeTimer = null;
    }, 6000);
  }

  /** A notice that stays: this page cannot go on until it is loaded again. */
  lastingNotice(text: string): void {
    this.notice(text);
    if (this.noticeTimer !== null) clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
    this.lasting = true;
  }

  /** The host is asked to grant control. */
  controlRequest(from: string, name: string): void {
    const box = document.createElement('div');
    box.className = 'request';
    box.innerHTML = '<span></span> <button type="button" class="primary">Grant</button> <button type="button">Deny</button>';
    (box.querySelector('span') as HTMLElement).textContent = `${name} asks for control.`;
    const [grant, deny] = Array.from(box.querySelectorAll('button'));
    grant?.addEventListener('click', () => {
      this.options.send({ type: 'control', action: 'grant', participantId: from });
      box.remove();
    });
    deny?.addEventListener('click', () => {
      this.options.send({ type: 'control', action: 'deny', participantId: from });
      box.remove();
    });
    this.$('requests').append(box);
  }

  /** Opens the invite page in a new window with no link back to this page (noopener). */
  private openInvitePage(): void {
    if (!this.sessionId) return;
    // With noopener the browser returns null whether or not it opened the window.
    nativeOpen.call(window, invitePageUrl(location, this.sessionId), '_blank', 'noopener,noreferrer');
  }

  private button(label: string, onClick: () => void, cls = ''): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (cls) b.className = cls;
    b.addEventListener('click', onClick);
    return b;
  }

  private render(): void {
    const me = this.me;
    const watching = this.roster.filter((p) => p.connected && p.role !== 'host').length;
    this.$('title').textContent = me?.role === 'host' ? `Live · ${watching} watching` : 'Cobrowsing · live';
    const list = this.$('roster');
    list.textContent = '';
    for (const p of this.roster) {
      const li = document.createElement('li');
      if (!p.connected) li.className = 'offline';
      li.innerHTML = '<span class="swatch"></span><span class="name"></span><span class="role"></span>';
      (li.querySelector('.swatch') as HTMLElement).style.background = p.color;
      (li.querySelector('.name') as HTMLElement).textContent = `${p.name}${p.id === me?.id ? ' (you)' : ''}${p.id === this.holder ? ' · has control' : ''}`;
      (li.querySelector('.role') as HTMLElement).textContent = p.connected ? p.role : `${p.role}, away`;
      if (me?.role === 'host' && p.role === 'controller' && p.connected) {
        if (this.policy === 'request') {
          li.append(
            p.id === this.holder
              ? this.button('Take back', () => this.options.send({ type: 'control', action: 'revoke' }))
              : this.button('Give control', () => this.options.send({ type: 'control', action: 'grant', participantId: p.id })),
          );
        }
        li.append(this.button('Make host', () => this.options.send({ type: 'control', action: 'make-host', participantId: p.id })));
      }
      list.append(li);
    }
    const control = this.$('control');
    control.textContent = '';
    if (me?.role === 'controller' && this.policy === 'request') {
      control.append(
        this.holder === me.id
          ? this.button('Release control', () => this.options.send({ type: 'control', action: 'release' }))
          : this.button('Request control', () => this.options.send({ type: 'control', action: 'request' }), 'primary'),
      );
    } else if (me?.role === 'controller' && this.policy === 'host-only') {
      control.textContent = 'Only the host acts on this site.';
    } else if (me?.role === 'observer') {
      control.textContent = 'You are watching.';
    }
    this.renderSession();
  }

  private renderSession(): void {
    const row = this.$('session');
    row.textContent = '';
    const me = this.me;
    if (!me) return;
    if (this.options.mode === 'mirror') {
      const label = document.createElement('label');
      label.innerHTML = '<input type="checkbox" id="follow" checked="checked" /> Follow the host';
      row.append(label);
      label.querySelector('input')?.addEventListener('change', (ev) => this.options.onFollow?.((ev.target as HTMLInputElement).checked));
    }
    if (me.role === 'host') {
      const invite = this.button('Invite…', () => this.openInvitePage());
      invite.title = "Opens the join links on the gateway's own page, in a new window";
      row.append(invite);
    }
    if (me.role === 'host') row.append(this.button('End session', () => this.options.send({ type: 'end' }), 'danger'));
    else row.append(this.button('Leave', () => this.options.onLeave()));
  }
}

/**
 * The gateway's invite page of a session: on the gateway's own host (this proxied host,
 * `<label>--<session>.<base>`, without its first label), which shows the links to the host only.
 */
function invitePageUrl(pageLocation: { protocol: string; host: string }, sessionId: string): string {
  const base = pageLocation.host.slice(pageLocation.host.indexOf('.') + 1);
  return `${pageLocation.protocol}//${base}/s/${encodeURIComponent(sessionId)}/invite`;
}
