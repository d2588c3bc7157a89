// /__cobrowse/cookies answers only its own page's runtime, in real Chromium (from a security
// review). Every proxied host is the same site to the browser and the participant cookie is
// SameSite=Lax, so a page of allowed site A sends B's proxied host that cookie with its requests.
// Before, A's page could write into B's jar (a no-cors POST, a form: login CSRF, session
// fixation) and read B's script-visible cookies (a <script src> ran `n=12345` as JavaScript).
// Two allowed sites of two registrable domains (site-a.localhost, site-b.localhost); B's own page
// keeps its document.cookie.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { cookieNames, html, pixel, requestTag, useTwoDomains } from '../helpers/two-domains.js';

const a = () => env.sites.a();
const b = () => env.sites.b();

/** Cookie names B received, by the `tag` of the request. */
const seen = new Map<string, string[]>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const { host, url, tag } = requestTag(req);
  if (host === 'site-b.localhost' && tag !== null) seen.set(tag, cookieNames(req.headers.cookie));
  req.resume();
  req.on('end', () => {
    if (host === 'site-a.localhost' && url.pathname === '/page') return html(res, '<p id="a-page">A</p>');
    if (host !== 'site-b.localhost') return res.writeHead(404).end();
    switch (url.pathname) {
      case '/set':
        return html(res, `<p id="set">cookies set</p><a id="to-a" href="${a()}/page">to A</a>`, {
          'set-cookie': ['n=12345; SameSite=Strict; Path=/', 'auth=SECRET; HttpOnly; Path=/'],
        });
      case '/page':
        return html(res, '<p id="b-page">B</p>');
      case '/pixel.png':
        return pixel(res);
      default:
        return res.writeHead(404).end();
    }
  });
}

const env = useTwoDomains(serve);

async function tagged(tag: string): Promise<string[]> {
  await expect.poll(() => seen.has(tag), { timeout: 10_000 }).toBe(true);
  return seen.get(tag) ?? [];
}

/** The host signed in at B (its cookies in the jar), then on a page of A: B's proxied origin and the page. */
async function hostOnA(): Promise<{ page: Page; errors: string[]; bProxied: string; close: () => Promise<void> }> {
  const session = await createSession(env.t, `${b()}/set`);
  const host = await newParticipant(env.browser);
  await host.page.goto(session.hostUrl);
  await host.page.waitForSelector('#set');
  const bProxied = new URL(host.page.url()).origin;
  await Promise.all([host.page.waitForSelector('#a-page'), host.page.click('#to-a')]);
  expect(new URL(host.page.url()).origin).not.toBe(bProxied);
  return { page: host.page, errors: host.errors, bProxied, close: () => host.context.close() };
}

/**
 * What the gateway answered for /__cobrowse/cookies from now on (its access log: statuses), and
 * the bodies of those answers Chromium let Playwright see (none when CORP or ORB dropped them).
 */
function watchCookieEndpoint(page: Page, bProxied: string): { statuses: () => unknown[]; bodies: string[] } {
  const mark = env.t.logs.length;
  const bodies: string[] = [];
  page.on('response', async (response) => {
    if (!response.url().startsWith(`${bProxied}/__cobrowse/cookies`)) return;
    try {
      bodies.push(await response.text());
    } catch {
      // No body kept: nothing of it reached the page either.
    }
  });
  return {
    statuses: () =>
      env.t.logs
        .slice(mark)
        .filter((l) => l.path === '/__cobrowse/cookies')
        .map((l) => l.status),
    bodies,
  };
}

/** At least `count` refusals (403) and no answer with data (200) among `statuses`. */
function refusedAll(statuses: unknown[], count: number): boolean {
  return statuses.filter((s) => s === 403).length >= count && !statuses.includes(200);
}

describe("a page of site A against B's /__cobrowse/cookies", () => {
  it("cannot write into B's jar: a no-cors POST and a form POST store nothing, B's next request carries no injected cookie", async () => {
    seen.clear();
    const { page, bProxied, close } = await hostOnA();
    const answers = watchCookieEndpoint(page, bProxied);
    const endpoint = `${bProxied}/__cobrowse/cookies?path=/`;
    await page.evaluate(async (u) => {
      await fetch(u, { method: 'POST', mode: 'no-cors', credentials: 'include', body: 'injected=evil; path=/' }).catch(() => null);
    }, endpoint);
    // A form POST into a frame of A's page (text/plain: the body is `injected_form=evil; path=/`).
    await page.evaluate(async (u) => {
      const frame = document.createElement('iframe');
      frame.name = 'sink';
      document.body.append(frame);
      const form = document.createElement('form');
      form.method = 'POST';
      form.enctype = 'text/plain';
      form.action = u;
      form.target = 'sink';
      const input = document.createElement('input');
      input.name = 'injected_form';
      input.value = 'evil; path=/';
      form.append(input);
      document.body.append(form);
      const loaded = new Promise((r) => frame.addEventListener('load', r, { once: true }));
      form.submit();
      await loaded;
    }, endpoint);
    await expect.poll(() => answers.statuses().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const statuses = answers.statuses();
    // B's next request (through the gateway) and B's own document.cookie: nothing injected.
    await page.goto(`${bProxied}/page?tag=after-write`);
    await page.waitForSelector('#b-page');
    const next = await tagged('after-write');
    expect(next).toEqual(['auth', 'n']);
    expect(await page.evaluate(() => document.cookie)).toBe('n=12345');
    // Both reached the gateway with the participant cookie, and both were refused.
    expect(refusedAll(statuses, 2)).toBe(true);
    for (const body of answers.bodies) expect(body).not.toContain('12345');
    await close();
  });

  it("cannot read B's cookies: a script defines no global, no-cors fetch and image get nothing of the jar", async () => {
    const { page, bProxied, close } = await hostOnA();
    const answers = watchCookieEndpoint(page, bProxied);
    const endpoint = `${bProxied}/__cobrowse/cookies?path=/`;
    const script = await page.evaluate(async (u) => {
      const el = document.createElement('script');
      el.src = u;
      const done = new Promise<string>((r) => {
        el.onload = () => r('load');
        el.onerror = () => r('error');
      });
      document.head.append(el);
      const outcome = await done;
      return { outcome, n: (window as unknown as { n?: unknown }).n ?? null };
    }, endpoint);
    expect(script.n).toBeNull();
    expect(script.outcome).toBe('error');
    // Cross-Origin-Resource-Policy: same-origin: Chromium refuses the response to A's page.
    const fetched = await page.evaluate(async (u) => {
      try {
        const res = await fetch(u, { mode: 'no-cors', credentials: 'include' });
        return res.type;
      } catch {
        return 'refused';
      }
    }, endpoint);
    expect(fetched).toBe('refused');
    const img = await page.evaluate(async (u) => {
      const el = new Image();
      const done = new Promise<string>((r) => {
        el.onload = () => r('load');
        el.onerror = () => r('error');
      });
      el.src = u;
      return done;
    }, endpoint);
    expect(img).toBe('error');
    // What the gateway sent the browser for those three: a refusal, none of B's cookies.
    // The image errs on the old code too (a cookie list is no image): what tells is the gateway's answer.
    await expect.poll(() => answers.statuses().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(refusedAll(answers.statuses(), 3)).toBe(true);
    for (const body of answers.bodies) expect(body).not.toContain('12345');
    await close();
  });

  it("B's own page still reads and writes document.cookie (and B's next request has the cookie)", async () => {
    const { page, bProxied, errors, close } = await hostOnA();
    await page.goto(`${bProxied}/page`);
    await page.waitForSelector('#b-page');
    expect(await page.evaluate(() => document.cookie)).toBe('n=12345');
    expect(
      await page.evaluate(() => {
        document.cookie = 'own=1; path=/';
        return document.cookie;
      }),
    ).toBe('n=12345; own=1');
    await page.evaluate(async () => (await fetch('/pixel.png?tag=own-write', { credentials: 'include' })).ok);
    expect(await tagged('own-write')).toEqual(['auth', 'n', 'own']);
    expect(errors).toEqual([]);
    await close();
  });
});
