// Web Animations' keyframes hold CSS values the browser loads as the animation runs
// (`backgroundImage: 'url(...)'`): an absolute URL of the site there was refused by the
// containment policy, where directly the site served the image. The runtime maps them in
// element.animate, new KeyframeEffect and setKeyframes, keyframes as a list (any iterable) or by
// property; the effects the browser makes itself are still KeyframeEffects. The
// same page directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
/** What B was asked for. */
const hits = new Set<string>();
const IMAGES = ['/indexed-1.png', '/indexed-2.png', '/listed.png', '/effect.png', '/set.png', '/generated.png', '/set-list.png', '/inherited.png'];

const sites = useTwoSites(
  (_req, res) => {
    const b = sites.bOrigin;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><div id=a style="width:10px;height:10px"></div><div id=b style="width:10px;height:10px"></div><div id=c style="width:10px;height:10px"></div><div id=d style="width:10px;height:10px"></div><div id=e style="width:10px;height:10px"></div><div id=f style="width:10px;height:10px"></div><script>
      const timing = { duration: 400, iterations: 3 };
      a.animate({ backgroundImage: ['url(${b}/indexed-1.png)', 'url("${b}/indexed-2.png")'] }, timing);
      b.animate([{ backgroundImage: 'url(${b}/listed.png)', opacity: 1 }, { opacity: 0.5 }], timing);
      const effect = new KeyframeEffect(c, [{ backgroundImage: 'url(${b}/effect.png)' }, { backgroundImage: 'none' }], timing);
      new Animation(effect, document.timeline).play();
      setTimeout(() => effect.setKeyframes([{ backgroundImage: 'url(${b}/set.png)' }, { backgroundImage: 'none' }]), 100);
      // Keyframes from a generator, a property-indexed list from a Set, and an inherited easing.
      const gen = (function* () { yield { backgroundImage: 'url(${b}/generated.png)' }; yield { backgroundImage: 'none' }; })();
      d.animate(gen, timing);
      e.animate({ backgroundImage: new Set(['url(${b}/set-list.png)', 'none']) }, timing);
      const inherited = Object.create({ easing: 'steps(2)', composite: 'add' });
      inherited.backgroundImage = 'url(${b}/inherited.png)';
      const kf = f.animate([inherited, { backgroundImage: 'none' }], timing).effect.getKeyframes()[0];
      const css = document.createElement('style');
      css.textContent = '@keyframes spin { to { opacity: 0.5 } } #f { animation: spin 1s infinite; }';
      document.head.append(css);
      let threw = 'no';
      try { a.animate(); } catch (e) { threw = e.name; }
      window.kinds = [effect instanceof KeyframeEffect, effect instanceof AnimationEffect, String(new KeyframeEffect(effect).getKeyframes().length),
        d.animate({ opacity: [0, 1] }, 100).effect instanceof KeyframeEffect, f.getAnimations().length > 1 && f.getAnimations().every((x) => x.effect instanceof KeyframeEffect && x.effect.constructor === KeyframeEffect),
        KeyframeEffect.length, kf.easing, kf.composite, threw];
    </script>`);
  },
  (req, res) => {
    hits.add(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  },
);

async function animated(url: string): Promise<unknown> {
  const { context, page, errors } = await newParticipant(sites.browser);
  try {
    hits.clear();
    await page.goto(url);
    await expect.poll(() => IMAGES.filter((i) => hits.has(i)), { timeout: 10_000 }).toEqual(IMAGES);
    expect(errors).toEqual([]);
    return await page.evaluate('window.kinds');
  } finally {
    await context.close();
  }
}

describe('animation keyframes', () => {
  it('load the images they name through the gateway, as directly from the site', async () => {
    const direct = await animated(`${sites.aOrigin}/`);
    expect(direct).toEqual([true, true, '2', true, true, 1, 'steps(2)', 'add', 'TypeError']);
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    expect(await animated(session.hostUrl)).toEqual(direct);
    const through = sites.t.logs.slice(logged).map((l) => l.path);
    for (const image of IMAGES) expect(through).toContain(image);
  });
});
