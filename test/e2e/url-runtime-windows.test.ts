// Other windows and the URL runtime: what a cross-origin frame does to the top window (its
// scripts' `top.location` and `top.postMessage` go through the runtime's hook, see
// gateway/rewrite/js-top.ts), what it does to its parent, and the wrappers the runtime hands out
// for other windows.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { html, useRuntimeSuite } from '../helpers/runtime-suite.js';

const suite = useRuntimeSuite();

/** Runs `act`, then checks that the top window landed on site-a's /landed through the gateway and that nothing left it. */
async function expectTopLanded(page: Page, escaped: () => string[], act: () => Promise<unknown> | undefined): Promise<void> {
  await Promise.all([page.waitForURL(/\/landed$/), act()]);
  expect(await page.textContent('#landed')).toBe('landed');
  expect(new URL(page.url()).hostname.endsWith('cobrowse.localhost')).toBe(true);
  expect(escaped()).toEqual([]);
}

describe('a cross-origin frame and the top window', () => {
  /** The top page on site-a with a frame on site-b whose script is given below (`external`: in /frame.js). */
  async function topWithFrame(frameScript: string, external = false, frameBody = '') {
    suite.sites.pages.set(
      'a/with-frame',
      html(
        'with-frame',
        `<p id="got"></p><iframe id="f" src="${suite.sites.b}/framed"></iframe><script>addEventListener('message', function (e) { document.getElementById('got').textContent += e.data + ' from ' + e.origin + ';'; });</script>`,
      ),
    );
    if (external) suite.sites.pages.set('b/frame.js', frameScript);
    suite.sites.pages.set(
      'b/framed',
      html('framed', `<p>framed</p>${frameBody}${external ? '<script src="/frame.js"></script>' : `<script>${frameScript}</script>`}`),
    );
    suite.sites.pages.set('a/landed', html('landed', '<p id="landed">landed</p>'));
    const host = await suite.openHost('/with-frame');
    const frame = await (await host.page.$('#f'))?.contentFrame();
    await expect.poll(() => frame?.evaluate(() => document.readyState)).toBe('complete');
    return { ...host, frame };
  }

  // Chromium fires no navigate event in the top window for a navigation a cross-origin document
  // starts (HTML: only for an initiator that is same origin-domain), and `top` cannot be replaced
  // ([LegacyUnforgeable]): the gateway wraps the reference in the frame's script in the hook.
  it('top.location = <real URL of an allowed origin> in a cross-origin frame stays on the gateway', async () => {
    const { context, page, frame, escaped } = await topWithFrame(`window.go = function () { top.location = ${JSON.stringify(`${suite.sites.a}/landed`)}; };`);
    await Promise.all([
      page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }),
      frame?.evaluate(() => (window as unknown as { go(): void }).go()),
    ]);
    try {
      expect(escaped()).toEqual([]);
      expect(new URL(page.url()).hostname.endsWith('cobrowse.localhost')).toBe(true);
    } finally {
      await context.close();
    }
  });

  // The frame's `parent` is wrapped (it is [Replaceable]); `top` is not, and a cross-origin
  // WindowProxy's postMessage is not the frame's Window.prototype.postMessage (patching that sees
  // no call): without the hook Chromium drops the message, whose target origin is the real one.
  it('top.postMessage(msg, <real origin of the top page>) from a cross-origin frame arrives', async () => {
    const { context, page, frame } = await topWithFrame(`window.post = function () { top.postMessage('via-top', ${JSON.stringify(suite.sites.a)}); };`);
    try {
      await frame?.evaluate(() => (window as unknown as { post(): void }).post());
      await expect.poll(() => page.textContent('#got'), { timeout: 2000 }).toBe(`via-top from ${suite.sites.b};`);
    } finally {
      await context.close();
    }
  });

  it('window.top.location.replace(<real URL>) in an external script of the frame stays on the gateway', async () => {
    const { context, page, frame, escaped } = await topWithFrame(
      `window.go = function () { window.top.location.replace(${JSON.stringify(`${suite.sites.a}/landed`)}); };`,
      true,
    );
    try {
      await expectTopLanded(page, escaped, () => frame?.evaluate(() => (window as unknown as { go(): void }).go()));
    } finally {
      await context.close();
    }
  });

  it.each([
    ['an event handler', (url: string) => `<button id="go" onclick="top.location.href = '${url}'">go</button>`],
    ['a javascript: URL', (url: string) => `<a id="go" href="javascript:top.location%3D'${url}'">go</a>`],
  ])('top.location = <real URL> in %s of the frame, clicked, stays on the gateway', async (_what, body) => {
    const { context, page, frame, escaped } = await topWithFrame('', false, body(`${suite.sites.a}/landed`));
    try {
      await expectTopLanded(page, escaped, () => frame?.click('#go'));
    } finally {
      await context.close();
    }
  });

  // Code the frame's script makes at run time (not seen by the gateway): the frame's runtime wraps it.
  it.each([
    [
      'markup (insertAdjacentHTML) with an event handler',
      "document.body.insertAdjacentHTML('beforeend', '<button id=\"go\" onclick=\"top.location.href = \\'' + u + '\\'\">go</button>')",
    ],
    [
      'setAttribute of an event handler',
      "var b = document.createElement('button'); b.id = 'go'; b.textContent = 'go'; b.setAttribute('onclick', 'top.location = \"' + u + '\"'); document.body.append(b)",
    ],
    [
      'a javascript: URL set as a property',
      "var a = document.createElement('a'); a.id = 'go'; a.textContent = 'go'; a.href = 'javascript:top.location.replace(\"' + u + '\")'; document.body.append(a)",
    ],
    [
      'a string timer',
      "var b = document.createElement('button'); b.id = 'go'; b.textContent = 'go'; b.onclick = function () { setTimeout('top.location = \"' + u + '\"', 0); }; document.body.append(b)",
    ],
    [
      'a function made with new Function',
      "var f = new Function('u', 'top.location = u'); var b = document.createElement('button'); b.id = 'go'; b.textContent = 'go'; b.onclick = function () { f(u); }; document.body.append(b)",
    ],
    [
      'an async function made through a function’s constructor',
      "var AsyncFunction = (async function () {}).constructor; var f = AsyncFunction('u', 'await null; top.location.href = u'); var b = document.createElement('button'); b.id = 'go'; b.textContent = 'go'; b.onclick = function () { f(u); }; document.body.append(b)",
    ],
    [
      'an inline script element it makes (text, appendChild)',
      "var s = document.createElement('script'); s.text = 'window.go2 = function () { top.location = \"' + u + '\"; };'; document.head.appendChild(s); var b = document.createElement('button'); b.id = 'go'; b.textContent = 'go'; b.onclick = function () { window.go2(); }; document.body.append(b)",
    ],
    [
      'a script in markup it inserts (createContextualFragment)',
      'document.body.append(document.createRange().createContextualFragment(\'<script>window.go2 = function () { top.location = "\' + u + \'"; };<\' + \'/script><button id="go" onclick="window.go2()">go</button>\'))',
    ],
  ])('top.location = <real URL> in %s of the frame, clicked, stays on the gateway', async (_what, code) => {
    const { context, page, frame, escaped } = await topWithFrame('');
    try {
      await frame?.evaluate(([source, u]) => new Function('u', source as string)(u), [code, `${suite.sites.a}/landed`]);
      await expectTopLanded(page, escaped, () => frame?.click('#go'));
    } finally {
      await context.close();
    }
  });

  it('Function keeps its identities: constructor, instanceof, name, subclasses, and a body it cannot lex runs as written', async () => {
    const { context, frame } = await topWithFrame('');
    try {
      const facts = await frame?.evaluate(() => {
        const f = new Function('a', 'b', 'return a + b');
        class Adder extends Function {
          constructor() {
            super('x', 'return x + 1');
          }
        }
        const adder = new Adder() as unknown as (x: number) => number;
        const gen = Object.getPrototypeOf(function* () {}).constructor;
        return {
          sum: f(2, 3),
          plain: Function('return 7')(),
          sameConstructor: f.constructor === Function && (() => {}).constructor === Function && Function.prototype.constructor === Function,
          isFunction: f instanceof Function,
          name: Function.name,
          subclass: adder instanceof Adder && adder(1) === 2,
          generator: [...gen('yield 1; yield 2')()].join(','),
          // As natively: the async constructor inherits from Function, a body that is not a string is converted by the engine.
          asyncInherits: Object.getPrototypeOf((async () => {}).constructor) === Function,
          objectBody: new Function({ toString: () => 'return 5' } as unknown as string)(),
          // Not lexable (an unterminated template): passed on as written, so the engine reports the error.
          unlexable: (() => {
            try {
              new Function('return `x');
              return 'compiled';
            } catch (e) {
              return (e as Error).name;
            }
          })(),
        };
      });
      expect(facts).toEqual({
        sum: 5,
        plain: 7,
        sameConstructor: true,
        isFunction: true,
        name: 'Function',
        subclass: true,
        generator: '1,2',
        asyncInherits: true,
        objectBody: 5,
        unlexable: 'SyntaxError',
      });
    } finally {
      await context.close();
    }
  });

  it('a local variable named top keeps its value, reading the top window’s location still throws, and the top window’s own `top` is itself', async () => {
    const { context, page, frame } = await topWithFrame(
      "window.local = function () { var top = { location: { href: 'local' } }; return top.location.href; }; window.read = function () { try { return top.location.href; } catch (e) { return e.name; } };",
    );
    try {
      expect(await frame?.evaluate(() => (window as unknown as { local(): string }).local())).toBe('local');
      expect(await frame?.evaluate(() => (window as unknown as { read(): string }).read())).toBe('SecurityError');
      expect(await page.evaluate(() => (globalThis as unknown as { __cobrowseTop(v: unknown): unknown }).__cobrowseTop(top) === window)).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('parent.postMessage(msg, <real origin>) and parent.location = <real URL> from a cross-origin frame work through the gateway', async () => {
    const { context, page, frame, escaped } = await topWithFrame(
      `window.post = function () { parent.postMessage('via-parent', ${JSON.stringify(suite.sites.a)}); }; window.go = function () { parent.location = ${JSON.stringify(`${suite.sites.a}/landed`)}; };`,
    );
    await frame?.evaluate(() => (window as unknown as { post(): void }).post());
    await expect.poll(() => page.textContent('#got')).toBe(`via-parent from ${suite.sites.b};`);
    await Promise.all([page.waitForURL(/\/landed$/), frame?.evaluate(() => (window as unknown as { go(): void }).go())]);
    expect(await page.textContent('#landed')).toBe('landed');
    expect(new URL(page.url()).hostname.endsWith('cobrowse.localhost')).toBe(true);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('a frame and its sibling, the top window and its frames', () => {
  // A frame of the top's origin may navigate a cross-origin sibling (HTML: it is familiar with
  // it); the sibling's runtime hears of no navigation another origin starts.
  it('parent.frames[1].location = <real URL> from a frame navigates its cross-origin sibling through the gateway, and frames[1].postMessage(msg, <real origin>) from the top arrives', async () => {
    suite.sites.pages.set('a/two-frames', html('two-frames', `<iframe id="f1" src="/first"></iframe><iframe id="f2" src="${suite.sites.b}/second"></iframe>`));
    suite.sites.pages.set(
      'a/first',
      html('first', `<script>window.go = function () { parent.frames[1].location = ${JSON.stringify(`${suite.sites.b}/landed`)}; };</script>`),
    );
    suite.sites.pages.set(
      'b/second',
      html(
        'second',
        `<p id="got"></p><script>addEventListener('message', function (e) { document.getElementById('got').textContent += e.data + ' from ' + e.origin + ';'; });</script>`,
      ),
    );
    suite.sites.pages.set('b/landed', html('landed', '<p id="landed">landed</p>'));
    const { context, page, escaped } = await suite.openHost('/two-frames');
    try {
      const first = await (await page.$('#f1'))?.contentFrame();
      const second = await (await page.$('#f2'))?.contentFrame();
      await expect.poll(() => second?.evaluate(() => document.readyState)).toBe('complete');
      await expect.poll(() => first?.evaluate(() => document.readyState)).toBe('complete');
      await page.evaluate((b) => {
        window.frames[1]?.postMessage('to-second', b);
      }, suite.sites.b);
      await expect.poll(() => second?.textContent('#got')).toBe(`to-second from ${suite.sites.a};`);
      await Promise.all([second?.waitForURL(/\/landed$/), first?.evaluate(() => (window as unknown as { go(): void }).go())]);
      expect(await second?.textContent('#landed')).toBe('landed');
      expect(new URL(second?.url() ?? '').hostname.endsWith('cobrowse.localhost')).toBe(true);
      expect(escaped()).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('the text of elements that hold text', () => {
  // innerHTML of a script (or style, textarea, title...) is its text: the markup mapping parsed it
  // as markup and back (`&&` came back `&amp;&amp;`, `if (a<b)` was cut at the `<`).
  it('script.innerHTML with `//`, `&&`, `<` and `=>` runs as written; textarea.innerHTML reads back the same', async () => {
    suite.sites.pages.set('a/texts', html('texts', '<p id="got"></p><textarea id="t"></textarea>'));
    const { context, page } = await suite.openHost('/texts');
    try {
      const result = await page.evaluate(() => {
        const s = document.createElement('script');
        s.innerHTML = "var a = 1, b = 2; window.v = [a < b && b > a, 'https://x/y', [1].map((n) => n + 1)[0]].join('|');";
        document.head.appendChild(s);
        const t = document.getElementById('t') as HTMLTextAreaElement;
        t.innerHTML = 'see //x.test/ a &amp; b <b>';
        return [(window as unknown as { v: string }).v, t.value];
      });
      expect(result).toEqual(['true|https://x/y|2', 'see //x.test/ a & b <b>']);
    } finally {
      await context.close();
    }
  });
});

describe("a worker's imported script", () => {
  // importScripts fetches with Sec-Fetch-Dest: script, as a page's script: the gateway wraps its
  // references too, and the worker's prelude answers the hook with the value itself.
  it('self.top?.postMessage in a script a worker imports stays undefined (no ReferenceError)', async () => {
    suite.sites.pages.set(
      'a/worker-page',
      html(
        'worker-page',
        `<p id="got"></p><script>var w = new Worker('/w.js'); w.onmessage = function (e) { document.getElementById('got').textContent = String(e.data); }; w.onerror = function (e) { document.getElementById('got').textContent = 'error: ' + e.message; };</script>`,
      ),
    );
    suite.sites.pages.set('a/w.js', "importScripts('/imp.js'); postMessage(self.answer);");
    suite.sites.pages.set('a/imp.js', 'self.answer = typeof self.top?.postMessage;');
    const { context, page, escaped } = await suite.openHost('/worker-page');
    try {
      await expect.poll(() => page.textContent('#got')).toBe('undefined');
      expect(escaped()).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('URL runtime: the windows it hands out', () => {
  it('window.open returns the window event.source names: event.source === popup holds, and popup.postMessage(msg, <real origin>) arrives', async () => {
    suite.sites.pages.set('a/opener', html('opener', '<p id="got"></p>'));
    suite.sites.pages.set(
      'a/popup',
      html(
        'popup',
        `<script>addEventListener('message', function (e) { e.source.postMessage('pong:' + e.data, ${JSON.stringify(suite.sites.a)}); }); opener.postMessage('ready', ${JSON.stringify(suite.sites.a)});</script>`,
      ),
    );
    const { context, page, escaped } = await suite.openHost('/opener');
    const result = await page.evaluate(
      (a) =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          let popup: Window | null = null;
          addEventListener('message', (e) => {
            seen.push(`${e.data} same=${e.source === popup}`);
            if (e.data === 'ready') popup?.postMessage('ping', a);
            else resolve(seen);
          });
          popup = window.open('/popup', 'p');
          setTimeout(() => resolve([...seen, 'no answer']), 5000);
        }),
      suite.sites.a,
    );
    expect(result).toEqual(['ready same=true', 'pong:ping same=true']);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});
