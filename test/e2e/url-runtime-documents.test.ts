// Documents the gateway never serves get the URL runtime (reproduced in Chromium first: their
// requests went to the real sites): HTML from data: URLs in frames (opaque origin kept), from the
// page's blob: URLs, srcdoc, same-origin about:blank windows the page reaches (and the page that
// later reuses such a window), and documents parsed by script.

import { describe, expect, it } from 'vitest';
import { html, useRuntimeSuite } from '../helpers/runtime-suite.js';

const suite = useRuntimeSuite();

describe('URL runtime: HTML documents from data: URLs in frames', () => {
  it("get the runtime: their markup and their scripts' requests go to the gateway, and they keep their opaque origin", async () => {
    suite.sites.pages.set('a/data-frames', html('data-frames', '<div id="box"></div>'));
    const { context, page, session, escaped } = await suite.openHost('/data-frames');
    const B = suite.sites.b;
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
    const b = suite.proxied(session, 'o2');
    const o1 = suite.proxied(session, 'o1');
    // What the same documents show in Chromium on their own (a data: document without a charset is windows-1252).
    const direct = await suite.browser.newPage();
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
    await expect.poll(() => suite.t.logs.filter((l) => l.path === '/api').length).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: same-origin frames the gateway never served', () => {
  it("an about:blank frame's fetch, elements and written markup, and a srcdoc document's scripts, go to the gateway", async () => {
    suite.sites.pages.set('a/blank-frames', html('blank-frames', '<div id="box"></div>'));
    const { context, page, escaped } = await suite.openHost('/blank-frames');
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
    }, suite.sites.b);
    const wanted = ['api?blank-fetch', 'img.png?blank-img', 'img.png?blank-markup', 'api?srcdoc-fetch', 'img.png?srcdoc-script'];
    await expect.poll(() => wanted.filter((w) => !suite.sites.received.includes(`b GET /${w}`))).toEqual([]);
    const srcdocFrame = page.frames().find((f) => f.url() === 'about:srcdoc');
    expect(await srcdocFrame?.evaluate(() => [document.compatMode, document.getElementById('in-srcdoc')?.textContent])).toEqual(['CSS1Compat', 'srcdoc']);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: a blank window the page reached, then navigated to a page of the site', () => {
  it('keeps one runtime and gives the new document what its own tag says (document.cookie from the jar)', async () => {
    suite.sites.pages.set('a/reuse', html('reuse', '<div id="box"></div>'));
    suite.sites.pages.set(
      'a/reuse-frame',
      html(
        'reuse-frame',
        `<p id="c"></p><script>document.getElementById('c').textContent = document.cookie; fetch(${JSON.stringify(`${suite.sites.b}/api?after-reuse`)}).catch(function () {});</script>`,
      ),
    );
    const { context, page, escaped } = await suite.openHost('/reuse');
    await page.evaluate((B) => {
      document.cookie = 'flavour=plain';
      const frame = document.createElement('iframe');
      frame.src = '/reuse-frame';
      (document.getElementById('box') as HTMLElement).append(frame);
      // Reached while the frame is still on its first about:blank document, whose Window the
      // same-origin page then keeps (Chromium does when the navigation started as the frame went in).
      void (frame.contentWindow as Window & typeof globalThis).fetch(`${B}/api?before-reuse`).catch(() => {});
      (frame.contentWindow as Window & { marked?: string }).marked = 'kept';
    }, suite.sites.b);
    const frame = page.frameLocator('#box iframe');
    await expect.poll(() => frame.locator('#c').textContent({ timeout: 2000 })).toBe('flavour=plain');
    const inner = await (await page.$('#box iframe'))?.contentFrame();
    expect(await inner?.evaluate(() => (window as Window & { marked?: string }).marked)).toBe('kept');
    await expect.poll(() => ['before-reuse', 'after-reuse'].filter((k) => !suite.sites.received.includes(`b GET /api?${k}`))).toEqual([]);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: documents script parses', () => {
  it('nodes of DOMParser (HTML, SVG) and Document.parseHTMLUnsafe documents load through the gateway once the page takes them in', async () => {
    suite.sites.pages.set('a/parsers', html('parsers', '<div id="box"></div>'));
    const { context, page, escaped } = await suite.openHost('/parsers');
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
    }, suite.sites.b);
    const wanted = ['domparser', 'svg-href', 'svg-xlink', 'parse-html-unsafe'];
    await expect.poll(() => wanted.filter((w) => !suite.sites.received.includes(`b GET /img.png?${w}`))).toEqual([]);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: HTML documents from blob: URLs of the page', () => {
  it("a frame's and a popup's blob: document run the runtime before their own scripts", async () => {
    suite.sites.pages.set('a/blobs', html('blobs', '<div id="box"></div>'));
    const { context, page, escaped } = await suite.openHost('/blobs');
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
    }, suite.sites.b);
    await expect.poll(() => ['frame', 'popup'].filter((k) => !suite.sites.received.includes(`b GET /api?blob-${k}`))).toEqual([]);
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
