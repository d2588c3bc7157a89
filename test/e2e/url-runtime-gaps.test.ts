// The URL runtime's known gaps of the "Rewriting proxy" issue's closing note, each reproduced in
// Chromium: moveBefore, a URL split over the text nodes of one <style>, data: documents in frames,
// and what a cross-origin frame can do to the top window (navigate it, post messages to it).
// Every page runs in a profile whose requests outside the gateway go to a trap proxy, so that a
// request that escaped is seen there even when the page never learns of it.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTrapProxy } from '../helpers/differential.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** A 2x2 red PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');

/** site-a and site-b (allowed) and elsewhere (not allowed), by Host on one port; pages are set per test. */
interface Sites {
  a: string;
  b: string;
  elsewhere: string;
  /** `<site> <method> <path>` of every request that reached the sites (through the gateway, or escaped). */
  received: string[];
  /** HTML answers by `<site><path>`, e.g. `a/top`. */
  pages: Map<string, string>;
  close(): Promise<void>;
}

async function startSites(): Promise<Sites> {
  const received: string[] = [];
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0] ?? '';
    const site = host === 'site-a.localhost' ? 'a' : host === 'site-b.localhost' ? 'b' : 'x';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    received.push(`${site} ${req.method} ${req.url}`);
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'cache-control': 'no-store' };
    const page = pages.get(`${site}${path}`);
    if (page !== undefined) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...cors }).end(page);
    else if (path.endsWith('.png')) res.writeHead(200, { 'content-type': 'image/png', ...cors }).end(PNG);
    else if (path.endsWith('.css')) res.writeHead(200, { 'content-type': 'text/css', ...cors }).end(`.imported { color: rgb(1, 2, 3); }`);
    else res.writeHead(200, { 'content-type': 'application/json', ...cors }).end(JSON.stringify({ site, path }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    a: `http://site-a.localhost:${port}`,
    b: `http://site-b.localhost:${port}`,
    elsewhere: `http://elsewhere.localhost:${port}`,
    received,
    pages,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

let t: TestGateway;
let browser: Browser;
let sites: Sites;
let trap: Awaited<ReturnType<typeof startTrapProxy>>;

beforeAll(async () => {
  sites = await startSites();
  trap = await startTrapProxy();
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: sites.a }, { url: sites.b }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await trap?.close();
  await sites?.close();
});

beforeEach(() => {
  trap.hits.length = 0;
});

function html(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

/** A host page of a new session on `path` of site-a, in a profile whose requests outside the gateway go to the trap. */
async function openHost(
  path: string,
): Promise<{ context: BrowserContext; page: Page; session: Awaited<ReturnType<typeof createSession>>; escaped: () => string[] }> {
  const gatewayHost = new URL(t.gateway.url).hostname;
  const context = await browser.newContext({ proxy: { server: trap.server, bypass: `<-loopback>;*.${gatewayHost};${gatewayHost}` } });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  const session = await createSession(t, `${sites.a}${path}`);
  await page.goto(session.hostUrl);
  const onGateway = (url: string) => {
    if (!/^(http|ws)s?:/.test(url)) return true;
    const host = new URL(url).hostname;
    return host === gatewayHost || host.endsWith(`.${gatewayHost}`);
  };
  // What left the gateway: requests the browser reported and what the trap proxy received.
  const escaped = () => [...requests.filter((u) => !onGateway(u)), ...trap.hits];
  return { context, page, session, escaped };
}

/** The proxied origin of a site in a session (labels are given in the order the gateway met the origins). */
function proxied(session: { id: string }, label: string): string {
  return `http://${label}--${session.id}.cobrowse.localhost:${t.gateway.port}`;
}

describe('URL runtime: a URL split over the text nodes of one <style>', () => {
  it('maps the style element\'s whole text: "url(https://b" and "/x.png)" appended one after the other load b\'s /x.png', async () => {
    sites.pages.set(
      'a/split',
      html('split', '<p id="t1">one</p><p id="t2">two</p><p id="t3">three</p><p id="t4" class="imported">four</p><p id="t5">five</p>'),
    );
    const { context, page, session, escaped } = await openHost('/split');
    const backgrounds = await page.evaluate((B) => {
      const text = (s: string) => document.createTextNode(s);
      const add = () => document.head.appendChild(document.createElement('style'));
      // Split right after the origin, inside the host name, and inside the path.
      add().append(text('#t1{background-image:url('), text(B), text('/img.png?split=origin)}'));
      const inHost = add();
      inHost.appendChild(text(`#t2{background-image:url(${B.slice(0, 15)}`));
      inHost.appendChild(text(`${B.slice(15)}/img.png?split=host)}`));
      // Strings appended, and text added next to existing text.
      const strings = add();
      strings.append(`#t3{background-image:url("${B}/im`, 'g.png?split=path")}');
      const imported = add();
      imported.textContent = `@import url("${B.slice(0, 12)}`;
      imported.insertAdjacentText('beforeend', `${B.slice(12)}/imported.css");`);
      const inPlace = add();
      inPlace.append(text('#t5{background-image:url('), text('/img.png?split=in-place)}'));
      (inPlace.lastChild as Text).before(text(''));
      (inPlace.childNodes[1] as Text).data = B;
      const done = () => getComputedStyle(document.getElementById('t4') as Element).color === 'rgb(1, 2, 3)';
      const deadline = Date.now() + 5000;
      return new Promise<string[]>((resolve) => {
        const check = () =>
          done() || Date.now() > deadline
            ? resolve(
                ['t1', 't2', 't3', 't5']
                  .map((id) => getComputedStyle(document.getElementById(id) as Element).backgroundImage)
                  .concat(getComputedStyle(document.getElementById('t4') as Element).color),
              )
            : setTimeout(check, 20);
        check();
      });
    }, sites.b);
    const b = proxied(session, 'o2');
    expect(backgrounds).toEqual([
      `url("${b}/img.png?split=origin")`,
      `url("${b}/img.png?split=host")`,
      `url("${b}/img.png?split=path")`,
      `url("${b}/img.png?split=in-place")`,
      'rgb(1, 2, 3)',
    ]);
    await expect.poll(() => ['origin', 'host', 'path', 'in-place'].filter((k) => sites.received.includes(`b GET /img.png?split=${k}`))).toHaveLength(4);
    // The site's own text nodes stay in place: the mapped text is spread over them.
    expect(await page.evaluate(() => document.head.querySelectorAll('style')[0]?.childNodes.length)).toBe(3);
    expect(escaped()).toEqual([]);
    await context.close();
  });

  it('maps the text again when a text node is taken out of the style', async () => {
    sites.pages.set('a/split-remove', html('split-remove', '<p id="t">t</p>'));
    const { context, page, session, escaped } = await openHost('/split-remove');
    const background = await page.evaluate((B) => {
      const style = document.head.appendChild(document.createElement('style'));
      style.append('#t{background-image:url(', `${B}/img.png?removed`, '-not-this', ')}');
      style.removeChild(style.childNodes[2] as Node);
      return getComputedStyle(document.getElementById('t') as Element).backgroundImage;
    }, sites.b);
    expect(background).toBe(`url("${proxied(session, 'o2')}/img.png?removed")`);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: Element.prototype.moveBefore', () => {
  it('maps CSS text moved into a <style> with moveBefore (the text was never CSS before)', async () => {
    sites.pages.set(
      'a/move-text',
      html('move-text', `<div id="src">#t{background-image:url(${sites.b}/img.png?moved)}</div><p id="t">t</p><style id="s"></style>`),
    );
    const { context, page, session, escaped } = await openHost('/move-text');
    const result = await page.evaluate(() => {
      const style = document.getElementById('s') as HTMLStyleElement & { moveBefore(node: Node, child: Node | null): void };
      style.moveBefore((document.getElementById('src') as HTMLElement).firstChild as Node, null);
      return getComputedStyle(document.getElementById('t') as Element).backgroundImage;
    });
    expect(result).toBe(`url("${proxied(session, 'o2')}/img.png?moved")`);
    await expect.poll(() => sites.received.includes('b GET /img.png?moved')).toBe(true);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

/** Evaluates `expression` with `doc` bound to a follower's mirror document. */
function inMirror<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(`(() => { const doc = document.getElementById('cobrowse-mirror').contentDocument; return (${expression}); })()`);
}

describe('sync recorder: moveBefore', () => {
  it('mirrors elements and a cross-origin frame moved with moveBefore (the frame keeps its document, the mirror its content)', async () => {
    sites.pages.set(
      'a/move-frame',
      html('move-frame', `<div id="one"><p id="moved">moved text</p><iframe id="xf" src="${sites.b}/inner"></iframe></div><div id="two"></div>`),
    );
    sites.pages.set('b/inner', html('inner', '<p id="inner">Inside B</p><script>window.state = "kept";</script>'));
    const host = await openHost('/move-frame');
    const follower = await browser.newContext();
    const view = await follower.newPage();
    await view.goto(host.session.joinUrl);
    const frameText = `doc.getElementById('xf')?.contentDocument?.getElementById('inner')?.textContent ?? null`;
    await expect.poll(() => inMirror(view, frameText), { timeout: 10_000 }).toBe('Inside B');
    await host.page.evaluate(() => {
      const two = document.getElementById('two') as HTMLElement & { moveBefore(node: Node, child: Node | null): void };
      two.moveBefore(document.getElementById('xf') as Node, null);
      two.moveBefore(document.getElementById('moved') as Node, two.firstChild);
    });
    const frame = host.page.frames().find((f) => f.url().endsWith('/inner'));
    expect(await frame?.evaluate(() => (window as unknown as { state: string }).state)).toBe('kept');
    await expect.poll(() => inMirror(view, `[...doc.getElementById('two').children].map((e) => e.id).join(',')`)).toBe('moved,xf');
    await expect
      .poll(() => inMirror(view, `doc.getElementById('two').querySelector('#xf')?.contentDocument?.getElementById('inner')?.textContent ?? null`))
      .toBe('Inside B');
    expect(host.escaped()).toEqual([]);
    await Promise.all([host.context.close(), follower.close()]);
  });
});

describe('URL runtime: HTML documents from data: URLs in frames', () => {
  it("get the runtime: their markup and their scripts' requests go to the gateway, and they keep their opaque origin", async () => {
    sites.pages.set('a/data-frames', html('data-frames', '<div id="box"></div>'));
    const { context, page, session, escaped } = await openHost('/data-frames');
    const B = sites.b;
    // One frame through the src property, one through setAttribute, one in markup; a frame of its own inside the first.
    const doc = (tag: string) =>
      `<!DOCTYPE html><html><head><title>${tag}</title><style>p{background-image:url(${B}/img.png?css-${tag})}</style></head><body>` +
      `<img id="img" src="${B}/img.png?img-${tag}"><p id="p">${tag} é</p>` +
      `<iframe id="nested" src="data:text/html,${encodeURIComponent(`<img src="${B}/img.png?nested-${tag}">`)}"></iframe>` +
      `<script>fetch(${JSON.stringify(`${B}/api?fetch-${tag}`)}).catch(function () {}); var i = new Image(); i.src = ${JSON.stringify(`${B}/img.png?script-${tag}`)};</script></body></html>`;
    const urls: Record<string, string> = {
      one: `data:text/html;charset=utf-8,${encodeURIComponent(doc('property'))}`,
      two: `data:text/html;base64,${Buffer.from(doc('attribute')).toString('base64')}`,
      three: `data:text/html,${encodeURIComponent(doc('markup'))}`,
    };
    await page.evaluate((u) => {
      const box = document.getElementById('box') as HTMLElement;
      const one = document.createElement('iframe');
      one.id = 'one';
      one.src = u.one ?? '';
      box.append(one);
      const two = document.createElement('iframe');
      two.id = 'two';
      two.setAttribute('src', u.two ?? '');
      box.append(two);
      box.insertAdjacentHTML('beforeend', `<iframe id="three" src="${u.three}"></iframe>`);
    }, urls);
    const b = proxied(session, 'o2');
    const o1 = proxied(session, 'o1');
    // What the same documents show in Chromium on their own (a data: document without a charset is windows-1252).
    const direct = await browser.newPage();
    for (const [id, tag] of [
      ['one', 'property'],
      ['two', 'attribute'],
      ['three', 'markup'],
    ] as const) {
      await direct.goto(urls[id] ?? '');
      const expected = await direct.evaluate(() => ({ text: document.getElementById('p')?.textContent, compat: document.compatMode }));
      const frame = await (await page.$(`#${id}`))?.contentFrame();
      expect(frame, tag).toBeTruthy();
      await expect.poll(() => frame?.evaluate(() => document.readyState)).toBe('complete');
      const seen = await frame?.evaluate(() => ({
        origin,
        protocol: location.protocol,
        title: document.title,
        text: document.getElementById('p')?.textContent,
        img: document.getElementById('img')?.getAttribute('src'),
        compat: document.compatMode,
        runtime: document.querySelector('head > script:first-child[data-cobrowse]')?.getAttribute('src'),
      }));
      expect(seen).toEqual({
        origin: 'null',
        protocol: 'data:',
        title: tag,
        img: `${b}/img.png?img-${tag}`,
        runtime: `${o1}/__cobrowse/inject.js`,
        ...expected,
      });
    }
    await direct.close();
    // Every request of those documents, their scripts and their nested frames went to the gateway.
    await expect.poll(() => t.logs.filter((l) => l.path === '/api').length).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe("a cross-origin frame and the top window (not fixed: they need the frame's scripts rewritten, see ARCHITECTURE.md)", () => {
  /** The top page on site-a with a frame on site-b whose script is given below. */
  async function topWithFrame(frameScript: string) {
    sites.pages.set(
      'a/with-frame',
      html(
        'with-frame',
        `<p id="got"></p><iframe id="f" src="${sites.b}/framed"></iframe><script>addEventListener('message', function (e) { document.getElementById('got').textContent += e.data + ' from ' + e.origin + ';'; });</script>`,
      ),
    );
    sites.pages.set('b/framed', html('framed', `<p>framed</p><script>${frameScript}</script>`));
    sites.pages.set('a/landed', html('landed', '<p id="landed">landed</p>'));
    const host = await openHost('/with-frame');
    const frame = await (await host.page.$('#f'))?.contentFrame();
    await expect.poll(() => frame?.evaluate(() => document.readyState)).toBe('complete');
    return { ...host, frame };
  }

  // Chromium fires no navigate event in the top window for a navigation a cross-origin document
  // starts (HTML: only for an initiator that is same origin-domain), and `top` cannot be replaced
  // ([LegacyUnforgeable]): the runtimes of both windows never see the assignment.
  it.fails('top.location = <real URL of an allowed origin> in a cross-origin frame stays on the gateway', async () => {
    const { context, page, frame, escaped } = await topWithFrame(`window.go = function () { top.location = ${JSON.stringify(`${sites.a}/landed`)}; };`);
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
  // no call): Chromium drops the message, whose target origin is the real one.
  it.fails('top.postMessage(msg, <real origin of the top page>) from a cross-origin frame arrives', async () => {
    const { context, page, frame } = await topWithFrame(`window.post = function () { top.postMessage('via-top', ${JSON.stringify(sites.a)}); };`);
    try {
      await frame?.evaluate(() => (window as unknown as { post(): void }).post());
      await expect.poll(() => page.textContent('#got'), { timeout: 2000 }).toBe(`via-top from ${sites.b};`);
    } finally {
      await context.close();
    }
  });

  it('parent.postMessage(msg, <real origin>) and parent.location = <real URL> from a cross-origin frame work through the gateway', async () => {
    const { context, page, frame, escaped } = await topWithFrame(
      `window.post = function () { parent.postMessage('via-parent', ${JSON.stringify(sites.a)}); }; window.go = function () { parent.location = ${JSON.stringify(`${sites.a}/landed`)}; };`,
    );
    await frame?.evaluate(() => (window as unknown as { post(): void }).post());
    await expect.poll(() => page.textContent('#got')).toBe(`via-parent from ${sites.b};`);
    await Promise.all([page.waitForURL(/\/landed$/), frame?.evaluate(() => (window as unknown as { go(): void }).go())]);
    expect(await page.textContent('#landed')).toBe('landed');
    expect(new URL(page.url()).hostname.endsWith('cobrowse.localhost')).toBe(true);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: the windows it hands out', () => {
  it('window.open returns the window event.source names: event.source === popup holds, and popup.postMessage(msg, <real origin>) arrives', async () => {
    sites.pages.set('a/opener', html('opener', '<p id="got"></p>'));
    sites.pages.set(
      'a/popup',
      html(
        'popup',
        `<script>addEventListener('message', function (e) { e.source.postMessage('pong:' + e.data, ${JSON.stringify(sites.a)}); }); opener.postMessage('ready', ${JSON.stringify(sites.a)});</script>`,
      ),
    );
    const { context, page, escaped } = await openHost('/opener');
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
      sites.a,
    );
    expect(result).toEqual(['ready same=true', 'pong:ping same=true']);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: same-origin frames the gateway never served', () => {
  it("an about:blank frame's fetch, elements and written markup, and a srcdoc document's scripts, go to the gateway", async () => {
    sites.pages.set('a/blank-frames', html('blank-frames', '<div id="box"></div>'));
    const { context, page, escaped } = await openHost('/blank-frames');
    await page.evaluate((B) => {
      const box = document.getElementById('box') as HTMLElement;
      const blank = document.createElement('iframe');
      box.append(blank);
      // A pristine fetch from a fresh frame, as some libraries take one.
      const win = blank.contentWindow as Window & typeof globalThis;
      void win.fetch(`${B}/api?blank-fetch`).catch(() => {});
      const doc = blank.contentDocument as Document;
      const img = doc.createElement('img');
      img.src = `${B}/img.png?blank-img`;
      doc.body.append(img);
      doc.body.insertAdjacentHTML('beforeend', `<img src="${B}/img.png?blank-markup">`);
      const srcdoc = document.createElement('iframe');
      srcdoc.srcdoc = `<!DOCTYPE html><p id="in-srcdoc">srcdoc</p><script>fetch(${JSON.stringify(`${B}/api?srcdoc-fetch`)}).catch(function () {}); var i = new Image(); i.src = ${JSON.stringify(`${B}/img.png?srcdoc-script`)};</script>`;
      box.append(srcdoc);
    }, sites.b);
    const wanted = ['api?blank-fetch', 'img.png?blank-img', 'img.png?blank-markup', 'api?srcdoc-fetch', 'img.png?srcdoc-script'];
    await expect.poll(() => wanted.filter((w) => !sites.received.includes(`b GET /${w}`))).toEqual([]);
    const srcdocFrame = page.frames().find((f) => f.url() === 'about:srcdoc');
    expect(await srcdocFrame?.evaluate(() => [document.compatMode, document.getElementById('in-srcdoc')?.textContent])).toEqual(['CSS1Compat', 'srcdoc']);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: a blank window the page reached, then navigated to a page of the site', () => {
  it('keeps one runtime and gives the new document what its own tag says (document.cookie from the jar)', async () => {
    sites.pages.set('a/reuse', html('reuse', '<div id="box"></div>'));
    sites.pages.set(
      'a/reuse-frame',
      html(
        'reuse-frame',
        `<p id="c"></p><script>document.getElementById('c').textContent = document.cookie; fetch(${JSON.stringify(`${sites.b}/api?after-reuse`)}).catch(function () {});</script>`,
      ),
    );
    const { context, page, escaped } = await openHost('/reuse');
    await page.evaluate((B) => {
      document.cookie = 'flavour=plain';
      const frame = document.createElement('iframe');
      frame.src = '/reuse-frame';
      (document.getElementById('box') as HTMLElement).append(frame);
      // Reached while the frame is still on its first about:blank document, whose Window the
      // same-origin page then keeps (Chromium does when the navigation started as the frame went in).
      void (frame.contentWindow as Window & typeof globalThis).fetch(`${B}/api?before-reuse`).catch(() => {});
      (frame.contentWindow as Window & { marked?: string }).marked = 'kept';
    }, sites.b);
    const frame = page.frameLocator('#box iframe');
    await expect.poll(() => frame.locator('#c').textContent({ timeout: 2000 })).toBe('flavour=plain');
    const inner = await (await page.$('#box iframe'))?.contentFrame();
    expect(await inner?.evaluate(() => (window as Window & { marked?: string }).marked)).toBe('kept');
    await expect.poll(() => ['before-reuse', 'after-reuse'].filter((k) => !sites.received.includes(`b GET /api?${k}`))).toEqual([]);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: documents script parses', () => {
  it('nodes of DOMParser (HTML, SVG) and Document.parseHTMLUnsafe documents load through the gateway once the page takes them in', async () => {
    sites.pages.set('a/parsers', html('parsers', '<div id="box"></div>'));
    const { context, page, escaped } = await openHost('/parsers');
    await page.evaluate((B) => {
      const box = document.getElementById('box') as HTMLElement;
      const parsed = new DOMParser().parseFromString(`<img src="${B}/img.png?domparser">`, 'text/html');
      box.append(parsed.body.firstChild as Node);
      const svg = new DOMParser().parseFromString(
        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image width="2" height="2" href="${B}/img.png?svg-href"/><image width="2" height="2" xlink:href="${B}/img.png?svg-xlink"/></svg>`,
        'image/svg+xml',
      );
      box.append(document.importNode(svg.documentElement, true));
      const unsafe = (Document as unknown as { parseHTMLUnsafe?: (html: string) => Document }).parseHTMLUnsafe?.(`<img src="${B}/img.png?parse-html-unsafe">`);
      if (unsafe) box.append(unsafe.body.firstChild as Node);
    }, sites.b);
    const wanted = ['domparser', 'svg-href', 'svg-xlink', 'parse-html-unsafe'];
    await expect.poll(() => wanted.filter((w) => !sites.received.includes(`b GET /img.png?${w}`))).toEqual([]);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: HTML documents from blob: URLs of the page', () => {
  it("a frame's and a popup's blob: document run the runtime before their own scripts", async () => {
    sites.pages.set('a/blobs', html('blobs', '<div id="box"></div>'));
    const { context, page, escaped } = await openHost('/blobs');
    await page.evaluate(async (B) => {
      const doc = (tag: string) =>
        new Blob(
          [`<!DOCTYPE html><p id="p">${tag}</p><script>fetch(${JSON.stringify(`${B}/api?blob-`)} + ${JSON.stringify(tag)}).catch(function () {});</script>`],
          {
            type: 'text/html',
          },
        );
      const frame = document.createElement('iframe');
      (document.getElementById('box') as HTMLElement).append(frame);
      // Set once the frame's about:blank document has settled: its blob: document gets a window of its own.
      await new Promise((resolve) => setTimeout(resolve, 100));
      frame.src = URL.createObjectURL(doc('frame'));
      window.open(URL.createObjectURL(doc('popup')), 'blob-popup');
    }, sites.b);
    await expect.poll(() => ['frame', 'popup'].filter((k) => !sites.received.includes(`b GET /api?blob-${k}`))).toEqual([]);
    const frame = await (await page.$('#box iframe'))?.contentFrame();
    expect(await frame?.evaluate(() => [location.protocol, document.compatMode, document.getElementById('p')?.textContent])).toEqual([
      'blob:',
      'CSS1Compat',
      'frame',
    ]);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});
