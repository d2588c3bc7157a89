// CSS the site's script writes (inline styles and rule declarations through `.style`, setProperty
// and cssText, the typed OM's attributeStyleMap, style attributes, constructed and inserted
// rules, FontFace sources, animation keyframes; <style> text is in style-text-mapping.ts): absolute URLs in url(), @import and
// image-set() go to the gateway before the browser loads them. A small tokenizer finds them:
// comments, strings and escapes are read as CSS Syntax 3 reads them; everything else is copied.

import { installCssObjects } from './css-objects.js';
import { report } from './report.js';

type MapUrl = (url: string) => string;

const WS = /^[ \t\n\r\f]$/;

function unescapeCss(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\([^\n\r\f0-9a-fA-F])/g, (_, hex: string | undefined, ch: string | undefined) =>
    hex ? String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff) || 0xfffd) : (ch ?? ''),
  );
}

/** `url` written back as the token it was read from: a string with the same quote, or an unquoted url(). */
function written(url: string, quote: string): string {
  const escaped = (re: RegExp) => url.replace(re, (c) => (/[\n\r\f\t ]/.test(c) ? `\\${c.charCodeAt(0).toString(16)} ` : `\\${c}`));
  return quote === '' ? escaped(/[\\"'() \t\n\r\f]/g) : `${quote}${escaped(quote === '"' ? /[\\"\n\r\f]/g : /[\\'\n\r\f]/g)}${quote}`;
}

/** The end (exclusive) of the string starting with the quote at `i`, and its value (escapes read). */
function readString(css: string, i: number): { end: number; value: string } {
  const q = css[i];
  let j = i + 1;
  while (j < css.length && css[j] !== q && css[j] !== '\n') j += css[j] === '\\' ? 2 : 1;
  // A string the text ends in is whole (CSS Syntax 3, 4.3.5): a style element's first text node may end there.
  const closed = j < css.length;
  const end = Math.min(j + 1, css.length);
  return { end, value: unescapeCss(css.slice(i + 1, closed ? j : css.length)) };
}

function isIdentBefore(css: string, i: number): boolean {
  const c = css[i - 1];
  return c !== undefined && /[\w-]/.test(c);
}

/** One URL of a CSS text to replace: `css.slice(from, to)` becomes `text`. */
export interface CssEdit {
  from: number;
  to: number;
  text: string;
}

/** Maps the URLs of url(...), @import strings and image-set() strings in `css`. */
export function mapCssUrls(css: string, map: MapUrl): string {
  const edits = cssUrlEdits(css, map);
  if (edits.length === 0) return css;
  let out = '';
  let copied = 0;
  for (const edit of edits) {
    out += css.slice(copied, edit.from) + edit.text;
    copied = edit.to;
  }
  return out + css.slice(copied);
}

/** The URLs of `css` that `map` changes, in order, as edits of the text. */
export function cssUrlEdits(css: string, map: MapUrl): CssEdit[] {
  const edits: CssEdit[] = [];
  if (!/url\(|@import|image-set\(/i.test(css)) return edits;
  let imageSet = -1;
  let depth = 0;
  let importing = false;
  const replace = (from: number, to: number, url: string, quote: string) => {
    const mapped = map(url);
    if (mapped !== url) edits.push({ from, to, text: written(mapped, quote) });
  };
  for (let i = 0; i < css.length; ) {
    const c = css[i];
    if (c === '/' && css[i + 1] === '*') {
      const end = css.indexOf('*/', i + 2);
      i = end === -1 ? css.length : end + 2;
    } else if (c === '"' || c === "'") {
      const { end, value } = readString(css, i);
      if (importing || (imageSet !== -1 && depth === imageSet)) replace(i, end, value, c);
      importing = false;
      i = end;
    } else if (c === '\\') {
      i += 2;
    } else if ((c === 'u' || c === 'U') && css.slice(i, i + 4).toLowerCase() === 'url(' && !isIdentBefore(css, i)) {
      let j = i + 4;
      while (j < css.length && WS.test(css[j] ?? '')) j++;
      if (css[j] === '"' || css[j] === "'") {
        const { end, value } = readString(css, j);
        let k = end;
        while (k < css.length && WS.test(css[k] ?? '')) k++;
        // The text may end before the `)`: the function is closed there (CSS Syntax 3, 5.4.9).
        if (css[k] === ')' || k === css.length) replace(j, end, value, css[j] ?? '"');
        i = k + 1;
      } else {
        let k = j;
        while (k < css.length && css[k] !== ')') k += css[k] === '\\' ? 2 : 1;
        let e = k;
        while (e > j && WS.test(css[e - 1] ?? '')) e--;
        replace(j, e, unescapeCss(css.slice(j, e)), '');
        i = k + 1;
      }
      importing = false;
    } else if (c === '@' && css.slice(i, i + 7).toLowerCase() === '@import') {
      importing = true;
      i += 7;
    } else if (c === '(') {
      depth++;
      if (/(?:^|[^\w-])(?:-webkit-)?image-set$/i.test(css.slice(Math.max(0, i - 20), i))) imageSet = depth;
      i++;
    } else if (c === ')') {
      if (depth === imageSet) imageSet = -1;
      depth = Math.max(0, depth - 1);
      i++;
    } else {
      if (importing && !WS.test(c ?? '')) importing = false;
      i++;
    }
  }
  return edits;
}

/** `transform(value)`, or `value` when the mapping fails: the page's own call is never the one that throws. */
export function mapSafely(value: string, transform: (value: string) => string): string {
  try {
    return transform(value);
  } catch (err) {
    report(err);
    return value;
  }
}

/** The objects whose `style` is a declaration script may write URLs into. */
const STYLE_OWNERS = [
  'HTMLElement',
  'SVGElement',
  'MathMLElement',
  'CSSStyleRule',
  'CSSPageRule',
  'CSSFontFaceRule',
  'CSSKeyframeRule',
  'CSSNestedDeclarations',
];

/** True for a value that may hold a URL (the cheap test before the tokenizer). */
function mayHoldUrl(value: unknown): value is string {
  return typeof value === 'string' && /url\(|image-set\(/i.test(value);
}

/** Installs the mapping on every API through which script writes CSS. */
export function installCssMapping(map: MapUrl): void {
  const mapCss = (css: string) => mapSafely(css, (text) => mapCssUrls(text, map));
  const decl = CSSStyleDeclaration.prototype;
  const setProperty = decl.setProperty;
  decl.setProperty = function (this: CSSStyleDeclaration, name: string, value: string | null, priority?: string) {
    return setProperty.call(this, name, mayHoldUrl(value) ? mapCss(value) : value, priority);
  };
  const cssText = Object.getOwnPropertyDescriptor(decl, 'cssText');
  if (cssText?.set && cssText.get) {
    const set = cssText.set;
    Object.defineProperty(decl, 'cssText', {
      configurable: true,
      enumerable: true,
      get: cssText.get,
      set(this: CSSStyleDeclaration, value: unknown) {
        set.call(this, mayHoldUrl(value) ? mapCss(value) : value);
      },
    });
  }
  // element.style.backgroundImage = 'url(...)' and rule.style.backgroundImage = ...: Chromium's
  // named CSS properties are not accessors that could be wrapped, so each declaration is handed
  // out behind a proxy that maps them.
  const proxies = new WeakMap<CSSStyleDeclaration, CSSStyleDeclaration>();
  const proxyOf = (style: CSSStyleDeclaration): CSSStyleDeclaration => {
    let proxy = proxies.get(style);
    if (!proxy) {
      proxy = new Proxy(style, {
        get(target, prop) {
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
        set(target, prop, value) {
          return Reflect.set(target, prop, mayHoldUrl(value) ? mapCss(value) : value);
        },
      });
      proxies.set(style, proxy);
    }
    return proxy;
  };
  const w = window as unknown as Record<string, { prototype: object } | undefined>;
  for (const name of STYLE_OWNERS) {
    const proto = w[name]?.prototype;
    const desc = proto && Object.getOwnPropertyDescriptor(proto, 'style');
    if (!proto || !desc?.get) continue;
    const get = desc.get;
    const setStyle = desc.set;
    Object.defineProperty(proto, 'style', {
      configurable: true,
      enumerable: desc.enumerable ?? true,
      // `x.style = text` sets its cssText.
      set(this: unknown, value: unknown) {
        setStyle?.call(this, mayHoldUrl(value) ? mapCss(value) : value);
      },
      get(this: unknown) {
        const style = get.call(this) as unknown;
        return style instanceof CSSStyleDeclaration ? proxyOf(style) : style;
      },
    });
  }
  // Typed OM: string values are parsed as CSS.
  const StylePropertyMapCtor = (window as unknown as { StylePropertyMap?: { prototype: Record<'set' | 'append', (...a: unknown[]) => void> } })
    .StylePropertyMap;
  for (const method of ['set', 'append'] as const) {
    const proto = StylePropertyMapCtor?.prototype;
    const original = proto?.[method];
    if (!proto || typeof original !== 'function') continue;
    proto[method] = function (this: unknown, prop: unknown, ...values: unknown[]) {
      return original.call(this, prop, ...values.map((v) => (mayHoldUrl(v) ? mapCss(v) : v)));
    };
  }
  for (const proto of [CSSStyleSheet.prototype, CSSGroupingRule.prototype]) {
    const insertRule = proto.insertRule as (rule: string, index?: number) => number;
    proto.insertRule = function (this: CSSStyleSheet, rule: string, index?: number) {
      return insertRule.call(this, mapCss(String(rule)), index);
    };
  }
  const sheet = CSSStyleSheet.prototype;
  const addRule = sheet.addRule;
  sheet.addRule = function (this: CSSStyleSheet, selector?: string, style?: string, index?: number) {
    return addRule.call(this, selector, typeof style === 'string' ? mapCss(style) : style, index);
  };
  const appendRule = CSSKeyframesRule.prototype.appendRule;
  CSSKeyframesRule.prototype.appendRule = function (this: CSSKeyframesRule, rule: string) {
    return appendRule.call(this, mapCss(String(rule)));
  };
  const replace = sheet.replace;
  const replaceSync = sheet.replaceSync;
  sheet.replace = function (this: CSSStyleSheet, text: string) {
    return replace.call(this, mapCss(String(text)));
  };
  sheet.replaceSync = function (this: CSSStyleSheet, text: string) {
    return replaceSync.call(this, mapCss(String(text)));
  };
  installCssObjects(mapCss, mayHoldUrl);
}
