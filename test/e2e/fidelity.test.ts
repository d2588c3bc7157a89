// Mirror fidelity for what plain DOM diffs miss: shadow roots, iframes, canvas, media, CSSOM,
// adopted sheets, inner scroll, selection and focus, on the demo's /widgets page.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMirror, launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let browser: Browser;
let host: Page;
let follower: Page;

beforeAll(async () => {
  t = await startTestGateway();
  browser = await launchBrowser();
  const session = await createSession(t, `${t.demoOrigin}/widgets`);
  host = (await newParticipant(browser)).page;
  await host.goto(session.hostUrl);
  follower = (await newParticipant(browser)).page;
  await follower.goto(session.joinUrl);
  for (let i = 0; i < 100 && !(await inMirror(follower, `doc.getElementById('selectable') !== null`)); i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('mirror fidelity', () => {
  it('mirrors an open shadow root and changes inside it', async () => {
    await expect.poll(() => inMirror(follower, `doc.getElementById('shadow-host').shadowRoot?.getElementById('in-shadow')?.textContent`)).toBe('Inside shadow');
    expect(await inMirror(follower, `getComputedStyle(doc.getElementById('shadow-host').shadowRoot.getElementById('in-shadow')).color`)).toBe('rgb(0, 0, 200)');
    await host.click('#shadow-add');
    await host.click('#shadow-add');
    await expect.poll(() => inMirror(follower, `doc.getElementById('shadow-host').shadowRoot.getElementById('shadow-list').children.length`)).toBe(2);
  });

  it('mirrors a same-origin iframe and changes inside it', async () => {
    const frameText = `doc.getElementById('frame').contentDocument?.getElementById('in-frame')?.textContent`;
    await expect.poll(() => inMirror(follower, frameText)).toBe('Inside the frame');
    await host.frameLocator('#frame').locator('#frame-button').click();
    await expect.poll(() => inMirror(follower, frameText)).toBe('Changed inside the frame');
    // The mirrored frame is filled from the host's DOM, never loaded from the site.
    expect(await inMirror(follower, `doc.getElementById('frame').getAttribute('src')`)).toBeNull();
  });

  it('mirrors canvas frames', async () => {
    const pixel = (x: number) =>
      inMirror<number[]>(follower, `Array.from(doc.getElementById('canvas').getContext('2d').getImageData(${x}, 30, 1, 1).data.slice(0, 3))`);
    // Frames travel as lossy WebP: colours come back within a few units.
    const near = (a: number[], b: number[]) => a.length === 3 && a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= 8);
    await expect.poll(async () => near(await pixel(100), [255, 0, 0]), { timeout: 5000 }).toBe(true);
    await host.click('#draw');
    await expect.poll(async () => near(await pixel(10), [0, 0, 255]), { timeout: 5000 }).toBe(true);
  });

  it('mirrors media state: play, pause and position within 0.5 s', async () => {
    const paused = () => inMirror<boolean>(follower, `doc.getElementById('audio').paused`);
    await host.evaluate(() => (document.getElementById('audio') as HTMLAudioElement).play());
    await expect.poll(paused, { timeout: 5000 }).toBe(false);
    await new Promise((r) => setTimeout(r, 700));
    await host.evaluate(() => (document.getElementById('audio') as HTMLAudioElement).pause());
    await expect.poll(paused).toBe(true);
    const hostTime = await host.evaluate(() => (document.getElementById('audio') as HTMLAudioElement).currentTime);
    expect(hostTime).toBeGreaterThan(0.3);
    await expect.poll(async () => Math.abs((await inMirror<number>(follower, `doc.getElementById('audio').currentTime`)) - hostTime)).toBeLessThanOrEqual(0.5);
  });

  it('mirrors CSS changed through the CSSOM and adopted style sheets', async () => {
    const color = () => inMirror(follower, `getComputedStyle(doc.getElementById('dyn-text')).color`);
    const background = () => inMirror(follower, `getComputedStyle(doc.getElementById('adopted-text')).backgroundColor`);
    await expect.poll(background).toBe('rgb(0, 128, 0)');
    await host.click('#add-rule');
    await expect.poll(color).toBe('rgb(200, 0, 0)');
    await host.click('#adopt');
    await expect.poll(background).toBe('rgb(255, 165, 0)');
  });

  it('mirrors the scroll of an inner scroll container, the selection and the focus', async () => {
    await host.evaluate(() => {
      (document.getElementById('inner-scroll') as HTMLElement).scrollTop = 150;
    });
    await expect.poll(() => inMirror(follower, `doc.getElementById('inner-scroll').scrollTop`)).toBe(150);

    await host.evaluate(() => {
      const p = document.getElementById('selectable') as HTMLElement;
      const range = document.createRange();
      range.selectNodeContents(p);
      const sel = document.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
    });
    await expect.poll(() => inMirror(follower, `doc.getSelection().toString()`)).toBe('Select this text');

    await host.focus('#focus-me');
    await expect.poll(() => follower.evaluate(() => (document.getElementById('cobrowse-focus') as HTMLElement).hidden)).toBe(false);
    await host.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await expect.poll(() => follower.evaluate(() => (document.getElementById('cobrowse-focus') as HTMLElement).hidden)).toBe(true);
  });

  it('a follower whose mirror diverged from the host page notices it and resyncs', async () => {
    await inMirror(follower, `doc.getElementById('selectable').remove()`);
    expect(await inMirror(follower, `doc.getElementById('selectable')`)).toBeNull();
    await expect.poll(() => inMirror(follower, `doc.getElementById('selectable')?.textContent`), { timeout: 10_000 }).toBe('Select this text');
  });

  it('a controller types into a contenteditable element; the edit is made in the host page', async () => {
    const mirror = follower.frameLocator('#cobrowse-mirror');
    await mirror.locator('#editor').click();
    await follower.keyboard.type(' and more', { delay: 120 });
    await expect.poll(() => host.textContent('#editor')).toBe('Edit me and more');
    await follower.keyboard.press('Backspace');
    await expect.poll(() => host.textContent('#editor')).toBe('Edit me and mor');
    await expect.poll(() => inMirror(follower, `doc.getElementById('editor').textContent`)).toBe('Edit me and mor');
  });

  it('a controller composes text with an input method (IME) in a contenteditable element', async () => {
    const mirror = follower.frameLocator('#cobrowse-mirror');
    await mirror.locator('#editor').click();
    await follower.keyboard.press('End');
    const before = (await host.textContent('#editor')) ?? '';
    const cdp = await follower.context().newCDPSession(follower);
    await cdp.send('Input.imeSetComposition', { text: 'に', selectionStart: 1, selectionEnd: 1 });
    await cdp.send('Input.imeSetComposition', { text: 'にほ', selectionStart: 2, selectionEnd: 2 });
    await cdp.send('Input.insertText', { text: '日本' });
    await expect.poll(() => host.textContent('#editor')).toBe(`${before}日本`);
    await expect.poll(() => inMirror(follower, `doc.getElementById('editor').textContent`)).toBe(`${before}日本`);
  });
});
