// URL runtime gaps of the "Rewriting proxy" issue's closing note, reproduced in Chromium first: a
// URL split over the text nodes of one <style> (the style's whole text is mapped), and moveBefore
// (text moved into a <style>; a cross-origin frame moved, which keeps its document and fires no
// load, is mirrored again).

import { describe, expect, it } from 'vitest';
import { inMirror } from '../helpers/browser.js';
import { html, useRuntimeSuite } from '../helpers/runtime-suite.js';

const suite = useRuntimeSuite();

describe('URL runtime: a URL split over the text nodes of one <style>', () => {
  it('maps the style element\'s whole text: "url(https://b" and "/x.png)" appended one after the other load b\'s /x.png', async () => {
    suite.sites.pages.set(
      'a/split',
      html('split', '<p id="t1">one</p><p id="t2">two</p><p id="t3">three</p><p id="t4" class="imported">four</p><p id="t5">five</p>'),
    );
    const { context, page, session, escaped } = await suite.openHost('/split');
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
    }, suite.sites.b);
    const b = suite.proxied(session, 'o2');
    expect(backgrounds).toEqual([
      `url("${b}/img.png?split=origin")`,
      `url("${b}/img.png?split=host")`,
      `url("${b}/img.png?split=path")`,
      `url("${b}/img.png?split=in-place")`,
      'rgb(1, 2, 3)',
    ]);
    await expect.poll(() => ['origin', 'host', 'path', 'in-place'].filter((k) => suite.sites.received.includes(`b GET /img.png?split=${k}`))).toHaveLength(4);
    // The site's own text nodes stay in place: the mapped text is spread over them.
    expect(await page.evaluate(() => document.head.querySelectorAll('style')[0]?.childNodes.length)).toBe(3);
    expect(escaped()).toEqual([]);
    await context.close();
  });

  it('maps the text again when a text node is taken out of the style', async () => {
    suite.sites.pages.set('a/split-remove', html('split-remove', '<p id="t">t</p>'));
    const { context, page, session, escaped } = await suite.openHost('/split-remove');
    const background = await page.evaluate((B) => {
      const style = document.head.appendChild(document.createElement('style'));
      style.append('#t{background-image:url(', `${B}/img.png?removed`, '-not-this', ')}');
      style.removeChild(style.childNodes[2] as Node);
      return getComputedStyle(document.getElementById('t') as Element).backgroundImage;
    }, suite.sites.b);
    expect(background).toBe(`url("${suite.proxied(session, 'o2')}/img.png?removed")`);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('URL runtime: Element.prototype.moveBefore', () => {
  it('maps CSS text moved into a <style> with moveBefore (the text was never CSS before)', async () => {
    suite.sites.pages.set(
      'a/move-text',
      html('move-text', `<div id="src">#t{background-image:url(${suite.sites.b}/img.png?moved)}</div><p id="t">t</p><style id="s"></style>`),
    );
    const { context, page, session, escaped } = await suite.openHost('/move-text');
    const result = await page.evaluate(() => {
      const style = document.getElementById('s') as HTMLStyleElement & { moveBefore(node: Node, child: Node | null): void };
      style.moveBefore((document.getElementById('src') as HTMLElement).firstChild as Node, null);
      return getComputedStyle(document.getElementById('t') as Element).backgroundImage;
    });
    expect(result).toBe(`url("${suite.proxied(session, 'o2')}/img.png?moved")`);
    await expect.poll(() => suite.sites.received.includes('b GET /img.png?moved')).toBe(true);
    expect(escaped()).toEqual([]);
    await context.close();
  });
});

describe('sync recorder: moveBefore', () => {
  it('mirrors elements and a cross-origin frame moved with moveBefore (the frame keeps its document, the mirror its content)', async () => {
    suite.sites.pages.set(
      'a/move-frame',
      html('move-frame', `<div id="one"><p id="moved">moved text</p><iframe id="xf" src="${suite.sites.b}/inner"></iframe></div><div id="two"></div>`),
    );
    suite.sites.pages.set('b/inner', html('inner', '<p id="inner">Inside B</p><script>window.state = "kept";</script>'));
    const host = await suite.openHost('/move-frame');
    const follower = await suite.browser.newContext();
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
