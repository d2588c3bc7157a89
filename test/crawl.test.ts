// Issue 3, crawl: a generated site of 300 pages on two allowed origins (plus their stylesheets and
// redirects) is crawled through the gateway from Node, as the host participant. Every URL in every
// response (HTML attributes, srcset, srcdoc, inline and linked CSS, Location, Link,
// Content-Location, Refresh) must resolve to the gateway: a proxied host of the session, or the
// "not allowed" page for the origin outside the allowlist; no real origin is left anywhere. The
// URLs are found by this file's own small extractor, not by the gateway's rewriter.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRAWL_PAGES, CRAWL_STYLESHEETS, type CrawlSite, startCrawlSite } from './fixtures/crawl-site.js';
import { createSession, startTestGateway, type TestGateway, type TestResponse } from './helpers/gateway.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

let site: CrawlSite;
let t: TestGateway;
let redis: TestRedis | null = null;

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|quot|amp|lt|gt|apos);/gi, (_, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)));
    return { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" }[lower] ?? '';
  });
}

function cssUnescape(s: string): string {
  return s.replace(/\\([0-9a-f]{1,6})\s?|\\(.)/gi, (_, hex: string | undefined, ch: string | undefined) =>
    hex ? String.fromCodePoint(Number.parseInt(hex, 16)) : (ch ?? ''),
  );
}

type Found = [kind: string, url: string];

/** URLs in CSS: url(), @import strings, image-set() strings. */
function cssUrls(css: string, kind: string): Found[] {
  const out: Found[] = [];
  for (const m of css.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/gi)) out.push([`${kind}:url`, cssUnescape(m[1] ?? m[2] ?? m[3] ?? '')]);
  for (const m of css.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) out.push([`${kind}:import`, cssUnescape(m[1] ?? m[2] ?? '')]);
  for (const m of css.matchAll(/image-set\(([^;]*)\)/gi))
    for (const s of (m[1] ?? '').matchAll(/(?:^|,)\s*"([^"]*)"/g)) out.push([`${kind}:image-set`, s[1] ?? '']);
  return out;
}

const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'data', 'background', 'xlink:href']);

/** URLs in HTML (and the <base href> that relative ones resolve against). */
function htmlUrls(html: string): { found: Found[]; base: string | null } {
  const found: Found[] = [];
  let base: string | null = null;
  const text = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|textarea|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
  for (const m of text.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)) found.push(...cssUrls(m[1] ?? '', 'style'));
  for (const tag of text.matchAll(/<([a-z][^\s/>]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/gi)) {
    const name = (tag[1] ?? '').toLowerCase();
    const attrs = new Map<string, string>();
    for (const a of (tag[2] ?? '').matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
      const key = (a[1] ?? '').toLowerCase();
      if (!attrs.has(key)) attrs.set(key, decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''));
    }
    for (const [key, value] of attrs) {
      if (URL_ATTRS.has(key) && value !== '') found.push([`${name}@${key}`, value]);
      else if (key === 'srcset' || key === 'imagesrcset') for (const c of value.split(',')) found.push([`${name}@${key}`, c.trim().split(/\s+/)[0] ?? '']);
      else if (key === 'ping') for (const u of value.split(/\s+/).filter(Boolean)) found.push([`${name}@ping`, u]);
      else if (key === 'style') found.push(...cssUrls(value, 'style-attr'));
      else if (key === 'srcdoc') found.push(...htmlUrls(value).found.map(([k, u]): Found => [`srcdoc>${k}`, u]));
      else if (key === 'content' && /refresh/i.test(attrs.get('http-equiv') ?? '')) found.push(['meta-refresh', /url\s*=\s*(.*)$/i.exec(value)?.[1] ?? '']);
    }
    if (name === 'base' && attrs.has('href')) base ??= attrs.get('href') ?? null;
  }
  return { found, base };
}

/** URLs in the response headers that carry them. */
function headerUrls(res: TestResponse): Found[] {
  const out: Found[] = [];
  const one = (name: string) => (res.headers[name] === undefined ? [] : [res.headers[name]].flat().map(String));
  for (const v of one('location')) out.push(['header:location', v]);
  for (const v of one('content-location')) out.push(['header:content-location', v]);
  for (const v of one('refresh')) out.push(['header:refresh', /url\s*=\s*(.*)$/i.exec(v)?.[1] ?? '']);
  for (const v of one('link')) for (const m of v.matchAll(/<([^>]*)>/g)) out.push(['header:link', m[1] ?? '']);
  return out;
}

/** A real origin written anywhere a browser would read a URL (comments and script text taken out). */
const REAL_HOST = /\/\/crawl-[abx]\.localhost/i;

// Both back ends: origin labels are o1, o2 in memory and derived from the origin (h...) with Redis.
describe.each(['memory', 'redis'] as const)('crawl through the gateway (%s state)', (backend) => {
  beforeAll(async () => {
    site = await startCrawlSite();
    if (backend === 'redis') redis = await startTestRedis();
    t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: site.a }, { url: site.b }], ...(redis ? { redis: redis.url } : {}) });
  });

  afterAll(async () => {
    await t?.close();
    await site?.close();
    await redis?.close();
    redis = null;
  });

  it('every URL in every response of a 300-page site resolves to the gateway', async () => {
    const session = await createSession(t, `${site.a}/p/0`);
    const host = await t.join(session.hostUrl);
    expect(new URL(host.proxiedOrigin).hostname.split('--')[0]).toMatch(backend === 'redis' ? /^h[a-z2-7]{10}$/ : /^o1$/);
    const gateway = new URL(t.gateway.url);
    const proxiedHost = new RegExp(`^([a-z0-9]+)--${session.id}\\.${gateway.hostname.replace(/\./g, '\\.')}:${gateway.port}$`);
    const start = `${host.proxiedOrigin}/p/0`;
    const queue = [start];
    const seen = new Set(queue);
    const kinds = new Map<string, number>();
    const problems: string[] = [];
    let fetched = 0;
    let blocked = 0;

    const check = (from: string, kind: string, raw: string, base: string) => {
      let url: URL;
      try {
        url = new URL(raw.trim(), base);
      } catch {
        problems.push(`${from}: ${kind} ${raw} does not parse`);
        return;
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      if (url.host === gateway.host && url.pathname === '/blocked') {
        blocked++;
        if (new URL(url.searchParams.get('url') ?? '').host !== new URL(site.x).host)
          problems.push(`${from}: ${kind} ${raw} sends an allowed site to "not allowed"`);
        return;
      }
      const label = proxiedHost.exec(url.host)?.[1];
      if (label === undefined) {
        problems.push(`${from}: ${kind} ${raw} resolves to ${url.origin}, not to the gateway`);
        return;
      }
      const target = `${url.origin}${url.pathname}${url.search}`;
      if (/^\/(p|r|css)\//.test(url.pathname) && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    };

    const visit = async (url: string) => {
      const res = await t.call('GET', url, { headers: { cookie: host.cookie, accept: 'text/html,text/css,*/*' } });
      fetched++;
      for (const [kind, value] of headerUrls(res)) check(url, kind, value, url);
      for (const [name, value] of Object.entries(res.headers)) if (REAL_HOST.test(String(value))) problems.push(`${url}: header ${name} names a real origin`);
      const type = String(res.headers['content-type'] ?? '');
      const body = res.text.replace(/<!--[\s\S]*?-->/g, '').replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, '');
      if (REAL_HOST.test(body))
        problems.push(
          `${url}: the body names a real origin: ${REAL_HOST.exec(body)?.input.slice(Math.max(0, (REAL_HOST.exec(body)?.index ?? 0) - 80), (REAL_HOST.exec(body)?.index ?? 0) + 80)}`,
        );
      if (type.startsWith('text/html')) {
        const { found, base } = htmlUrls(res.text);
        const resolvedBase = base ? new URL(base, url).href : url;
        if (base) check(url, 'base@href', base, url);
        for (const [kind, value] of found) check(url, kind, value, resolvedBase);
      } else if (type.startsWith('text/css')) {
        for (const [kind, value] of cssUrls(res.text, 'css')) check(url, kind, value, url);
      }
    };

    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) await visit(next);
      }),
    );
    const ms = performance.now() - started;

    expect(problems.slice(0, 20)).toEqual([]);
    const pages = [...seen].filter((u) => /\/p\/\d+$/.test(new URL(u).pathname));
    expect(pages.length).toBeGreaterThanOrEqual(CRAWL_PAGES.a + CRAWL_PAGES.b);
    expect([...seen].filter((u) => /\/css\/\d+\.css$/.test(u)).length).toBe(2 * CRAWL_STYLESHEETS);
    // Every way of holding a URL was met, many times: the extractor found what the pages hold.
    for (const kind of [
      'a@href',
      'img@src',
      'img@srcset',
      'source@srcset',
      'link@imagesrcset',
      'link@href',
      'form@action',
      'button@formaction',
      'video@poster',
      'a@ping',
      'image@href',
      'a@xlink:href',
      'object@data',
      'table@background',
      'iframe@src',
      'srcdoc>a@href',
      'srcdoc>img@src',
      'style:url',
      'style-attr:url',
      'meta-refresh',
      'base@href',
      'css:url',
      'css:import',
      'css:image-set',
      'header:location',
      'header:link',
      'header:content-location',
      'header:refresh',
    ]) {
      expect(kinds.get(kind) ?? 0, kind).toBeGreaterThan(5);
    }
    expect(blocked).toBeGreaterThan(300);
    // The origin outside the allowlist never got a host of its own, and was never contacted.
    expect(
      t.gateway.context.registry
        .get(session.id)
        ?.origins.entries()
        .map(([, origin]) => origin),
    ).toEqual([site.a, site.b]);
    expect(site.received.filter((r) => r.startsWith('crawl-x.'))).toEqual([]);
    console.log(
      `crawl: ${fetched} responses, ${[...kinds.values()].reduce((a, b) => a + b, 0)} URLs checked, ${blocked} to "not allowed", in ${Math.round(ms)} ms`,
    );
  });
});
