// Real Chromium through playwright-core, with the flags this machine needs.

import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { CHROMIUM_FLAGS } from './chromium-flags.js';

/** Where the test command expects Chromium (Debian's package). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium; fails with the exact install line when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: run "apt-get install -y chromium" (npm test does this when run as root).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS],
  });
}

/** A fresh browser profile (its own cookies) with one page, errors collected. */
export async function newParticipant(
  browser: Browser,
  viewport = { width: 1100, height: 800 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

/** Opens `url` in a fresh browser profile and returns what `expression` evaluates to there (awaited); the profile is closed after. */
export async function evaluateAt<T = unknown>(browser: Browser, url: string, expression: string): Promise<T> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    return (await page.evaluate(expression)) as T;
  } finally {
    await context.close();
  }
}

/**
 * Opens `url` in a fresh browser profile, waits until `until` is true there (when given), and
 * returns what `read` evaluates to; fails when the page threw. The profile is closed after.
 */
export async function pageReading<T = unknown>(browser: Browser, url: string, read: string, until?: string): Promise<T> {
  const { context, page, errors } = await newParticipant(browser);
  try {
    await page.goto(url);
    if (until !== undefined) await page.waitForFunction(until, undefined, { timeout: 10_000 });
    const value = (await page.evaluate(read)) as T;
    if (errors.length > 0) throw new Error(`the page at ${url} threw: ${errors.join('; ')}`);
    return value;
  } finally {
    await context.close();
  }
}

/** Waits until the follower's mirror shows the host page's normalized body. */
export async function converge(follower: Page, host: Page, timeout = 10_000): Promise<void> {
  // Both sides are read again each time: a host page that is still loading (a new host after the
  // role passed on) has no final body yet.
  await expect
    .poll(
      async () => {
        const [mirrored, expected] = await Promise.all([mirrorBody(follower), hostBody(host)]);
        return mirrored === expected && expected !== '' ? 'same' : `mirror ${mirrored.slice(0, 200)} / host ${expected.slice(0, 200)}`;
      },
      { timeout },
    )
    .toBe('same');
}

/**
 * The normalized markup of the host page's <body>: scripts and gateway-owned nodes removed, and
 * what the demo site's masking rules hide (hidden, password and cc-* values, `.private` text)
 * replaced the same way on both sides.
 */
export function hostBody(page: Page): Promise<string> {
  return page.evaluate(`(${normalizeSource})(document)`);
}

/** Records every WebSocket frame a page sends or receives (payloads as text). */
export function recordFrames(page: Page, into: string[]): void {
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => into.push(String(f.payload)));
    ws.on('framereceived', (f) => into.push(String(f.payload)));
  });
}

/** Evaluates `expression` with `doc` bound to a follower's mirror document (read from the view page: the frame runs no script). */
export function inMirror<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(`(() => { const doc = document.getElementById('cobrowse-mirror').contentDocument; return (${expression}); })()`);
}

/** Applies the function source `read` (`(doc) => ...`) to a follower's mirror document; null while the mirror has no body. */
export function readMirror<T>(page: Page, read: string): Promise<T> {
  return inMirror<T>(page, `(!doc || !doc.body) ? null : (${read})(doc)`);
}

/** The same normalized markup read from the follower's mirror frame (read from the parent page: the frame runs no script). */
export function mirrorBody(page: Page): Promise<string> {
  return page.evaluate(`(${normalizeSource})(document.getElementById('cobrowse-mirror').contentDocument)`);
}

const normalizeSource = `(doc) => {
  if (!doc || !doc.body) return '';
  const body = doc.body.cloneNode(true);
  for (const el of body.querySelectorAll('script, [data-cobrowse]')) el.remove();
  for (const el of body.querySelectorAll('input[type=hidden], input[type=password], [autocomplete^=cc-]')) el.setAttribute('value', '(masked)');
  for (const el of body.querySelectorAll('.private')) {
    const walker = el.ownerDocument.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    // As inject/masking.ts maskedText: one placeholder per text node, its end white space kept as one space.
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const v = n.nodeValue;
      if (/\\S/.test(v)) n.nodeValue = (/^\\s/.test(v) ? ' ' : '') + '••••••••' + (/\\s$/.test(v) ? ' ' : '');
    }
  }
  return body.innerHTML.replace(/\\s+/g, ' ').trim();
}`;
