// Masking across the boundaries Element.closest() stops at, with real browsers in independent
// profiles (a host and followers): open shadow roots, same-origin frames and template contents
// inside a masked region, and password fields the site turns into text (show-password buttons).
// Every WebSocket frame the host sends and the followers receive is checked for the secrets.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { newParticipant, readMirror, recordFrames } from '../helpers/browser.js';
import { createSession, type TestGateway } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const MASKED = '••••••••';

const PAGE = `<!DOCTYPE html><html><head><title>masking boundaries</title></head><body>
<p id="plain">PLAIN-VISIBLE-TEXT</p><input id="plain-input" value="PLAIN-VISIBLE-VALUE">
<div class="secret"><x-card id="card"></x-card></div>
<div class="secret"><iframe id="frame" src="/inner"></iframe></div>
<div class="secret"><template id="tpl"><p>TEMPLATE-SECRET-31</p></template></div>
<input type="password" id="pw" value="hunter2pw"><button id="show" onclick="document.getElementById('pw').type='text'">show</button>
<input type="password" id="pw-empty"><button id="show-empty" onclick="document.getElementById('pw-empty').type='text'">show</button>
<script>
customElements.define('x-card', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<input id="ssn" value="SHADOW-SSN-123456"><span id="shadow-span">SHADOW-TEXT-SECRET</span>';
    root.append('SHADOW-BARE-TEXT');
  }
});
</script></body></html>`;

const INNER = `<!DOCTYPE html><html><head><title>inner</title></head><body>
<input id="inner" value="IFRAME-SECRET-77"><p id="inner-text">INNER-TEXT-SECRET</p></body></html>`;

function serve(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(req.url?.startsWith('/inner') ? INNER : PAGE);
}

const env = useOneSite(serve, { mask: ['.secret'] });
let t: TestGateway;
let browser: Browser;
let origin = '';
beforeAll(() => {
  ({ t, browser, origin } = env);
});

const mirrorValue = (page: Page, selector: string) => readMirror<string | null>(page, `(doc) => doc.querySelector(${JSON.stringify(selector)})?.value ?? null`);
const mirrorShadow = (page: Page, selector: string, prop: 'value' | 'textContent') =>
  readMirror<string | null>(page, `(doc) => doc.querySelector('#card')?.shadowRoot?.querySelector(${JSON.stringify(selector)})?.${prop} ?? null`);
const mirrorShadowText = (page: Page) => readMirror<string | null>(page, `(doc) => doc.querySelector('#card')?.shadowRoot?.textContent ?? null`);
const mirrorFrame = (page: Page, selector: string, prop: 'value' | 'textContent') =>
  readMirror<string | null>(page, `(doc) => doc.querySelector('#frame')?.contentDocument?.querySelector(${JSON.stringify(selector)})?.${prop} ?? null`);

/** A host on the test page and a follower whose mirror shows it; every frame of both recorded. */
async function share(): Promise<{ host: Page; follower: Page; frames: string[]; session: Awaited<ReturnType<typeof createSession>>; close(): Promise<void> }> {
  const frames: string[] = [];
  const session = await createSession(t, `${origin}/page`);
  const host = await newParticipant(browser);
  recordFrames(host.page, frames);
  await host.page.goto(session.hostUrl);
  await host.page.waitForFunction('window.__cobrowse !== undefined');
  const follower = await newParticipant(browser);
  recordFrames(follower.page, frames);
  await follower.page.goto(session.observeUrl);
  await expect.poll(() => mirrorValue(follower.page, '#plain-input'), { timeout: 10_000 }).toBe('PLAIN-VISIBLE-VALUE');
  return {
    host: host.page,
    follower: follower.page,
    frames,
    session,
    close: () => Promise.all([host.context.close(), follower.context.close()]).then(() => {}),
  };
}

/**
 * A last visible change, waited for in the mirror: the host's earlier changes were sent before it.
 * Then a late follower, replayed from the session's checkpoint.
 */
async function flushAndReplay(s: Awaited<ReturnType<typeof share>>): Promise<Page> {
  await s.host.fill('#plain-input', 'PLAIN-TYPED-OK');
  await expect.poll(() => mirrorValue(s.follower, '#plain-input')).toBe('PLAIN-TYPED-OK');
  const late = await newParticipant(browser);
  recordFrames(late.page, s.frames);
  await late.page.goto(s.session.observeUrl);
  await expect.poll(() => mirrorValue(late.page, '#plain-input'), { timeout: 10_000 }).toBe('PLAIN-TYPED-OK');
  return late.page;
}

function leaked(frames: string[], secrets: string[]): string[] {
  const all = frames.join('\n');
  // The recording works: unmasked text of the same page is in it.
  expect(all).toContain('PLAIN-VISIBLE-TEXT');
  expect(all).toContain('PLAIN-TYPED-OK');
  return secrets.filter((secret) => all.includes(secret));
}

describe('masking across shadow roots, frames, templates and revealed passwords', () => {
  it('an open shadow root inside a masked region is masked: field values, attributes and text, in snapshots and changes', async () => {
    const s = await share();
    // Sent, masked: the follower's mirror has the shadow root's nodes.
    await expect.poll(() => mirrorShadow(s.follower, '#ssn', 'value')).toBe(MASKED);
    expect(await mirrorShadow(s.follower, '#shadow-span', 'textContent')).toMatch(/^•+$/);
    expect(await mirrorShadowText(s.follower)).toContain('•');

    await s.host.locator('#card #ssn').pressSequentially('TYPED-SHADOW-9', { delay: 5 });
    await s.host.evaluate(() => {
      const root = document.getElementById('card')!.shadowRoot!;
      root.append('ADDED-SHADOW-TEXT');
      root.getElementById('shadow-span')!.textContent = 'CHANGED-SHADOW-TEXT';
      root.getElementById('ssn')!.setAttribute('placeholder', 'SHADOW-PLACEHOLDER-4');
    });
    const late = await flushAndReplay(s);
    await expect.poll(() => mirrorShadow(late, '#ssn', 'value')).toBe(MASKED);
    expect(await mirrorShadowText(late)).not.toContain('SHADOW');

    expect(
      leaked(s.frames, [
        'SHADOW-SSN-123456',
        'SHADOW-TEXT-SECRET',
        'SHADOW-BARE-TEXT',
        'TYPED-SHADOW-9',
        'ADDED-SHADOW-TEXT',
        'CHANGED-SHADOW-TEXT',
        'SHADOW-PLACEHOLDER-4',
      ]),
    ).toEqual([]);
    await s.close();
  });

  it('a same-origin frame inside a masked region is masked: its field values and text, in snapshots and changes', async () => {
    const s = await share();
    await expect.poll(() => mirrorFrame(s.follower, '#inner', 'value'), { timeout: 10_000 }).toBe(MASKED);
    expect(await mirrorFrame(s.follower, '#inner-text', 'textContent')).toMatch(/^•+$/);

    const frame = s.host.frameLocator('#frame');
    await frame.locator('#inner').fill('');
    await frame.locator('#inner').pressSequentially('TYPED-FRAME-8', { delay: 5 });
    await frame.locator('#inner-text').evaluate((p) => {
      p.textContent = 'CHANGED-FRAME-TEXT';
      p.ownerDocument.body.append(p.ownerDocument.createElement('b'));
      p.ownerDocument.querySelector('b')!.textContent = 'ADDED-FRAME-TEXT';
    });
    const late = await flushAndReplay(s);
    await expect.poll(() => mirrorFrame(late, '#inner', 'value'), { timeout: 10_000 }).toBe(MASKED);

    expect(leaked(s.frames, ['IFRAME-SECRET-77', 'INNER-TEXT-SECRET', 'TYPED-FRAME-8', 'CHANGED-FRAME-TEXT', 'ADDED-FRAME-TEXT'])).toEqual([]);
    await s.close();
  });

  it('template contents inside a masked region are masked', async () => {
    const s = await share();
    const late = await flushAndReplay(s);
    expect(await readMirror<string | null>(late, `(doc) => doc.querySelector('#tpl')?.content?.textContent ?? null`)).toMatch(/•/);
    expect(leaked(s.frames, ['TEMPLATE-SECRET-31'])).toEqual([]);
    await s.close();
  });

  it('a password field stays masked after the site turns it into a text field, also when it was empty then', async () => {
    const s = await share();
    await expect.poll(() => mirrorValue(s.follower, '#pw')).toBe(MASKED);
    // Shown: the next keystrokes change the (now text) field.
    await s.host.click('#show');
    await expect.poll(() => readMirror<string | null>(s.follower, `(doc) => doc.querySelector('#pw')?.type ?? null`)).toBe('text');
    await s.host.locator('#pw').pressSequentially('X', { delay: 5 });
    await s.host.fill('#plain-input', 'PLAIN-AFTER-SHOW');
    await expect.poll(() => mirrorValue(s.follower, '#plain-input')).toBe('PLAIN-AFTER-SHOW');
    expect(await mirrorValue(s.follower, '#pw')).toBe(MASKED);
    expect(
      s.frames.some((f) => f.includes('hunter2pw')),
      'the shown password was sent',
    ).toBe(false);
    // Shown while empty, then filled in.
    await s.host.click('#show-empty');
    await expect.poll(() => readMirror<string | null>(s.follower, `(doc) => doc.querySelector('#pw-empty')?.type ?? null`)).toBe('text');
    await s.host.locator('#pw-empty').pressSequentially('EMPTYPW-SECRET-5', { delay: 5 });
    await s.host.evaluate(() => (document.getElementById('pw-empty') as HTMLInputElement).setAttribute('value', 'EMPTYPW-ATTR-6'));
    await expect.poll(() => mirrorValue(s.follower, '#pw-empty')).toBe(MASKED);
    const late = await flushAndReplay(s);
    expect(await mirrorValue(late, '#pw')).toBe(MASKED);
    expect(await mirrorValue(late, '#pw-empty')).toBe(MASKED);

    expect(leaked(s.frames, ['hunter2pw', 'EMPTYPW-SECRET-5', 'EMPTYPW-ATTR-6'])).toEqual([]);
    await s.close();
  });
});
