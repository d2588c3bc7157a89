// Navigations the site starts in ways no setter sees (`location.href = ...`, `location.assign` and
// `replace`, `window.location = ...`, links whose href was set through an API the runtime does not
// wrap) are caught with the Navigation API: a `navigate` event to a URL that is not on the gateway
// is cancelled and started again at the mapped URL (the proxied host, or the "not allowed" page);
// one to another host of the session first hands that host the participant's cookie. Links and
// forms aimed at another window are mapped when they are used, since that window's navigation is
// not this window's to see.

import type { UrlRuntime } from './url-runtime.js';

/** The parts of the Navigation API used here (not in TypeScript's DOM library yet). */
interface NavigateEventLike extends Event {
  readonly navigationType: 'push' | 'replace' | 'reload' | 'traverse';
  readonly destination: { readonly url: string };
  readonly formData: FormData | null;
  readonly downloadRequest: string | null;
  readonly sourceElement?: Element | null;
}

const guarded = new WeakSet<Window>();

/** Posts `data` to `action` in `win` as the form that was stopped would have. */
function resubmit(win: Window, action: string, data: FormData, source: HTMLFormElement | null): void {
  const doc = win.document;
  const form = doc.createElement('form');
  form.method = 'post';
  form.enctype = source?.enctype ?? 'application/x-www-form-urlencoded';
  form.setAttribute('action', action);
  form.setAttribute('data-cobrowse', '');
  form.hidden = true;
  for (const [name, value] of data) {
    const input = doc.createElement('input');
    input.name = name;
    if (typeof value === 'string') {
      input.type = 'hidden';
      input.value = value;
    } else {
      input.type = 'file';
      const files = new DataTransfer();
      files.items.add(value);
      input.files = files.files;
    }
    form.append(input);
  }
  doc.documentElement.append(form);
  HTMLFormElement.prototype.submit.call(form);
  form.remove();
}

/** Watches the navigations of `win` (this window, or a same-origin frame or popup of it); once per window. */
export function guardNavigations(win: Window, runtime: UrlRuntime): void {
  let navigation: EventTarget | undefined;
  try {
    if (guarded.has(win)) return;
    navigation = (win as unknown as { navigation?: EventTarget }).navigation;
  } catch {
    return;
  }
  if (!navigation) return;
  guarded.add(win);
  navigation.addEventListener('navigate', (event) => {
    try {
      const ev = event as NavigateEventLike;
      const destination = new URL(ev.destination.url);
      if (destination.protocol === 'data:' || destination.protocol === 'blob:') {
        // An HTML data: or blob: document gets the runtime (browsers refuse top-level data: documents).
        const mapped = runtime.mapFrame(destination.href);
        if (mapped === destination.href || !ev.cancelable || ev.navigationType === 'traverse') return;
        ev.preventDefault();
        queueMicrotask(() => (ev.navigationType === 'replace' ? win.location.replace(mapped) : win.location.assign(mapped)));
        return;
      }
      if (runtime.isOnGateway(destination)) {
        if (runtime.isOtherSessionHost(destination.href)) runtime.entry.enterNow(destination.href);
        return;
      }
      if (!ev.cancelable || ev.navigationType === 'traverse') return;
      ev.preventDefault();
      const mapped = runtime.map(destination.href);
      runtime.entry.enterNow(mapped);
      const source = ev.sourceElement instanceof HTMLFormElement ? ev.sourceElement : null;
      queueMicrotask(() => {
        if (ev.formData) resubmit(win, mapped, ev.formData, source);
        else if (ev.downloadRequest !== null) {
          const a = win.document.createElement('a');
          a.href = mapped;
          a.download = ev.downloadRequest;
          a.click();
        } else if (ev.navigationType === 'replace') win.location.replace(mapped);
        else win.location.assign(mapped);
      });
    } catch {
      // Never into the site's page: the navigation goes on as the browser started it.
    }
  });
}

function targetsOtherWindow(el: HTMLAnchorElement | HTMLAreaElement | HTMLFormElement): boolean {
  const target = (el.getAttribute('target') ?? el.ownerDocument.querySelector('base[target]')?.getAttribute('target') ?? '').toLowerCase();
  return target !== '' && target !== '_self';
}

/** Maps links and forms aimed at other windows at the moment they are used; their hrefs are restored after. */
export function guardTargetedLinks(runtime: UrlRuntime): void {
  const use = (el: HTMLAnchorElement | HTMLAreaElement) => {
    if (!el.hasAttribute('href') || !targetsOtherWindow(el)) return;
    const url = new URL(el.href, location.href);
    if (runtime.isOnGateway(url)) {
      if (runtime.isOtherSessionHost(url.href)) runtime.entry.enterNow(url.href);
      return;
    }
    const written = el.getAttribute('href') ?? '';
    const mapped = runtime.map(url.href);
    runtime.entry.enterNow(mapped);
    Element.prototype.setAttribute.call(el, 'href', mapped);
    setTimeout(() => {
      if (el.getAttribute('href') === mapped) Element.prototype.setAttribute.call(el, 'href', written);
    }, 0);
  };
  const onActivate = (ev: Event) => {
    try {
      const el = (ev.target as Element | null)?.closest?.('a[href], area[href]');
      if (el instanceof HTMLAnchorElement || el instanceof HTMLAreaElement) use(el);
    } catch {
      // Never into the site's page.
    }
  };
  addEventListener('click', onActivate, true);
  addEventListener('auxclick', onActivate, true);
  const enterForAction = (form: HTMLFormElement) => {
    try {
      if (runtime.isOtherSessionHost(form.action)) runtime.entry.enterNow(form.action);
    } catch {
      // Never into the site's page.
    }
  };
  addEventListener('submit', (ev) => ev.target instanceof HTMLFormElement && enterForAction(ev.target), true);
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function (this: HTMLFormElement) {
    enterForAction(this);
    return submit.call(this);
  };
}
