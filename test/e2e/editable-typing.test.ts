// Typing into a contenteditable element of the host's page from a controller's mirror faster than
// the round trip, with two real browsers through a real gateway. The controller's socket gets
// every message from the hub 400 ms late (a slow link, or a loaded host), so each key is typed
// before the result of the one before it came back. The mirror took each edit's place from its
// own selection, which was still the one from before the previous key: " ok" reached the host as
// "okPay ... now " or "nowok " under load. Now an input that continues the participant's previous
// one goes where that one left their caret in the host's page, which moves with the page's own
// changes, and the caret keys (arrows, Home, End, with Shift and Ctrl, and select all) move that
// caret. While the participant edits an element, the host's caret elsewhere is not shown in their
// mirror (it took the mirror's focus, and the next keys, away from where they clicked).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const PAGE = `<!DOCTYPE html><html><head><title>editor</title>
<style>#editor, #other { font: 16px monospace; width: 600px; padding: 4px; border: 1px solid #888; }</style></head><body>
<div id="editor" contenteditable="true">Hello</div>
<div id="other" contenteditable="true">Other</div>
</body></html>`;

const env = useOneSite((_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(PAGE);
});

/** How late the controller gets each message of the hub. */
const LAG_MS = 400;

interface Shared {
  host: Page;
  controller: Page;
  contexts: BrowserContext[];
}

const mirrorText = (page: Page, id: string) =>
  page.evaluate(`document.getElementById('cobrowse-mirror')?.contentDocument?.getElementById(${JSON.stringify(id)})?.textContent ?? null`);

async function share(): Promise<Shared> {
  const session = await createSession(env.t, `${env.origin}/`);
  const host = await newParticipant(env.browser);
  await host.page.goto(session.hostUrl);
  const controller = await newParticipant(env.browser);
  // The hub's socket, with every message to the controller held LAG_MS (in order); what the controller sends goes at once.
  await controller.page.routeWebSocket(/\/__cobrowse\/ws$/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      setTimeout(() => ws.send(message), LAG_MS);
    });
  });
  await controller.page.goto(session.joinUrl);
  await expect.poll(() => mirrorText(controller.page, 'editor'), { timeout: 10_000 }).toBe('Hello');
  await controller.page.locator('#cobrowse-status').filter({ hasText: 'live' }).waitFor();
  return { host: host.page, controller: controller.page, contexts: [host.context, controller.context] };
}

/** Clicks the mirror's element `id` at `x` pixels from its left, in the middle of its first line. */
async function clickAt(page: Page, id: string, x: number): Promise<void> {
  await page
    .frameLocator('#cobrowse-mirror')
    .locator(`#${id}`)
    .click({ position: { x, y: 12 } });
}

const hostText = (s: Shared, id = 'editor') => s.host.textContent(`#${id}`);

describe('typing into a contenteditable element faster than the round trip', () => {
  it('every key lands after the one before it, and the mirrors end with what the host has', async () => {
    const s = await share();
    // Past the end of the text: the caret goes to its end.
    await clickAt(s.controller, 'editor', 500);
    await s.controller.keyboard.type(' world, typed fast', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('Hello world, typed fast');
    await s.controller.keyboard.press('Backspace');
    await s.controller.keyboard.press('Backspace');
    await s.controller.keyboard.type('ST', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('Hello world, typed faST');
    await expect.poll(() => mirrorText(s.controller, 'editor')).toBe('Hello world, typed faST');
    for (const c of s.contexts) await c.close();
  });

  it('caret keys move the controller’s caret in the host’s page: arrows, Home, End, Ctrl+arrows, Shift to select', async () => {
    const s = await share();
    await clickAt(s.controller, 'editor', 500);
    await s.controller.keyboard.type(' world', { delay: 25 });
    // Before "world", typed at once: the arrows are applied in the host's page, in order with the keys.
    for (let i = 0; i < 5; i++) await s.controller.keyboard.press('ArrowLeft');
    await s.controller.keyboard.type('big ', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('Hello big world');
    await s.controller.keyboard.press('Home');
    await s.controller.keyboard.type('>', { delay: 25 });
    await s.controller.keyboard.press('End');
    await s.controller.keyboard.type('<', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('>Hello big world<');
    // A word back, then the word selected with Shift and replaced.
    await s.controller.keyboard.press('ArrowLeft');
    await s.controller.keyboard.press('Control+ArrowLeft');
    await s.controller.keyboard.press('Control+Shift+ArrowRight');
    await s.controller.keyboard.type('wide', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('>Hello big wide<');
    // The host's page shows the controller's caret where it left it.
    await expect
      .poll(() => s.host.evaluate(() => [document.getSelection()?.anchorOffset, document.getSelection()?.isCollapsed]))
      .toEqual(['>Hello big wide'.length, true]);
    for (const c of s.contexts) await c.close();
  });

  it('the controller’s caret moves with the host page’s own changes around it; a click puts it where the click was', async () => {
    const s = await share();
    await clickAt(s.controller, 'editor', 500);
    await s.controller.keyboard.type(' there', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('Hello there');
    // The page's own script changes the text before the controller's caret (the host typing, or the site).
    await s.host.evaluate(() => (document.getElementById('editor')!.firstChild as Text).insertData(0, 'Oh, '));
    await s.controller.keyboard.type('!', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('Oh, Hello there!');
    // Once the mirror shows it, a click at the start of the text, then typing: the text goes where the click was.
    await expect.poll(() => mirrorText(s.controller, 'editor')).toBe('Oh, Hello there!');
    await clickAt(s.controller, 'editor', 1);
    await s.controller.keyboard.type('>', { delay: 25 });
    await expect.poll(() => hostText(s)).toBe('>Oh, Hello there!');
    // Another element, at once: a click there and typing go there, though the echoes of the host's
    // caret in the first one come after the click (shown, they took the mirror's focus back).
    await clickAt(s.controller, 'other', 500);
    await s.controller.keyboard.type(' one', { delay: 25 });
    await expect.poll(() => hostText(s, 'other')).toBe('Other one');
    expect(await hostText(s)).toBe('>Oh, Hello there!');
    // Select all in the mirror, then typing: it replaces what was selected.
    await s.controller.keyboard.press('Control+A');
    await s.controller.keyboard.type('new', { delay: 25 });
    await expect.poll(() => hostText(s, 'other')).toBe('new');
    for (const c of s.contexts) await c.close();
  });
});
