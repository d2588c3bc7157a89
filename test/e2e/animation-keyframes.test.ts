// Web Animations' keyframes hold CSS values the browser loads as the animation runs
// (`backgroundImage: 'url(...)'`): an absolute URL of the site there was refused by the
// containment policy, where directly the site served the image. The runtime maps them in
// element.animate, new KeyframeEffect and setKeyframes, keyframes as a list or by property. The
// same page directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
/** What B was asked for. */
const hits = new Set<string>();
const IMAGES = ['/indexed-1.png', '/indexed-2.png', '/listed.png', '/effect.png', '/set.png'];

const sites = useTwoSites(
  (_req, res) => {
    const b = sites.bOrigin;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><div id=a style="width:10px;height:10px"></div><div id=b style="width:10px;height:10px"></div><div id=c style="width:10px;height:10px"></div><script>
      const timing = { duration: 400, iterations: 3 };
      a.animate({ backgroundImage: ['url(${b}/indexed-1.png)', 'url("${b}/indexed-2.png")'] }, timing);
      b.animate([{ backgroundImage: 'url(${b}/listed.png)', opacity: 1 }, { opacity: 0.5 }], timing);
      const effect = new KeyframeEffect(c, [{ backgroundImage: 'url(${b}/effect.png)' }, { backgroundImage: 'none' }], timing);
      new Animation(effect, document.timeline).play();
      setTimeout(() => effect.setKeyframes([{ backgroundImage: 'url(${b}/set.png)' }, { backgroundImage: 'none' }]), 100);
      window.kinds = [effect instanceof KeyframeEffect, effect instanceof AnimationEffect, String(new KeyframeEffect(effect).getKeyframes().length)];
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
    expect(direct).toEqual([true, true, '2']);
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    expect(await animated(session.hostUrl)).toEqual(direct);
    const through = sites.t.logs.slice(logged).map((l) => l.path);
    for (const image of IMAGES) expect(through).toContain(image);
  });
});
