// Inline scripts and import maps the gateway rewrites, under a page policy that allows them by
// hash, in real Chromium: the site's page is loaded directly and through the gateway, and the
// same scripts must run, the same be blocked, and (report-only) the same be reported. An inline
// module importing from another allowed origin has its specifier mapped, so its hash no longer
// matches; it runs through the gateway only because the site's policy allows its original text.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useNamedSites } from '../helpers/named-sites.js';

const a = () => env.origin('csp-a');
const b = () => env.origin('csp-b');

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

const LISTENER = `window.ran = []; window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + e.disposition));`;
const importMap = () => JSON.stringify({ imports: { lib: `${b()}/lib.js` } });
const allowedModule = () => `\nimport { v } from "${b()}/m.js";\nimport { l } from "lib";\nwindow.ran.push('module:' + v + l);\n`;
const allowedClassic = () => `import("${b()}/m.js").then((m) => window.ran.push('classic:' + m.v));`;
const blockedClassic = () => `import("${b()}/m.js").then(() => window.ran.push('blocked import'));`;
const BLOCKED_PLAIN = `window.ran.push('blocked plain');`;
const DONE = `window.ran.push('done');`;

function page(): string {
  return `<!DOCTYPE html><html><head><title>csp</title>
<script>${LISTENER}</script>
<script type="importmap">${importMap()}</script>
<script type="module">${allowedModule()}</script>
<script>${allowedClassic()}</script>
<script>${blockedClassic()}</script>
<script>${BLOCKED_PLAIN}</script>
<script src="/done.js"></script>
</head><body><p>csp</p></body></html>`;
}

function policy(): string {
  const hashes = [LISTENER, importMap(), allowedModule(), allowedClassic()].map(sha256).join(' ');
  return `script-src 'self' ${b()} ${hashes}`;
}

const env = useNamedSites(['csp-a', 'csp-b'], (req, res) => {
  const host = (req.headers.host ?? '').split('.')[0] ?? '';
  const path = (req.url ?? '/').split('?')[0]!;
  if (host === 'csp-a' && (path === '/enforced' || path === '/report-only')) {
    const name = path === '/enforced' ? 'content-security-policy' : 'content-security-policy-report-only';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', [name]: policy() });
    res.end(page());
    return;
  }
  const js: Record<string, string> = {
    'csp-a/done.js': DONE,
    'csp-b/m.js': `export const v = 'B';`,
    'csp-b/lib.js': `export const l = '+lib';`,
  };
  const body = js[`${host}${path}`];
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' });
  res.end(body);
});

/** What ran and what was reported (only the site's inline scripts: `inline` violations). */
async function load(url: string): Promise<{ ran: string[]; violations: string[] }> {
  const p = await newParticipant(env.browser);
  await p.page.goto(url);
  await expect
    .poll(() => p.page.evaluate(() => (window as unknown as { ran?: string[] }).ran ?? []), { timeout: 10_000 })
    .toEqual(expect.arrayContaining(['done', 'module:B+lib', 'classic:B']));
  // The blocked import() would have come in by now (its module is served at once).
  await p.page.waitForTimeout(300);
  const state = await p.page.evaluate(() => {
    const w = window as unknown as { ran: string[]; violations: string[] };
    return { ran: [...w.ran].sort(), violations: w.violations.filter((v) => v.includes(' inline ')).sort() };
  });
  await p.context.close();
  return state;
}

describe('inline scripts the gateway rewrites, under a policy with hashes', () => {
  it('enforced: the hash-allowed module (importing from another allowed origin), import map and classic script run; the others stay blocked', async () => {
    const direct = await load(`${a()}/enforced`);
    expect(direct.ran).toEqual(['classic:B', 'done', 'module:B+lib']);
    expect(direct.violations).toEqual(['script-src-elem inline enforce', 'script-src-elem inline enforce']);
    const session = await createSession(env.t, `${a()}/enforced`);
    const proxied = await load(session.hostUrl);
    expect(proxied).toEqual(direct);
  });

  it('report-only: everything runs, and only what the site’s policy would report is reported', async () => {
    const direct = await load(`${a()}/report-only`);
    expect(direct.ran).toEqual(['blocked import', 'blocked plain', 'classic:B', 'done', 'module:B+lib']);
    expect(direct.violations).toEqual(['script-src-elem inline report', 'script-src-elem inline report']);
    const session = await createSession(env.t, `${a()}/report-only`);
    const proxied = await load(session.hostUrl);
    expect(proxied).toEqual(direct);
  });
});
