// Long text for contenteditable elements, both sides. The follower sends a text too long for one
// message in parts (planEdits); the host's page joins them (EditParts) and inserts the whole text
// at once, a pasted or dropped text with line breaks the way Chromium's own paste of plain text
// does: its lines as one fragment, one replace-selection command (insertPlainText), each line in
// the inline style of the caret's place (typingStyle: insertHTML does not match the style as the
// paste does, so a multi-line paste after bold text came out plain).
// execCommand('insertText') makes a paragraph per line break and lays the element out again for
// each one: 10,000 short lines took ~4 minutes in 12 parts (the host's page frozen meanwhile), one
// insertHTML of their lines 0.8 s (measured in Chromium).

import { type EditPart, MAX_EDIT_PARTS, MAX_VALUE_CHARS, type RemoteInput } from '../protocol/messages.js';

export type EditInput = Extract<RemoteInput, { kind: 'edit' }>;

/** The contenteditable element `el` is edited in (its nearest one, or itself), or null when it is not editable. By node type: a frame's nodes are of another realm. */
export function editingHostOf(el: Element): HTMLElement | null {
  if (el.nodeType !== Node.ELEMENT_NODE || !(el as HTMLElement).isContentEditable) return null;
  return (el.closest('[contenteditable]') as HTMLElement | null) ?? (el as HTMLElement);
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/**
 * The edits that insert `data` (input type `inputType`, at `range`) into element `target`: one when
 * its message (as `measure` counts its bytes) is at most `maxBytes`, else the text in parts, each
 * message at most `maxBytes`. Null when the text is longer than a value may be, or a part of one
 * character does not fit.
 */
export function planEdits(
  target: number,
  inputType: string,
  data: string,
  range: EditInput['range'],
  measure: (edit: EditInput) => number,
  maxBytes: number,
  follows = false,
): EditInput[] | null {
  const whole: EditInput = { kind: 'edit', target, inputType, data, range, ...(follows ? { follows } : {}) };
  if (measure(whole) <= maxBytes) return [whole];
  if (data.length > MAX_VALUE_CHARS) return null;
  // Cut with the largest part numbers the message could carry: the real ones are no longer.
  const widest: EditPart = { index: MAX_EDIT_PARTS - 1, count: MAX_EDIT_PARTS };
  const texts: string[] = [];
  let units = Math.min(data.length, maxBytes);
  for (let at = 0; at < data.length; ) {
    let n = Math.min(units, data.length - at);
    for (;;) {
      // A surrogate pair stays in one part.
      if (at + n < data.length && isHighSurrogate(data.charCodeAt(at + n - 1))) n = n === 1 ? 2 : n - 1;
      const first = texts.length === 0;
      const size = measure({
        kind: 'edit',
        target,
        inputType,
        data: data.slice(at, at + n),
        range: first ? range : null,
        ...(first && follows ? { follows } : {}),
        part: widest,
      });
      if (size <= maxBytes) break;
      if (n <= 2) return null;
      n = Math.max(1, Math.floor((n * maxBytes * 0.95) / size));
    }
    texts.push(data.slice(at, at + n));
    if (texts.length > MAX_EDIT_PARTS) return null;
    at += n;
    units = n;
  }
  return texts.map((text, index) => ({
    kind: 'edit',
    target,
    inputType,
    data: text,
    range: index === 0 ? range : null,
    ...(index === 0 && follows ? { follows } : {}),
    part: { index, count: texts.length },
  }));
}

/** Edits in parts as they come, per participant and element; an edit comes out whole with its last part. */
export class EditParts {
  private readonly held = new Map<string, { first: EditInput; texts: string[]; length: number }>();

  /**
   * `input` as it is to be applied: itself when it is not a part of an edit, the whole edit with
   * the last part, else null (held until then; parts out of order or past a value's length are
   * dropped with what was held).
   */
  join(input: RemoteInput, from = ''): RemoteInput | null {
    if (input.kind !== 'edit' || !input.part) return input;
    const key = `${from} ${input.target}`;
    const { index, count } = input.part;
    const data = input.data ?? '';
    let held = this.held.get(key);
    if (index === 0) {
      held = { first: input, texts: [], length: 0 };
      this.held.set(key, held);
    }
    if (!held || held.texts.length !== index || held.first.part?.count !== count || held.length + data.length > MAX_VALUE_CHARS) {
      this.held.delete(key);
      return null;
    }
    held.texts.push(data);
    held.length += data.length;
    if (index < count - 1) return null;
    this.held.delete(key);
    const { part: _part, ...first } = held.first;
    return { ...first, data: held.texts.join('') };
  }
}

/** Where a multi-line text goes: a context that keeps line breaks as text, or the block its lines are made of (null: a div). */
export interface PasteContext {
  preservesNewlines: boolean;
  block: { tag: string; attributes: readonly (readonly [string, string])[] } | null;
  /** The inline style the text takes at the selection, as the tags around each line's content (typingStyle). */
  style?: { open: string; close: string } | null;
}

const TAG = /^[a-z][a-z0-9._-]*$/;
const ATTRIBUTE = /^[^\s"'<>/=\u0000-\u001f]+$/;
const SPACE = /[ \u00a0]/;

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

/**
 * A piece of a line with its spaces as they stay visible where white space collapses: in a run of
 * spaces every other one is a no-break space (starting with one), a lone space between two
 * characters stays a space, and a run that ends the line ends with a no-break space. (What
 * Chromium's paste makes of them; a no-break space counts as a space.)
 */
function keepSpaces(piece: string, startsLine: boolean, endsLine: boolean): string {
  let out = '';
  for (let i = 0; i < piece.length; ) {
    if (!SPACE.test(piece.charAt(i))) {
      out += piece.charAt(i);
      i++;
      continue;
    }
    let end = i;
    while (end < piece.length && SPACE.test(piece.charAt(end))) end++;
    const first = i === 0 && startsLine;
    const last = end === piece.length && endsLine;
    if (end - i === 1 && !first && !last) out += ' ';
    else for (let k = i; k < end; k++) out += (k - i) % 2 === 0 || (last && k === end - 1) ? '\u00a0' : ' ';
    i = end;
  }
  return out;
}

/** One line's content: a placeholder when empty, else its text with each tab in a span that keeps it. */
function lineMarkup(line: string): string {
  if (line === '') return '<br>';
  const pieces = line.split('\t');
  return pieces.map((piece, i) => escapeText(keepSpaces(piece, i === 0, i === pieces.length - 1))).join('<span style="white-space:pre">\t</span>');
}

/** The markup of `text` (line breaks as \n) as a paste of plain text into `context` makes it. */
export function plainTextMarkup(text: string, context: PasteContext): string {
  const style = context.style ?? { open: '', close: '' };
  if (context.preservesNewlines) return `${style.open}${escapeText(text)}${style.close}`;
  const block = context.block && TAG.test(context.block.tag) ? context.block : null;
  const open = block
    ? `<${block.tag}${block.attributes
        .filter(([name]) => ATTRIBUTE.test(name))
        .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
        .join('')}>`
    : '<div>';
  const close = block ? `</${block.tag}>` : '</div>';
  return text
    .split('\n')
    .map((line) => `${open}${style.open}${lineMarkup(line)}${style.close}${close}`)
    .join('');
}

/** The context of the selection in editing host `host`: whether line breaks stay text there, and the block a new line is made of. */
export function pasteContext(host: HTMLElement): PasteContext {
  const sel = document.getSelection();
  const range = sel && sel.rangeCount > 0 ? sel.getRangeAt(0) : null;
  const node = range ? caretNode(range.startContainer, range.startOffset) : host;
  let start = node.nodeType === Node.ELEMENT_NODE ? (node as Element) : node.parentElement;
  if (!start || !host.contains(start)) start = host;
  const style = getComputedStyle(start);
  const collapse = style.getPropertyValue('white-space-collapse') || style.whiteSpace;
  const preservesNewlines = /^(preserve|preserve-breaks|break-spaces|pre|pre-wrap|pre-line)$/.test(collapse);
  const inline: Element[] = [];
  let el: Element | null = start;
  for (; el && el !== host; el = el.parentElement) {
    const display = getComputedStyle(el).display;
    if (!display.startsWith('inline') && display !== 'contents') break;
    inline.push(el);
  }
  const blockEl = el && el !== host ? el : host;
  const block = el && el !== host ? { tag: el.localName, attributes: Array.from(el.attributes, (a) => [a.name, a.value] as const) } : null;
  return { preservesNewlines, block, style: typingStyle(start, inline, blockEl) };
}

/**
 * The node a caret at (container, offset) edits in, as Chromium reads it: between an element's
 * children, the end of the deepest last node before it (the start of the first, at offset 0), so
 * that a caret after `<b>Hello</b>` types bold.
 */
function caretNode(container: Node, offset: number): Node {
  if (container.nodeType !== Node.ELEMENT_NODE || container.childNodes.length === 0) return container;
  const before = offset > 0;
  let node: Node = container.childNodes[Math.min(offset, container.childNodes.length) - (before ? 1 : 0)] ?? container;
  for (let next = before ? node.lastChild : node.firstChild; next; next = before ? node.lastChild : node.firstChild) node = next;
  return node;
}

/** `rgb(r, g, b)` as `#rrggbb`; null for a color with transparency or another syntax. */
function hexColor(color: string): string | null {
  const m = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(color);
  return m
    ? `#${m
        .slice(1, 4)
        .map((c) => Number(c).toString(16).padStart(2, '0'))
        .join('')}`
    : null;
}

/**
 * The inline style at the selection that its block does not have, as Chromium's paste of plain
 * text gives it to the pasted text (it matches the text to the style where it goes, in legacy
 * tags: a <font> for the color and the face, a <span style> for a size or a weight or slant the
 * block has and the selection has not, then <b>, <i>, <u>, <strike>): `start` is the selection's
 * element, `inline` the inline elements from it up to `block` (text decorations are not inherited,
 * so they are read off each). As in Chromium 156, a link is not continued (its color and underline
 * are), nor a background, and sub or sup give only their smaller size. Null when there is none.
 */
function typingStyle(start: Element, inline: readonly Element[], block: Element): { open: string; close: string } | null {
  if (inline.length === 0) return null;
  const at = getComputedStyle(start);
  const base = getComputedStyle(block);
  const decorations = new Set<string>();
  for (const el of inline) for (const line of getComputedStyle(el).textDecorationLine.split(' ')) if (line !== 'none') decorations.add(line);
  const tags: [string, string][] = [];
  const font: string[] = [];
  const css: string[] = [];
  if (at.color !== base.color) {
    const hex = hexColor(at.color);
    if (hex) font.push(`color="${hex}"`);
    else css.push(`color: ${at.color}`);
  }
  if (at.fontFamily !== base.fontFamily) font.push(`face="${escapeAttribute(at.fontFamily)}"`);
  if (font.length > 0) tags.push([`<font ${font.join(' ')}>`, '</font>']);
  if (at.fontSize !== base.fontSize) css.push(`font-size: ${at.fontSize}`);
  const bold = (weight: string) => Number(weight) >= 600;
  if (!bold(at.fontWeight) && bold(base.fontWeight)) css.push(`font-weight: ${at.fontWeight}`);
  if (at.fontStyle === 'normal' && base.fontStyle !== 'normal') css.push('font-style: normal');
  if (css.length > 0) tags.push([`<span style="${escapeAttribute(css.join('; '))};">`, '</span>']);
  if (bold(at.fontWeight) && !bold(base.fontWeight)) tags.push(['<b>', '</b>']);
  if (at.fontStyle !== base.fontStyle && at.fontStyle !== 'normal') tags.push(['<i>', '</i>']);
  if (decorations.has('underline')) tags.push(['<u>', '</u>']);
  if (decorations.has('line-through')) tags.push(['<strike>', '</strike>']);
  if (tags.length === 0) return null;
  return {
    open: tags.map(([open]) => open).join(''),
    close: tags
      .map(([, close]) => close)
      .reverse()
      .join(''),
  };
}

/**
 * Inserts a pasted or dropped `text` at the selection of the focused editing host `host` as a paste
 * of plain text would; a text without line breaks as typing would.
 */
export function insertPlainText(host: HTMLElement, text: string): void {
  const normalized = text.replace(/\r\n?/g, '\n');
  // insertHTML is off where only plain text may be edited (contenteditable=plaintext-only).
  if (!normalized.includes('\n') || !document.execCommand('insertHTML', false, plainTextMarkup(normalized, pasteContext(host))))
    document.execCommand('insertText', false, normalized);
}
