// Workers have FontFace and self.fonts too (for OffscreenCanvas): `new FontFace(family,
// 'url(...)')` in a worker with the site's absolute URL was left unmapped, and the font was
// refused by the containment policy where directly the site served it. The worker runtime maps
// it as the page's does. The same worker directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { pageReading } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** What B was asked for. */
const hits: string[] = [];

const sites = useTwoSites(
  (req, res) => {
    if (req.url === '/worker.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(`
        const face = new FontFace('W', 'url(${sites.bOrigin}/worker.woff2)');
        self.fonts.add(face);
        face.load().then(() => postMessage('loaded'), (e) => postMessage(e.name + ' ' + (face instanceof FontFace)));
      `);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><script>new Worker('/worker.js').onmessage = (e) => { window.outcome = e.data; };</script>`);
  },
  (req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'font/woff2', 'access-control-allow-origin': '*' }).end('not a font');
  },
);

describe('FontFace in a worker', () => {
  it('loads the font from the site through the gateway', async () => {
    const direct = await pageReading(sites.browser, `${sites.aOrigin}/`, 'window.outcome', 'window.outcome');
    expect(direct).toBe('NetworkError true');
    expect(hits).toEqual(['/worker.woff2']);
    hits.length = 0;
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    expect(await pageReading(sites.browser, session.hostUrl, 'window.outcome', 'window.outcome')).toBe(direct);
    expect(hits).toEqual(['/worker.woff2']);
    expect(sites.t.logs.slice(logged).map((l) => l.path)).toContain('/worker.woff2');
  });
});
