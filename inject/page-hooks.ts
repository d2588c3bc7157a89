// Changes no MutationObserver reports, caught by wrapping the page's own APIs: CSSOM edits,
// adopted style sheets, shadow roots attached later, and history navigation. Each wrapper calls
// the original first and never throws into the page.

/** What the hooks report. */
export interface PageHookEvents {
  sheetChanged(sheet: CSSStyleSheet): void;
  adoptedChanged(root: Document | ShadowRoot): void;
  shadowAttached(host: Element, root: ShadowRoot): void;
  locationMaybeChanged(): void;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    console.debug('[cobrowse]', err);
  }
}

function wrapMethod<T extends object>(proto: T, name: string, after: (self: never, result: unknown, args: unknown[]) => void): void {
  const original = (proto as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, name, {
    configurable: true,
    writable: true,
    value: function (this: never, ...args: unknown[]) {
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      safely(() => after(this, result, args));
      return result;
    },
  });
}

function wrapSetter(proto: object, name: string, after: (self: never) => void): void {
  const desc = Object.getOwnPropertyDescriptor(proto, name);
  if (!desc?.set || !desc.get) return;
  const { get, set } = desc;
  Object.defineProperty(proto, name, {
    configurable: true,
    enumerable: desc.enumerable ?? false,
    get,
    set(this: never, value: unknown) {
      set.call(this, value);
      safely(() => after(this));
    },
  });
}

/** Installs the hooks in this window. */
export function installPageHooks(events: PageHookEvents): void {
  const sheetProto = CSSStyleSheet.prototype;
  for (const name of ['insertRule', 'deleteRule', 'addRule', 'removeRule', 'replaceSync']) {
    wrapMethod(sheetProto, name, (sheet: CSSStyleSheet) => events.sheetChanged(sheet));
  }
  wrapMethod(sheetProto, 'replace', (sheet: CSSStyleSheet, result) => {
    void Promise.resolve(result).then(() => safely(() => events.sheetChanged(sheet)));
  });
  wrapSetter(Document.prototype, 'adoptedStyleSheets', (doc: Document) => events.adoptedChanged(doc));
  wrapSetter(ShadowRoot.prototype, 'adoptedStyleSheets', (root: ShadowRoot) => events.adoptedChanged(root));
  wrapMethod(Element.prototype, 'attachShadow', (host: Element, root) => {
    if (root instanceof ShadowRoot && root.mode === 'open') events.shadowAttached(host, root);
  });
  for (const name of ['pushState', 'replaceState']) wrapMethod(History.prototype, name, () => events.locationMaybeChanged());
  addEventListener('popstate', () => events.locationMaybeChanged());
  addEventListener('hashchange', () => events.locationMaybeChanged());
}
