// Other participants' cursors and highlights, drawn over the page (host) or the mirror (followers).
// Positions come from an element and an offset inside it, so they stay right across window sizes
// and scroll positions; a cursor whose element is out of view shows as a marker on the edge.

import type { CursorPos, Highlight, RosterEntry } from '../../protocol/messages.js';

/** Where an element is: its rect in its own document, the scale of that document and its offset in the window; null when unknown. */
export type Locate = (target: number) => { rect: DOMRect; scale: number; offsetX: number; offsetY: number } | null;

const STYLE = `
:host{all:initial}
.layer{position:fixed;inset:0;pointer-events:none;z-index:2147483646;overflow:hidden;font:12px/1.3 system-ui,sans-serif}
.cursor{position:absolute;transition:transform 80ms linear;will-change:transform}
.cursor svg{display:block;filter:drop-shadow(0 1px 1px #0006)}
.label{position:absolute;left:14px;top:14px;padding:1px 6px;border-radius:8px;color:#fff;white-space:nowrap}
.edge .label::before{content:'↗ '}
.mark{position:absolute;border:3px solid;border-radius:6px;animation:fade 3s forwards}
.laser{position:absolute;width:14px;height:14px;margin:-7px 0 0 -7px;border-radius:50%;animation:fade 1.2s forwards;box-shadow:0 0 8px 3px currentColor;background:currentColor}
.ripple{position:absolute;width:36px;height:36px;margin:-18px 0 0 -18px;border-radius:50%;border:3px solid currentColor;animation:ripple .7s ease-out forwards}
.area{position:absolute;border:3px dashed;border-radius:4px;background:#ffd43b22;animation:fade 4s forwards}
@keyframes ripple{0%{transform:scale(.2);opacity:1}100%{transform:scale(1.3);opacity:0}}
@keyframes fade{0%{opacity:1}70%{opacity:1}100%{opacity:0}}
`;

/** A constructed style sheet: CSP rules on inline styles do not apply to it. */
export function constructedSheet(text: string): CSSStyleSheet {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(text);
  return sheet;
}

/** The overlay layer, in its own shadow root (styles isolated; never mirrored). */
export class Overlay {
  private readonly layer: HTMLDivElement;
  private readonly cursors = new Map<string, { el: HTMLDivElement; pos: CursorPos | null }>();
  private roster = new Map<string, RosterEntry>();

  constructor(
    host: HTMLElement,
    private readonly locate: Locate,
    private readonly viewport: () => { width: number; height: number; left: number; top: number },
    mode: 'live' | 'mirror',
  ) {
    const root = host.attachShadow({ mode: mode === 'live' ? 'closed' : 'open' });
    root.adoptedStyleSheets = [constructedSheet(STYLE)];
    this.layer = document.createElement('div');
    this.layer.className = 'layer';
    root.append(this.layer);
  }

  /** Names and colors of everyone, for labels. */
  setRoster(entries: readonly RosterEntry[]): void {
    this.roster = new Map(entries.map((e) => [e.id, e]));
    for (const [id, c] of this.cursors) if (!this.roster.get(id)?.connected) this.removeCursor(id, c.el);
  }

  /** Moves (or hides, with null) one participant's cursor. */
  setCursor(from: string, pos: CursorPos | null): void {
    let entry = this.cursors.get(from);
    if (!entry) {
      const el = document.createElement('div');
      el.className = 'cursor';
      const color = this.roster.get(from)?.color ?? '#1c7ed6';
      el.innerHTML = `<svg width="16" height="20" viewBox="0 0 16 20" aria-hidden="true"><path d="M1 1l13 9-6 1 3 7-3 1-3-7-4 4z" fill="${color}" stroke="#fff" stroke-width="1.2"/></svg><span class="label"></span>`;
      (el.querySelector('.label') as HTMLElement).style.background = color;
      this.layer.append(el);
      entry = { el, pos: null };
      this.cursors.set(from, entry);
    }
    entry.pos = pos;
    const label = entry.el.querySelector('.label');
    if (label) label.textContent = this.roster.get(from)?.name ?? 'Guest';
    this.place(entry.el, pos);
  }

  /** Re-places every cursor (after scroll, resize or a DOM change). */
  refresh(): void {
    for (const { el, pos } of this.cursors.values()) this.place(el, pos);
  }

  /** Shows a highlight for a few seconds. */
  highlight(from: string, h: Highlight): void {
    const at = this.locate(h.target);
    if (!at) return;
    const color = this.roster.get(from)?.color ?? '#e8590c';
    const el = document.createElement('div');
    if (h.kind === 'mark') {
      el.className = 'mark';
      el.style.borderColor = color;
      el.style.left = `${at.offsetX + at.rect.left * at.scale - 3}px`;
      el.style.top = `${at.offsetY + at.rect.top * at.scale - 3}px`;
      el.style.width = `${at.rect.width * at.scale}px`;
      el.style.height = `${at.rect.height * at.scale}px`;
    } else if (h.kind === 'area') {
      el.className = 'area';
      el.style.borderColor = color;
      el.style.left = `${at.offsetX + (at.rect.left + h.x) * at.scale}px`;
      el.style.top = `${at.offsetY + (at.rect.top + h.y) * at.scale}px`;
      el.style.width = `${(h.w ?? 0) * at.scale}px`;
      el.style.height = `${(h.h ?? 0) * at.scale}px`;
    } else {
      el.className = h.kind;
      el.style.color = color;
      el.style.left = `${at.offsetX + (at.rect.left + h.x) * at.scale}px`;
      el.style.top = `${at.offsetY + (at.rect.top + h.y) * at.scale}px`;
    }
    this.layer.append(el);
    setTimeout(() => el.remove(), { mark: 3000, area: 4000, laser: 1200, ripple: 700 }[h.kind]);
  }

  private removeCursor(id: string, el: HTMLDivElement): void {
    el.remove();
    this.cursors.delete(id);
  }

  private place(el: HTMLDivElement, pos: CursorPos | null): void {
    const at = pos ? this.locate(pos.target) : null;
    if (!pos) {
      el.hidden = true;
      return;
    }
    if (!at) {
      // Pointing at something this page does not show (another page, a node gone): a marker on the edge.
      const vp = this.viewport();
      const index = [...this.cursors.values()].findIndex((c) => c.el === el);
      el.hidden = false;
      el.classList.add('edge');
      el.style.transform = `translate(${vp.left + vp.width - 140}px, ${vp.top + 6 + Math.max(0, index) * 24}px)`;
      return;
    }
    const vp = this.viewport();
    const x = at.offsetX + (at.rect.left + pos.x) * at.scale;
    const y = at.offsetY + (at.rect.top + pos.y) * at.scale;
    const cx = Math.min(Math.max(x, vp.left), vp.left + vp.width - 16);
    const cy = Math.min(Math.max(y, vp.top), vp.top + vp.height - 20);
    el.hidden = false;
    el.classList.toggle('edge', cx !== x || cy !== y);
    el.style.transform = `translate(${cx}px, ${cy}px)`;
  }
}
