// Modules with integrity imported by their plain URL too, in real Chromium, directly and through
// the gateway: `<link rel=modulepreload integrity>` followed by an `import` of the same URL, and a
// `<script type=module src integrity>` that another module imports. The gateway moves the
// integrity into a marked URL (it checks the site's bytes itself); the import map it puts before
// the element maps the plain URL to the marked one, so that each module is fetched once and runs
// once, as on the real site, and a tampered module is refused on both.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useNamedSites } from '../helpers/named-sites.js';

const a = () => env.origin('sri-a');
const b = () => env.origin('sri-b');
/** Module requests the origin saw, as `<host><path>`. */
const seen: string[] = [];

const sri = (body: string) => `sha384-${createHash('sha384').update(body).digest('base64')}`;

// preloaded.js imports by absolute URL: the gateway changes its bytes, so only the gateway can check them.
const MODULES: Record<string, string> = {
  get '/preloaded.js'() {
    return `import { d } from "${b()}/dep.js"; window.runs.preloaded = (window.runs.preloaded ?? 0) + 1; export const v = 'preloaded' + d;`;
  },
  '/dep.js': `export const d = '';`,
  '/script.js': `window.runs.script = (window.runs.script ?? 0) + 1; export const s = 'script';`,
  '/tampered.js': `window.runs.tampered = (window.runs.tampered ?? 0) + 1; export const t = 'tampered';`,
};

/** The page's own code is external, so that it runs under `script-src 'self'` too. */
const main = () => `
import { v } from "${b()}/preloaded.js";
import { s } from "${b()}/script.js";
window.results.imported = v + '+' + s;
window.results.tampered = await import("${b()}/tampered.js").then((m) => 'loaded:' + m.t, () => 'refused');
`;

const TAMPERED_EXPECTED = sri('export const t = "the bytes the page expects";');

/** The module preloads as a Link header (path /link) instead of elements. */
const linkHeader = () =>
  [
    `<${b()}/preloaded.js>; rel=modulepreload; integrity="${sri(MODULES['/preloaded.js']!)}"; crossorigin=anonymous`,
    `<${b()}/tampered.js>; rel=modulepreload; integrity="${TAMPERED_EXPECTED}"; crossorigin=anonymous`,
  ].join(', ');

function page(links = true): string {
  return `<!DOCTYPE html><html><head><title>sri</title>
<script src="/setup.js"></script>
${
  links
    ? `<link rel="modulepreload" href="${b()}/preloaded.js" integrity="${sri(MODULES['/preloaded.js']!)}" crossorigin="anonymous">
<link rel="modulepreload" href="${b()}/tampered.js" integrity="${TAMPERED_EXPECTED}" crossorigin="anonymous">`
    : ''
}
<script type="module" src="${b()}/script.js" integrity="${sri(MODULES['/script.js']!)}" crossorigin="anonymous"></script>
</head><body>
<script type="module" src="/main.js"></script>
</body></html>`;
}

const env = useNamedSites(['sri-a', 'sri-b'], (req, res) => {
  const host = (req.headers.host ?? '').split('.')[0] ?? '';
  const path = (req.url ?? '/').split('?')[0]!;
  if (host === 'sri-a' && (path === '/' || path === '/csp' || path === '/link')) {
    // Under the policy no inline script may run: the gateway's import maps carry its nonce.
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      ...(path === '/csp' ? { 'content-security-policy': `script-src 'self' ${b()}` } : {}),
      ...(path === '/link' ? { link: linkHeader() } : {}),
    });
    res.end(page(path !== '/link'));
    return;
  }
  const own: Record<string, string> = { '/setup.js': 'window.runs = {}; window.results = {};', '/main.js': main() };
  const body = host === 'sri-b' ? MODULES[path] : host === 'sri-a' ? own[path] : undefined;
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  if (host === 'sri-b') seen.push(`${host}${req.url}`);
  res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' });
  res.end(body);
});

/** What ran, what the page got, and the module requests the browser made (path, and whether it carried the gateway's marker). */
async function load(url: string) {
  const p = await newParticipant(env.browser);
  const requested: string[] = [];
  p.page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('.js') && !u.pathname.startsWith('/__cobrowse/'))
      requested.push(`${u.pathname}${u.search.includes('__cobrowse_sri=') ? ' marked' : ''}`);
  });
  await p.page.goto(url);
  await expect.poll(() => p.page.evaluate(() => (window as unknown as { results: { tampered?: string } }).results.tampered), { timeout: 10_000 }).toBeDefined();
  await p.page.waitForTimeout(200);
  const state = await p.page.evaluate(() => {
    const w = window as unknown as { runs: Record<string, number>; results: Record<string, string> };
    return { runs: w.runs, results: w.results };
  });
  await p.context.close();
  return { ...state, requested: requested.sort() };
}

describe('modules with integrity that are also imported by their plain URL', () => {
  for (const [path, what] of [
    ['/', 'no policy'],
    ['/csp', "script-src 'self'"],
    ['/link', 'preloaded by a Link header'],
  ] as const) {
    it(`are fetched once and run once, checked, as on the real site; a tampered one is refused (${what})`, async () => {
      seen.length = 0;
      const direct = await load(`${a()}${path}`);
      expect(direct.runs).toEqual({ preloaded: 1, script: 1 });
      expect(direct.results).toEqual({ imported: 'preloaded+script', tampered: 'refused' });
      expect(direct.requested).toEqual(['/dep.js', '/main.js', '/preloaded.js', '/script.js', '/setup.js', '/tampered.js']);
      const directSeen = [...seen].sort();

      seen.length = 0;
      const session = await createSession(env.t, `${a()}${path}`);
      const proxied = await load(session.hostUrl);
      expect(proxied.runs).toEqual(direct.runs);
      expect(proxied.results).toEqual(direct.results);
      // Each good module fetched once, by its marked URL (the plain import went to the same record).
      // The tampered one is asked for again by import() (Chromium keeps a failed integrity check in
      // the module map, but not a failed response: the gateway's 502), and refused again.
      expect(proxied.requested).toEqual([
        '/dep.js',
        '/main.js',
        '/preloaded.js marked',
        '/script.js marked',
        '/setup.js',
        '/tampered.js marked',
        '/tampered.js marked',
      ]);
      // The site saw each good module once, without the gateway's marker.
      expect([...seen].filter((s) => !s.includes('tampered')).sort()).toEqual(directSeen.filter((s) => !s.includes('tampered')));
      expect(seen.filter((s) => s.includes('__cobrowse'))).toEqual([]);
      expect(env.t.logs.some((l) => l.msg === 'script refused: integrity' && l.sessionId === session.id)).toBe(true);
    });
  }
});
