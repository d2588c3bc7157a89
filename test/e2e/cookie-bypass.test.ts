// The browser's own cookie accessors are out of the site's reach: Document.prototype's cookie
// accessor, cookieStore (and CookieStore.prototype), and the same in a fresh same-origin window
// (about:blank and srcdoc frames, a blank popup). A real cookie set on the gateway's parent domain
// would reach every session's hosts in this browser (a planted __cobrowse cookie, or a cookie bomb
// that makes every request fail with 431); what the site sets goes to the session's jar instead.

import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useGatewayAndBrowser } from '../helpers/suite.js';

const env = useGatewayAndBrowser();

/** The cookies the browser itself holds, other than the gateway's own (HttpOnly, named by the gateway). */
async function realSiteCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies())
    .filter((c) => !(c.httpOnly && (c.name === '__cobrowse' || c.name.startsWith('cobrowse_'))))
    .map((c) => `${c.name} (${c.domain})`)
    .sort();
}

async function hostPage(): Promise<{ context: BrowserContext; page: Page; session: Awaited<ReturnType<typeof createSession>> }> {
  const session = await createSession(env.t, `${env.t.demoOrigin}/`);
  const host = await newParticipant(env.browser);
  await host.page.goto(session.hostUrl);
  await host.page.waitForFunction('window.__cobrowse !== undefined');
  return { context: host.context, page: host.page, session };
}

function cookieNames(header: string): string[] {
  return header
    .split(';')
    .map((c) => c.trim().split('=')[0] ?? '')
    .filter(Boolean)
    .sort();
}

describe("the browser's cookie store is out of the site's reach", () => {
  it('Document.prototype and cookieStore write to the jar, and the browser keeps only the gateway cookie', async () => {
    const { context, page, session } = await hostPage();
    const parent = new URL(session.hostUrl).hostname;
    expect(parent).toBe('cobrowse.localhost');

    const seen = await page.evaluate(async (parentDomain) => {
      const outcome = async (run: () => unknown) => {
        try {
          await run();
          return 'ok';
        } catch (err) {
          return `${(err as Error).name}`;
        }
      };
      document.cookie = 'theme=dark; path=/';
      const setter = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')?.set;
      const getter = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')?.get;
      setter?.call(document, `proto_parent=1; domain=${parentDomain}; path=/`);
      setter?.call(document, 'proto_host=1; path=/');
      // HTMLDocument.prototype: Chromium has no accessor of its own there; whatever the chain gives.
      const htmlSetter = (HTMLDocument.prototype as unknown as { __lookupSetter__(n: string): ((v: string) => void) | undefined }).__lookupSetter__('cookie');
      htmlSetter?.call(document, `html_parent=1; domain=${parentDomain}; path=/`);
      // An own property on the document (the old shim's place) is gone: deleting it changes nothing.
      delete (document as unknown as Record<string, unknown>).cookie;
      document.cookie = `plain_parent=1; domain=${parentDomain}; path=/`;
      const store = (globalThis as unknown as { cookieStore: { set(...a: unknown[]): Promise<void>; get(n: string): Promise<{ value: string } | null> } })
        .cookieStore;
      const storeProto = (globalThis as unknown as { CookieStore: { prototype: { set(...a: unknown[]): Promise<void> } } }).CookieStore.prototype;
      const storeParent = await outcome(() => store.set({ name: 'store_parent', value: '1', domain: parentDomain }));
      const protoParent = await outcome(() => storeProto.set.call(store, { name: 'storeproto_parent', value: '1', domain: parentDomain }));
      const storeHost = await outcome(() => store.set('store_host', '1'));
      return {
        refused: [storeParent, protoParent, storeHost],
        // The jar's cookies (the page's own document.cookie put it there) are cookieStore's.
        viaStore: (await store.get('theme'))?.value ?? null,
        instance: document.cookie,
        prototype: getter?.call(document) as string,
        upstream: ((await (await fetch('/api/echo')).json()) as { cookie: string }).cookie,
      };
    }, parent);

    // Nothing reached the browser's store: no site cookie on the proxied host, none on the parent domain.
    expect(await realSiteCookies(context)).toEqual([]);
    // A cookieStore cookie for a domain that is not the real site's is refused, not dropped in silence.
    expect(seen.refused).toEqual(['TypeError', 'TypeError', 'ok']);
    // The prototype's setter and cookieStore wrote to the jar: the page, the prototype's getter, cookieStore and the site see it.
    expect(cookieNames(seen.instance)).toEqual(['proto_host', 'store_host', 'theme']);
    expect(cookieNames(seen.prototype)).toEqual(['proto_host', 'store_host', 'theme']);
    expect(seen.viaStore).toBe('dark');
    expect(cookieNames(seen.upstream)).toEqual(['proto_host', 'store_host', 'theme']);

    // Another participant of the session, in another browser, gets the jar's cookies with its requests.
    const follower = await newParticipant(env.browser);
    await follower.page.goto(session.observeUrl);
    const echo = await follower.page.evaluate(async () => JSON.parse((await (await fetch('/api/echo.css')).text()).slice(3, -3)) as { cookie: string });
    expect(cookieNames(echo.cookie)).toEqual(['proto_host', 'store_host', 'theme']);
    await Promise.all([context.close(), follower.context.close()]);
  });

  it("a fresh same-origin window's accessors (about:blank and srcdoc frames, a blank popup) write to the jar too", async () => {
    const { context, page, session } = await hostPage();
    const parent = new URL(session.hostUrl).hostname;
    const seen = await page.evaluate(async (parentDomain) => {
      type Realm = Window &
        typeof globalThis & { cookieStore: { set(...a: unknown[]): Promise<void> }; CookieStore: { prototype: { set(...a: unknown[]): Promise<void> } } };
      const outcome = async (run: () => unknown) => {
        try {
          await run();
          return 'ok';
        } catch (err) {
          return `${(err as Error).name}`;
        }
      };
      const attempts = async (w: Realm, tag: string) => {
        const setter = w.Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie')?.set;
        setter?.call(w.document, `${tag}_parent=1; domain=${parentDomain}; path=/`);
        setter?.call(w.document, `${tag}_host=1; path=/`);
        // The other realm's setter on this page's document.
        setter?.call(document, `${tag}_cross=1; domain=${parentDomain}; path=/`);
        w.document.cookie = `${tag}_plain=1; domain=${parentDomain}; path=/`;
        return [
          await outcome(() => w.cookieStore.set({ name: `${tag}_store`, value: '1', domain: parentDomain })),
          await outcome(() => w.CookieStore.prototype.set.call(w.cookieStore, { name: `${tag}_storeproto`, value: '1', domain: parentDomain })),
          await outcome(() => w.cookieStore.set(`${tag}_storehost`, '1')),
          w.document.cookie,
        ];
      };
      document.cookie = 'theme=dark; path=/';
      const blank = document.createElement('iframe');
      document.body.append(blank);
      const frame = await attempts(blank.contentWindow as Realm, 'frame');

      // A srcdoc document's own script, with the frame's realm untouched by this page.
      const srcdoc = document.createElement('iframe');
      const done = new Promise<unknown>((resolve) => {
        addEventListener('message', function listen(ev) {
          if ((ev.data as { srcdoc?: unknown })?.srcdoc === undefined) return;
          removeEventListener('message', listen);
          resolve((ev.data as { srcdoc: unknown }).srcdoc);
        });
      });
      srcdoc.srcdoc = `<!doctype html><script>
        (async () => {
          const out = [];
          const setter = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie').set;
          setter.call(document, 'srcdoc_parent=1; domain=${parentDomain}; path=/');
          setter.call(document, 'srcdoc_host=1; path=/');
          try { await cookieStore.set({ name: 'srcdoc_store', value: '1', domain: '${parentDomain}' }); out.push('ok'); } catch (e) { out.push(e.name); }
          try { await cookieStore.set('srcdoc_storehost', '1'); out.push('ok'); } catch (e) { out.push(e.name); }
          out.push(document.cookie);
          parent.postMessage({ srcdoc: out }, '*');
        })();
      </script>`;
      document.body.append(srcdoc);
      const fromSrcdoc = await done;

      const popup = window.open('about:blank', '_blank') as Realm;
      const fromPopup = await attempts(popup, 'popup');
      popup.close();
      return { frame, fromSrcdoc, fromPopup, page: document.cookie };
    }, parent);

    expect(await realSiteCookies(context)).toEqual([]);
    expect(seen.frame.slice(0, 3)).toEqual(['TypeError', 'TypeError', 'ok']);
    expect((seen.fromSrcdoc as string[]).slice(0, 2)).toEqual(['TypeError', 'ok']);
    expect(seen.fromPopup.slice(0, 3)).toEqual(['TypeError', 'TypeError', 'ok']);
    // What each window set without a foreign domain is in the jar, and each window reads the jar's view.
    const jar = ['frame_host', 'frame_storehost', 'popup_host', 'popup_storehost', 'srcdoc_host', 'srcdoc_storehost', 'theme'];
    expect(cookieNames(seen.page)).toEqual(jar);
    expect(cookieNames(String((seen.fromSrcdoc as string[])[2]))).toEqual(['frame_host', 'frame_storehost', 'srcdoc_host', 'srcdoc_storehost', 'theme']);
    expect(cookieNames(String(seen.frame[3]))).toEqual(['frame_host', 'frame_storehost', 'theme']);
    expect(cookieNames(await page.evaluate(async () => ((await (await fetch('/api/echo')).json()) as { cookie: string }).cookie))).toEqual(jar);
    await context.close();
  });

  it('a frame reached as window[0] or by its name, right after the page inserted it (or the parser did), is guarded too', async () => {
    const { context, page, session } = await hostPage();
    const parent = new URL(session.hostUrl).hostname;
    const seen = await page.evaluate(async (parentDomain) => {
      type Realm = Window & typeof globalThis & { cookieStore: { set(...a: unknown[]): Promise<void> } };
      const outcome = async (run: () => unknown) => {
        try {
          await run();
          return 'ok';
        } catch (err) {
          return `${(err as Error).name}`;
        }
      };
      const results: string[] = [];
      const attempts = async (w: Realm, tag: string) => {
        const setter = w.Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie')?.set;
        setter?.call(w.document, `${tag}_parent=1; domain=${parentDomain}; path=/`);
        setter?.call(document, `${tag}_host=1; path=/`);
        results.push(await outcome(() => w.cookieStore.set({ name: `${tag}_store`, value: '1', domain: parentDomain })));
      };
      const indexed = document.createElement('iframe');
      document.body.appendChild(indexed);
      await attempts(window[window.length - 1] as Realm, 'indexed');
      const wrapper = document.createElement('div');
      wrapper.innerHTML = '<iframe name="named"></iframe>';
      document.body.append(wrapper);
      await attempts((window as unknown as Record<string, Realm>).named as Realm, 'named');
      document.body.insertAdjacentHTML('beforeend', '<iframe name="adjacent"></iframe>');
      await attempts((window as unknown as Record<string, Realm>).adjacent as Realm, 'adjacent');
      // A frame the parser made, reached by its name from the next script of the document (a srcdoc document here).
      const srcdoc = document.createElement('iframe');
      const done = new Promise<unknown>((resolve) => {
        addEventListener('message', function listen(ev) {
          if ((ev.data as { parsed?: unknown })?.parsed === undefined) return;
          removeEventListener('message', listen);
          resolve((ev.data as { parsed: unknown }).parsed);
        });
      });
      srcdoc.srcdoc = `<!doctype html><body><iframe name="inner"></iframe><script>
        (async () => {
          const w = window.inner;
          const setter = w.Object.getOwnPropertyDescriptor(w.Document.prototype, 'cookie').set;
          setter.call(w.document, 'parsed_parent=1; domain=${parentDomain}; path=/');
          setter.call(document, 'parsed_host=1; path=/');
          let store = 'ok';
          try { await w.cookieStore.set({ name: 'parsed_store', value: '1', domain: '${parentDomain}' }); } catch (e) { store = e.name; }
          parent.postMessage({ parsed: store }, '*');
        })();
      </script></body>`;
      document.body.append(srcdoc);
      results.push(String(await done));
      return { results, page: document.cookie };
    }, parent);
    expect(await realSiteCookies(context)).toEqual([]);
    expect(seen.results).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError']);
    expect(cookieNames(seen.page)).toEqual(['adjacent_host', 'indexed_host', 'named_host', 'parsed_host']);
    await context.close();
  });

  it("cookieStore reads the jar and fires 'change' for the page's writes", async () => {
    const { context, page } = await hostPage();
    const seen = await page.evaluate(async () => {
      const store = (
        globalThis as unknown as {
          cookieStore: EventTarget & {
            get(n: string): Promise<{ name: string; value: string } | null>;
            getAll(): Promise<{ name: string; value: string }[]>;
            delete(n: string): Promise<void>;
          };
        }
      ).cookieStore;
      const events: string[] = [];
      store.addEventListener('change', (ev) => {
        const e = ev as Event & { changed: { name: string; value: string }[]; deleted: { name: string }[] };
        for (const c of e.changed) events.push(`changed ${c.name}=${c.value}`);
        for (const c of e.deleted) events.push(`deleted ${c.name}`);
      });
      document.cookie = 'lang=fr; path=/';
      const got = await store.get('lang');
      const all = (await store.getAll()).map((c) => c.name);
      await store.delete('lang');
      await new Promise((r) => setTimeout(r, 100));
      return { got, all, events, after: document.cookie };
    });
    expect(seen.got).toMatchObject({ name: 'lang', value: 'fr' });
    expect(seen.all).toEqual(['lang']);
    expect(seen.events).toEqual(['changed lang=fr', 'deleted lang']);
    expect(seen.after).not.toContain('lang=');

    // A cookie the jar refuses (an HttpOnly one of that name: the demo's login) is a rejection, not a silent drop.
    await page.goto(`${new URL(page.url()).origin}/login`);
    await page.fill('#username', 'erin');
    await page.fill('#password', 'demo');
    await Promise.all([page.waitForURL(/\/account$/), page.click('#login-form [type="submit"]')]);
    const forged = await page.evaluate(async () => {
      try {
        await (globalThis as unknown as { cookieStore: { set(n: string, v: string): Promise<void> } }).cookieStore.set('demo_session', 'forged');
        return 'ok';
      } catch (err) {
        return (err as Error).name;
      }
    });
    expect(forged).toBe('UnknownError');
    await context.close();
  });
});
