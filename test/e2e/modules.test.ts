// ES modules through the gateway, in real Chromium: a page on origin A imports modules of origin B
// by absolute URL (static imports and re-exports, import() of a literal and of a computed URL,
// through an import map, from an inline module and from a classic script), B's modules import
// further by absolute URL, and a module script with integrity is checked. Every request the
// browser makes goes to the gateway; imports of an origin off the allowlist fail, as the
// gateway's "not allowed" answer is no module.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useNamedSites } from '../helpers/named-sites.js';

const a = () => env.origin('modules-a');
const b = () => env.origin('modules-b');
/** Not on the gateway's allowlist. */
const c = () => env.origin('modules-c');
const seen: string[] = [];

const sri = (body: string) => `sha384-${createHash('sha384').update(body).digest('base64')}`;

const modules: Record<string, () => string> = {
  // Origin A
  'modules-a/entry.js': () => `
import { value as fromStatic } from "${b()}/static.js";
export * from '${b()}/reexport.js';
import { reexported } from "${a()}/entry-reexport.js";
const literal = (await import("${b()}/dynamic.js")).value;
const name = 'computed';
const computed = (await import(\`${b()}/\${name}.js\`)).value;
const viaMap = (await import('lib')).value;
const viaMapPrefix = (await import("${b()}/remapped/x.js")).value;
const outcome = (p) => p.then((m) => 'loaded:' + m.value, () => 'failed');
const blockedLiteral = await outcome(import("${c()}/evil.js"));
const blockedComputed = await outcome(import(["${c()}", 'evil.js'].join('/')));
window.results = { ...window.results, fromStatic, reexported, literal, computed, viaMap, viaMapPrefix, blockedLiteral, blockedComputed, meta: import.meta.url };
`,
  'modules-a/entry-reexport.js': () => `export { reexported } from "${a()}/entry.js";`,
  'modules-a/from-a.js': () => `export const a = 'A';`,
  // Origin B
  'modules-b/static.js': () => `import { a } from "${a()}/from-a.js"; export const value = 'static+' + a;`,
  'modules-b/reexport.js': () => `export const reexported = 'reexported';`,
  'modules-b/dynamic.js': () => `export const value = 'dynamic';`,
  'modules-b/computed.js': () => `export const value = 'computed';`,
  'modules-b/lib.js': () => `export const value = 'lib via import map';`,
  'modules-b/real/x.js': () => `export const value = 'prefix via import map';`,
  'modules-b/classic-dynamic.js': () => `export const value = 'from a classic script';`,
  'modules-b/inline.js': () => `export const value = 'inline';`,
  'modules-b/checked.js': () => `import { value } from "${b()}/dynamic.js"; window.checked = 'ran:' + value;`,
  'modules-b/tampered.js': () => `window.tampered = 'ran';`,
  'modules-b/gzip.js': () => `import { value } from "${b()}/dynamic.js"; export const zipped = 'gzip+' + value;`,
  // Origin C (not allowed)
  'modules-c/evil.js': () => `export const value = 'evil';`,
};

function page(): string {
  const importMap = JSON.stringify({ imports: { lib: `${b()}/lib.js`, [`${b()}/remapped/`]: `${b()}/real/` } });
  return `<!DOCTYPE html><html><head><title>modules</title>
<script type="importmap">${importMap}</script>
<script>window.results = {};</script>
<script type="module" src="/entry.js"></script>
<script type="module">
import { value } from "${b()}/inline.js";
import { zipped } from "${b()}/gzip.js";
window.results.inline = value;
window.results.zipped = zipped;
</script>
<script>import("${b()}/classic-dynamic.js").then((m) => { window.results.classic = m.value; });</script>
<script type="module" src="${b()}/checked.js" integrity="${sri(modules['modules-b/checked.js']!())}" crossorigin="anonymous"></script>
<script type="module" src="${b()}/tampered.js" integrity="${sri('window.tampered = "other bytes";')}" crossorigin="anonymous" onerror="window.tamperedError = true"></script>
</head><body><p>modules</p></body></html>`;
}

const env = useNamedSites(['modules-a', 'modules-b'], (req, res) => {
  const host = (req.headers.host ?? '').split('.')[0] ?? '';
  const path = (req.url ?? '/').split('?')[0]!;
  seen.push(`${host}${req.url}`);
  if (host === 'modules-a' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page());
    return;
  }
  const body = modules[`${host}${path}`];
  if (!body) {
    res.writeHead(404);
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'text/javascript', 'access-control-allow-origin': '*', etag: '"v1"' };
  if (path === '/gzip.js') {
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip' });
    res.end(gzipSync(body()));
    return;
  }
  res.writeHead(200, headers);
  res.end(body());
});

const EXPECTED = {
  fromStatic: 'static+A',
  reexported: 'reexported',
  literal: 'dynamic',
  computed: 'computed',
  viaMap: 'lib via import map',
  viaMapPrefix: 'prefix via import map',
  inline: 'inline',
  zipped: 'gzip+dynamic',
  classic: 'from a classic script',
};

async function load(url: string) {
  const p = await newParticipant(env.browser);
  const requested: string[] = [];
  p.page.on('request', (r) => requested.push(r.url()));
  await p.page.goto(url);
  await expect.poll(() => p.page.evaluate(() => Object.keys((window as unknown as { results: object }).results).length), { timeout: 10_000 }).toBe(12);
  const state = await p.page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    return { results: w.results as Record<string, string>, checked: w.checked, tampered: w.tampered, tamperedError: w.tamperedError, host: location.host };
  });
  await p.context.close();
  return { ...state, requested, errors: p.errors };
}

describe('ES modules through the gateway', () => {
  it('imports of an allowed origin by absolute URL run through the gateway; imports of another origin fail; integrity is checked', async () => {
    const direct = await load(`${a()}/`);
    expect(direct.results).toMatchObject({ ...EXPECTED, blockedLiteral: 'loaded:evil', blockedComputed: 'loaded:evil' });
    expect(direct).toMatchObject({ checked: 'ran:dynamic', tampered: undefined, tamperedError: true });

    seen.length = 0;
    const session = await createSession(env.t, `${a()}/`);
    const proxied = await load(session.hostUrl);
    expect(proxied.results).toMatchObject({ ...EXPECTED, blockedLiteral: 'failed', blockedComputed: 'failed' });
    expect(proxied).toMatchObject({ checked: 'ran:dynamic', tampered: undefined, tamperedError: true });
    // The module's URL is its proxied one (relative URLs resolve there).
    expect(proxied.host).toMatch(/^o1--/);
    expect(new URL(proxied.results.meta!).host).toBe(proxied.host);

    // Every request of the browser went to the gateway's hosts, none to A, B or C directly.
    const gatewayHost = new URL(env.t.gateway.url).hostname;
    const offGateway = proxied.requested.filter((u) => {
      const host = new URL(u).hostname;
      return host !== gatewayHost && !host.endsWith(`.${gatewayHost}`);
    });
    expect(offGateway).toEqual([]);
    expect(proxied.requested.some((u) => u.includes('/blocked?url=') && u.includes('modules-c'))).toBe(true);
    // The sites saw their own URLs (B's modules, fetched by the gateway), C nothing, and no gateway marker.
    expect(seen).toEqual(
      expect.arrayContaining(['modules-b/static.js', 'modules-b/computed.js', 'modules-b/real/x.js', 'modules-a/from-a.js', 'modules-b/checked.js']),
    );
    expect(seen.filter((s) => s.startsWith('modules-c'))).toEqual([]);
    expect(seen.filter((s) => s.includes('__cobrowse'))).toEqual([]);
    expect(env.t.logs.some((l) => l.msg === 'script refused: integrity' && l.sessionId === session.id)).toBe(true);
  });
});
