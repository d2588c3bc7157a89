// CSS values the site's script hands to objects rather than to style sheets: Web Animations'
// keyframes (element.animate, new KeyframeEffect, setKeyframes: `backgroundImage: 'url(...)'`,
// loaded as the animation runs) and FontFace sources (`new FontFace(family, 'url(...)')`). Their
// url()s are mapped as those of other CSS the script writes (css-mapping.ts). The constructors are
// wrapped with a Proxy, so their prototype, length and the objects the browser makes itself (a
// CSS animation's effect, an @font-face rule's face) stay what they are (`instanceof` holds);
// arguments are rewritten only where given, so a call with too few still throws as the native one.

type MapCss = (css: string) => string;

/** Whether `value` is an ArrayBuffer or a view on one, of any realm (FontFace reads those as font data). */
function isBinary(value: unknown): boolean {
  return ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** `value` converted as the browser converts a DOMString argument (a symbol throws, as there). */
function domString(value: unknown): string {
  return `${value as string}`;
}

/** `native` behind a Proxy whose `new` rewrites its arguments with `mapArgs`; `constructor` on its prototype names the Proxy. */
function wrapConstructor<T extends abstract new (...args: never[]) => unknown>(native: T, mapArgs: (args: unknown[]) => unknown[]): T {
  const wrapped: T = new Proxy(native, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, mapArgs([...args]), newTarget === wrapped ? target : newTarget) as object;
    },
  });
  Object.defineProperty(native.prototype, 'constructor', { value: wrapped, writable: true, configurable: true, enumerable: false });
  return wrapped;
}

export function installCssObjects(mapCss: MapCss, mayHoldUrl: (value: unknown) => value is string): void {
  /** A property value of a keyframe: a string, a list of them (property-indexed), or anything else, kept. */
  const mapValue = (value: unknown): unknown => {
    if (mayHoldUrl(value)) return mapCss(value);
    if (value === null || typeof value !== 'object' || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') return value;
    // A list of values (any iterable): read once, handed on as an array.
    const list = Array.isArray(value) ? value : Array.from(value as Iterable<unknown>);
    const mapped = list.map((v) => (mayHoldUrl(v) ? mapCss(v) : v));
    return list === value && mapped.every((v, i) => v === list[i]) ? value : mapped;
  };
  /**
   * One keyframe (or a property-indexed set of them) with its values mapped; the same object when
   * nothing changes. A copy keeps the original's prototype (offset, easing and composite are read
   * through it) and the own values read once.
   */
  const mapFrame = (frame: unknown): unknown => {
    if (frame === null || typeof frame !== 'object') return frame;
    const entries = Object.entries(frame);
    let changed = false;
    const values = entries.map(([, value]) => {
      const mapped = mapValue(value);
      if (mapped !== value) changed = true;
      return mapped;
    });
    if (!changed) return frame;
    const out = Object.create(Object.getPrototypeOf(frame) as object | null) as Record<string, unknown>;
    entries.forEach(([key], i) => {
      out[key] = values[i];
    });
    return out;
  };
  /** Keyframes as animate() takes them: an iterable of keyframes, a property-indexed object, or null. */
  const mapKeyframes = (keyframes: unknown): unknown => {
    if (keyframes === null || typeof keyframes !== 'object') return keyframes;
    const iterator = (keyframes as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    return typeof iterator === 'function' ? Array.from(keyframes as Iterable<unknown>, mapFrame) : mapFrame(keyframes);
  };
  const mapArg = (args: unknown[], index: number, map: (value: unknown) => unknown): unknown[] => {
    if (args.length > index) args[index] = map(args[index]);
    return args;
  };

  const animate = Element.prototype.animate;
  Element.prototype.animate = function (this: Element, ...args: unknown[]) {
    return Reflect.apply(animate, this, mapArg(args, 0, mapKeyframes)) as Animation;
  } as typeof animate;
  const NativeKeyframeEffect = window.KeyframeEffect;
  if (typeof NativeKeyframeEffect === 'function') {
    const setKeyframes = NativeKeyframeEffect.prototype.setKeyframes;
    NativeKeyframeEffect.prototype.setKeyframes = function (this: KeyframeEffect, ...args: unknown[]) {
      return Reflect.apply(setKeyframes, this, mapArg(args, 0, mapKeyframes)) as undefined;
    } as typeof setKeyframes;
    // (target, keyframes, options), or (source): a copy of another effect, mapped already.
    window.KeyframeEffect = wrapConstructor(NativeKeyframeEffect, (args) => mapArg(args, 1, mapKeyframes));
  }
  installFontFace(window, mapCss);
}

/** Maps the sources of `new FontFace(family, source)` in `scope` (a window, or a worker: they have FontFace and self.fonts too). */
export function installFontFace(scope: { FontFace?: typeof FontFace }, mapCss: MapCss): void {
  const NativeFontFace = scope.FontFace;
  if (typeof NativeFontFace !== 'function') return;
  // A source that is no font data is an @font-face src value.
  scope.FontFace = wrapConstructor(NativeFontFace, (args) => {
    if (args.length > 1) args[1] = isBinary(args[1]) ? args[1] : mapCss(domString(args[1]));
    return args;
  });
}
