// Shared by the gateway (gateway/rewrite/js-top.ts: scripts and event handler attributes of
// pages; javascript: URLs through javascript-url.ts) and the page runtime (inject/: markup,
// attributes, script elements and string timers the page's script makes), so that both wrap the
// same references.
//
// References to the top window that navigate it or post to it, in a script of a page: `top.location`,
// `top.postMessage`, `top["location"]`, `window.top.location`, `self.top?.postMessage`, ... A frame
// on another proxied host cannot have its `top` replaced (it is [LegacyUnforgeable]), and the top
// window's runtime never hears of a navigation a cross-origin frame starts (no navigate event for
// it): `top.location = <real URL>` would leave the gateway. Each such reference is wrapped in the
// runtime's hook (`__cobrowseTop(top).location`), which hands out its wrapper of the top window
// (real URLs and origins mapped) and any other value as it is, so a local variable named `top`
// keeps working. The replacement starts with an identifier, as the reference did, so that
// automatic semicolon insertion reads the script as before.
//
// A small lexer tells code from comments, strings, template literals and regular expressions (the
// `/` after `)` of if/while/for/with and after a block's `}` starts a regular expression, as
// es-module-lexer decides). Whatever it cannot read (an unterminated literal, a line break in a
// regular expression) leaves the script unchanged. Not seen: references through an alias
// (`var t = top; t.location = ...`), computed property names (`top[k]`), comments between the
// words, and code that a direct eval runs (string timers, functions made from strings, event
// handlers, javascript: URLs and inline script elements made by script are wrapped by the
// runtime, see inject/). The gateway's scripts are latin1-held bytes
// (gateway/rewrite/js-imports.ts); the page runtime's are strings: the lexer reads both (anything
// past ASCII is part of a name).

import { TOP_HOOK } from './top-window.js';

/** One replacement in a script: its text [s, e) becomes `rep`. */
export interface TopEdit {
  s: number;
  e: number;
  rep: string;
}

/** Window names whose `.top` is the top window: `window.top.location` is wrapped whole. */
const WINDOW_NAMES = new Set(['window', 'self', 'globalThis', 'parent', 'frames']);

/**
 * Where a reference may be (a superset: comments and strings count): `top` not inside a longer
 * name, then `.`/`?.`/`[` and location or postMessage, with `window.` (or another window name) in
 * front when there is one.
 */
const CANDIDATE =
  /(?:(?<![\w$\x80-\xff\\.])(?:window|self|globalThis|parent|frames)\s*\??\.\s*)?(?<![\w$\x80-\xff\\])top(?:\s*\??\.\s*(?:window|self)(?![\w$\x80-\xff\\]))*\s*(?:\?\.\s*\[?|\.|\[)\s*['"`]?(?:location|postMessage)(?![\w$\x80-\xff\\])/g;

/** What must follow `top` for it to be wrapped: `.location`, `?.postMessage`, `["location"]`, ... (after `.window` or `.self`, which are the top window too). */
const MEMBER_AFTER =
  /(?:\s*\??\.\s*(?:window|self)(?![\w$\x80-\xff\\]))*\s*(?:(?:\?\.|\.)\s*(?:location|postMessage)(?![\w$\x80-\xff\\])|(?:\?\.\s*)?\[\s*(?:'(?:location|postMessage)'|"(?:location|postMessage)"|`(?:location|postMessage)`)\s*\])/y;

/** Bytes of the longest candidate's start that a chunk can end with (the rest in the next one); longer spellings are missed at a seam. */
export const TOP_SEAM = 64;

/** The candidate that the `top` at k (in window[..], which starts `start` before it) begins, or -1. */
export function candidateAt(window: string, start: number, k: number): number {
  CANDIDATE.lastIndex = 0;
  const m = CANDIDATE.exec(window);
  return m !== null && start + m.index <= k ? start + m.index : -1;
}

/** JavaScript white space and line breaks of ASCII. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Whether c may follow `top` (and spaces) in a reference: `.`, `?.`, `[`. */
export function isMemberStart(c: number): boolean {
  return c === 0x2e || c === 0x3f || c === 0x5b;
}

/** How far before `top` a window name may start (`globalThis ?. top`). */
export const NAME_BEFORE = 24;

/** Index of the first possible reference in text[from, to), or -1. Only the surroundings of each `top` are looked at. */
export function firstTopCandidate(text: string, from: number, to: number): number {
  // Searched in a slice when `to` is short of the end: indexOf on the whole text read on to its end
  // for every script without `top` (7% of the rewriter's time on a page of many inline scripts).
  const region = to < text.length ? text.slice(from, to) : text;
  const base = region === text ? 0 : from;
  for (let r = region.indexOf('top', from - base); r !== -1 && r + base + 3 <= to; r = region.indexOf('top', r + 3)) {
    const k = r + base;
    if (k > 0 && isIdentPart(text.charCodeAt(k - 1))) continue;
    let j = k + 3;
    while (j < to && isSpace(text.charCodeAt(j))) j++;
    if (!isMemberStart(text.charCodeAt(j))) continue;
    const start = Math.max(from, k - NAME_BEFORE);
    const found = candidateAt(text.slice(start, Math.min(to, k + TOP_SEAM)), start, k);
    if (found !== -1) return found;
  }
  return -1;
}

/** Characters a reference is written with (never `<` nor `-`, which the HTML script-end scanner reacts to). */
function isReferenceChar(c: number): boolean {
  return isIdentPart(c) || isSpace(c) || c === 0x2e || c === 0x3f || c === 0x5b || c === 0x22 || c === 0x27 || c === 0x60;
}

/**
 * Where the reference that text[from, to) may end in the middle of would start (to when the text
 * cannot end inside one): a chunk that ends at `to` holds the text from there back for the next.
 */
export function referenceTailStart(text: string, from: number, to: number): number {
  const min = Math.max(from, to - TOP_SEAM);
  let p = to;
  while (p > min && isReferenceChar(text.charCodeAt(p - 1))) p--;
  return p;
}

// Token kinds, as far as the `/` after them is concerned.
/** Start of the script, punctuators, keywords before an expression: a `/` starts a regular expression. */
const EXPR_START = 0;
/** Names, literals, `)` and `]`, `}` of an object: a `/` divides. */
const EXPR_END = 1;

// What a `{` opened.
const BLOCK = 0;
const OBJECT = 1;
const TEMPLATE = 2;

/** Keywords after which an expression starts (a `/` there begins a regular expression). */
const BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
  'extends',
]);
/** Keywords whose `(...)` is followed by a statement, not by an operator. */
const STATEMENT_PARENS = new Set(['if', 'while', 'for', 'with']);
/** Keywords before a `{` that opens a block. */
const BEFORE_BLOCK = new Set(['else', 'do', 'try', 'finally']);

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x24 || c === 0x5f || c === 0x5c || c >= 0x80;
}

/** Whether c may be part of a name (ASCII letters, digits, `$`, `_`, `\\`, anything past ASCII). */
export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

function isLineBreak(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/**
 * The edits wrapping each reference in `source` (latin1-held bytes) in the hook, in order;
 * 'unparsed' when the lexer cannot read the script (it is then left as it is).
 */
export function topReferenceEdits(source: string): TopEdit[] | 'unparsed' {
  const found: TopEdit[] = [];
  const n = source.length;
  const braces: number[] = [];
  /** For each open `(`: whether its `)` is followed by a statement. */
  const parens: boolean[] = [];
  let prev = EXPR_START;
  // The last two tokens: kind tags ('.' also for `?.`, 'id' for a name, 'member' for a name after a
  // dot, or the punctuator or keyword itself) and where they start.
  let t1 = '';
  let t1Start = 0;
  let t2 = '';
  let t2Start = 0;
  let lineStart = true;
  const push = (tag: string, start: number) => {
    t2 = t1;
    t2Start = t1Start;
    t1 = tag;
    t1Start = start;
    lineStart = false;
  };
  let i = 0;
  /** Reads a template's text from the backtick or `}` at `at` to its end or next `${`; false when it does not end. */
  const templateText = (at: number): boolean => {
    const r = templateEnd(source, at + 1);
    if (r === -1) return false;
    push('str', at);
    i = r;
    if (source.charCodeAt(i - 1) === 0x7b) {
      // `${`: an expression, closed by the `}` that resumes the template.
      braces.push(TEMPLATE);
      prev = EXPR_START;
    } else prev = EXPR_END;
    return true;
  };
  if (source.startsWith('#!')) i = lineEnd(source, 2);
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0) {
      i++;
      continue;
    }
    if (isLineBreak(c)) {
      lineStart = true;
      i++;
      continue;
    }
    // Comments, including the HTML-like ones of classic scripts.
    if (c === 0x2f && source.charCodeAt(i + 1) === 0x2f) {
      i = lineEnd(source, i + 2);
      continue;
    }
    if (c === 0x2f && source.charCodeAt(i + 1) === 0x2a) {
      const close = source.indexOf('*/', i + 2);
      if (close === -1) return 'unparsed';
      const body = source.slice(i + 2, close);
      if (body.includes('\n') || body.includes('\r')) lineStart = true;
      i = close + 2;
      continue;
    }
    if (c === 0x3c && source.startsWith('<!--', i)) {
      i = lineEnd(source, i + 4);
      continue;
    }
    if (c === 0x2d && lineStart && source.startsWith('-->', i)) {
      i = lineEnd(source, i + 3);
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      i++;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      const name = source.slice(start, i);
      const member = t1 === '.' || t1 === '#';
      if (name === 'top') {
        MEMBER_AFTER.lastIndex = i;
        if (MEMBER_AFTER.test(source)) {
          // `window.top.location`: the window name is wrapped with it (when it is a name of its own, not a member).
          const from = !member ? start : t1 === '.' && t2 === 'id' && WINDOW_NAMES.has(source.slice(t2Start, wordEnd(source, t2Start))) ? t2Start : -1;
          if (from !== -1) found.push({ s: from, e: i, rep: `${TOP_HOOK}(${source.slice(from, i)})` });
        }
      }
      if (!member && BEFORE_EXPRESSION.has(name)) {
        prev = EXPR_START;
        push(name, start);
      } else {
        prev = EXPR_END;
        push(member ? 'member' : STATEMENT_PARENS.has(name) || BEFORE_BLOCK.has(name) ? name : 'id', start);
      }
      continue;
    }
    if ((c >= 0x30 && c <= 0x39) || (c === 0x2e && source.charCodeAt(i + 1) >= 0x30 && source.charCodeAt(i + 1) <= 0x39)) {
      const start = i;
      i++;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (isIdentPart(d) || d === 0x2e) i++;
        else if ((d === 0x2b || d === 0x2d) && (source.charCodeAt(i - 1) | 0x20) === 0x65 && !/^0[xX]/.test(source.slice(start, i))) i++;
        else break;
      }
      prev = EXPR_END;
      push('num', start);
      continue;
    }
    if (c === 0x22 || c === 0x27) {
      const end = stringEnd(source, i + 1, c);
      if (end === -1) return 'unparsed';
      push('str', i);
      i = end;
      prev = EXPR_END;
      continue;
    }
    if (c === 0x60) {
      if (!templateText(i)) return 'unparsed';
      continue;
    }
    if (c === 0x2f) {
      if (prev === EXPR_START) {
        const end = regexEnd(source, i + 1);
        if (end === -1) return 'unparsed';
        push('re', i);
        i = end;
        prev = EXPR_END;
      } else {
        push('/', i);
        i++;
        prev = EXPR_START;
      }
      continue;
    }
    if (c === 0x7d) {
      const kind = braces.pop();
      if (kind === TEMPLATE) {
        if (!templateText(i)) return 'unparsed';
        continue;
      }
      push('}', i);
      i++;
      prev = kind === OBJECT ? EXPR_END : EXPR_START;
      continue;
    }
    if (c === 0x7b) {
      const block = t1 === '' || t1 === ';' || t1 === '{' || t1 === '}' || t1 === ')' || t1 === '=>' || t1 === 'id' || BEFORE_BLOCK.has(t1);
      braces.push(block ? BLOCK : OBJECT);
      push('{', i);
      i++;
      prev = EXPR_START;
      continue;
    }
    if (c === 0x28) {
      // `for await (...)` is a statement's parenthesis too.
      parens.push(STATEMENT_PARENS.has(t1) || (t1 === 'await' && t2 === 'for'));
      push('(', i);
      i++;
      prev = EXPR_START;
      continue;
    }
    if (c === 0x29) {
      const statement = parens.pop() ?? false;
      push(')', i);
      i++;
      prev = statement ? EXPR_START : EXPR_END;
      continue;
    }
    if (c === 0x5d) {
      push(']', i);
      i++;
      prev = EXPR_END;
      continue;
    }
    if (c === 0x2e) {
      // `.` and `...`
      const spread = source.startsWith('...', i);
      push(spread ? '...' : '.', i);
      i += spread ? 3 : 1;
      prev = EXPR_START;
      continue;
    }
    if (c === 0x3f && source.charCodeAt(i + 1) === 0x2e && !(source.charCodeAt(i + 2) >= 0x30 && source.charCodeAt(i + 2) <= 0x39)) {
      push('.', i);
      i += 2;
      prev = EXPR_START;
      continue;
    }
    if (c === 0x23) {
      push('#', i);
      i++;
      prev = EXPR_START;
      continue;
    }
    if ((c === 0x2b || c === 0x2d) && source.charCodeAt(i + 1) === c) {
      // `++`/`--`: taken as postfix (a `/` after them divides).
      push(c === 0x2b ? '++' : '--', i);
      i += 2;
      prev = EXPR_END;
      continue;
    }
    if (c === 0x3d && source.charCodeAt(i + 1) === 0x3e) {
      push('=>', i);
      i += 2;
      prev = EXPR_START;
      continue;
    }
    push(String.fromCharCode(c), i);
    i++;
    prev = EXPR_START;
  }
  if (braces.includes(TEMPLATE)) return 'unparsed';
  return found;
}

function wordEnd(source: string, i: number): number {
  while (i < source.length && isIdentPart(source.charCodeAt(i))) i++;
  return i;
}

function lineEnd(source: string, i: number): number {
  while (i < source.length && !isLineBreak(source.charCodeAt(i))) i++;
  return i;
}

/** After the closing quote of a string that started before i, or -1 (a line break or the end first). */
function stringEnd(source: string, i: number, quote: number): number {
  for (; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === quote) return i + 1;
    if (c === 0x5c) {
      i++;
      if (source.charCodeAt(i) === 0x0d && source.charCodeAt(i + 1) === 0x0a) i++;
      continue;
    }
    if (isLineBreak(c)) return -1;
  }
  return -1;
}

/** After the closing backtick or the `${` of a template's text that started before i, or -1. */
function templateEnd(source: string, i: number): number {
  for (; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x60) return i + 1;
    if (c === 0x5c) i++;
    else if (c === 0x24 && source.charCodeAt(i + 1) === 0x7b) return i + 2;
  }
  return -1;
}

/** After the flags of a regular expression whose body starts at i, or -1. */
function regexEnd(source: string, i: number): number {
  let inClass = false;
  for (; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (isLineBreak(c)) return -1;
    if (c === 0x5c) i++;
    else if (c === 0x5b) inClass = true;
    else if (c === 0x5d) inClass = false;
    else if (c === 0x2f && !inClass) return wordEnd(source, i + 1);
  }
  return -1;
}

/** `code` (a Unicode string: an event handler's decoded value) with its references to the top window wrapped, or null when none is. */
export function scriptWithTopReferences(code: string): string | null {
  if (firstTopCandidate(code, 0, code.length) === -1) return null;
  const found = topReferenceEdits(code);
  if (found === 'unparsed' || found.length === 0) return null;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += code.slice(at, f.s) + f.rep;
    at = f.e;
  }
  return out + code.slice(at);
}
