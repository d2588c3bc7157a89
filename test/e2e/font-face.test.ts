// new FontFace(family, source) takes an @font-face src value: an absolute url() in it was left
// pointing at the real site, so the containment policy refused the font, where directly the site
// served it. The runtime maps the source's URLs as those of other CSS the page's script writes.
// The same page directly and through the gateway: the font requests reach the site (through the
// gateway), and the page sees the same outcome (the body is no font, so both fail to decode it).

import { describe, expect, it } from 'vitest';
import { pageReading } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

/** What B was asked for. */
const hits: string[] = [];

const sites = useTwoSites(
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><script>
      const face = new FontFace('Shop', 'url(${sites.bOrigin}/shop.woff2) format("woff2"), local("Nothing Like It")', { weight: '400' });
      window.isFace = face instanceof FontFace && Object.prototype.toString.call(face) === '[object FontFace]';
      document.fonts.add(face);
      face.load().then(() => { window.outcome = 'loaded'; }, (e) => { window.outcome = e.name; });
      window.binary = new FontFace('Bin', new Uint8Array([0, 1, 2])).status;
      try { FontFace('x', 'url(/a)'); window.called = 'no error'; } catch (e) { window.called = e.name; }
      try { new FontFace('x'); window.few = 'no error'; } catch (e) { window.few = e.name; }
      const rule = document.createElement('style');
      rule.textContent = '@font-face { font-family: Rule; src: local("Nothing At All"); }';
      document.head.append(rule);
      window.ruleFaces = [...document.fonts].filter((f) => f.family === 'Rule').map((f) => f instanceof FontFace && f.constructor === FontFace);
      window.length = FontFace.length;
    </script>`);
  },
  (req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'font/woff2', 'access-control-allow-origin': '*' }).end('not a font');
  },
);

function fontFace(url: string): Promise<unknown> {
  return pageReading(sites.browser, url, '({ isFace, outcome, binary, called, few, ruleFaces, length })', 'window.outcome');
}

describe('FontFace', () => {
  it('loads a font face the page’s script makes from the site, through the gateway', async () => {
    const direct = await fontFace(`${sites.aOrigin}/`);
    expect(hits).toEqual(['/shop.woff2']);
    expect(direct).toEqual({ isFace: true, outcome: 'NetworkError', binary: 'error', called: 'TypeError', few: 'TypeError', ruleFaces: [true], length: 2 });
    hits.length = 0;
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    expect(await fontFace(session.hostUrl)).toEqual(direct);
    expect(hits).toEqual(['/shop.woff2']);
    expect(sites.t.logs.slice(logged).map((l) => l.path)).toContain('/shop.woff2');
  });
});
