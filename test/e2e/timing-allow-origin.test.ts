// Timing-Allow-Origin names the origins whose pages may read an answer's detailed timing (Resource
// Timing: requestStart, responseStart, transferSize of another origin's image). A site's own
// origins there are real ones, and the page asks from its proxied host: through the gateway the
// page read zeros where directly it read the timing. The session's origins in the header are now
// mapped (others stay, and keep the timing hidden). The same page directly and through the gateway.
// The first load of another origin's resource through the gateway goes by the participant's entry
// to that host (two redirects, one by the gateway's own origin): the browser then checks every
// hop, and the request's origin, redirected across origins, is no longer the page's, so only a
// site's `*` can pass; the entry's hops say `*` (they had no Timing-Allow-Origin).

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

const sites = useTwoSites(
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><img src="${sites.bOrigin}/listed.png"><img src="${sites.bOrigin}/other.png"><img src="${sites.bOrigin}/star.png">` +
        `<script>addEventListener('load', () => { window.timings = Object.fromEntries(performance.getEntriesByType('resource')` +
        `.filter((e) => e.name.endsWith('.png')).map((e) => [new URL(e.name).pathname, { requestStart: e.requestStart > 0, transferSize: e.transferSize > 0 }])); });</script>`,
    );
  },
  (req, res) => {
    const tao = { '/listed.png': `https://elsewhere.example, ${sites.aOrigin}`, '/star.png': '*' }[req.url ?? ''] ?? 'https://elsewhere.example';
    res.writeHead(200, { 'content-type': 'image/png', 'timing-allow-origin': tao });
    res.end(PNG);
  },
);

/** What the page could read of the images' timing, on its first load and on a second one. */
async function timings(url: string): Promise<unknown[]> {
  const { context, page, errors } = await newParticipant(sites.browser);
  try {
    const loads: unknown[] = [];
    for (const _ of [1, 2]) {
      await page.goto(url);
      await page.waitForFunction('window.timings', undefined, { timeout: 10_000 });
      loads.push(await page.evaluate('window.timings'));
      url = page.url();
    }
    expect(errors).toEqual([]);
    return loads;
  } finally {
    await context.close();
  }
}

const OPEN = { requestStart: true, transferSize: true };
const HIDDEN = { requestStart: false, transferSize: false };

describe('Timing-Allow-Origin', () => {
  it('lets the page read the timing of another of the session’s origins where the site lets it', async () => {
    const direct = await timings(`${sites.aOrigin}/`);
    const expected = { '/listed.png': OPEN, '/other.png': HIDDEN, '/star.png': OPEN };
    expect(direct).toEqual([expected, expected]);
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    const [first, second] = await timings(session.hostUrl);
    // The first load entered B's host by the gateway's redirects: a site's `*` still lets the page read the timing.
    expect(sites.t.logs.slice(logged).some((l) => l.path === '/t/:sessionId' || String(l.path).startsWith('/t/'))).toBe(true);
    expect(first).toMatchObject({ '/star.png': OPEN, '/other.png': HIDDEN });
    expect(second).toEqual(expected);
  });
});
