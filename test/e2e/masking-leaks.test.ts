// Ways masked content used to leave the host's browser, each closed, with a host and followers
// in real Chromium through the gateway: canvases in masked regions, cross-origin frames in them,
// attributes other than the few text ones, comments and style sheets, text lengths and word
// boundaries (and selection offsets in masked text), a masked text field's scroll, content that a
// class change puts in a masked region, and card numbers in page text. Every WebSocket frame the
// host sends and the followers receive is checked for the secrets; the mirrors for what they show.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newParticipant, readMirror, recordFrames } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const MASKED = '••••••••';
const PLAIN = '<p id="plain">PLAIN-VISIBLE-TEXT</p><input id="plain-input" value="PLAIN-VISIBLE-VALUE">';

const BODIES: Record<string, (frames: string) => string> = {
  '/canvas': () => `<canvas id="plain-canvas" width="40" height="20"></canvas>
<div class="secret"><canvas id="region-canvas" width="40" height="20"></canvas></div>
<canvas id="masked-canvas" class="secret" width="40" height="20"></canvas>
<script>
window.paint = (color) => { for (const id of ['plain-canvas', 'region-canvas', 'masked-canvas']) { const c = document.getElementById(id).getContext('2d'); c.fillStyle = color; c.fillRect(0, 0, 40, 20); } };
paint('rgb(255, 0, 0)');
</script>`,
  '/frames': (b) => `<div class="secret"><iframe id="masked-frame" src="${b}/inner?label=MASKED"></iframe></div>
<div id="wrap"><iframe id="plain-frame" src="${b}/inner?label=PLAIN"></iframe></div>`,
  '/attrs': () => `<a id="plain-link" href="/PLAIN-HREF">plain</a>
<div class="secret" id="attrs" data-region="DATA-REGION-SECRET">
<span id="s1" data-account="DATA-ATTR-SECRET" aria-description="ARIA-DESC-SECRET" aria-valuetext="ARIA-VALUETEXT-SECRET" title="TITLE-SECRET">x</span>
<a id="link" href="/acct/HREF-SECRET">y</a>
<img id="img" src="/img/IMG-SRC-SECRET.png" srcset="/img/SRCSET-SECRET.png 2x" alt="ALT-SECRET" width="10" height="10">
<x-balance id="bal" amount="CUSTOM-ATTR-SECRET"></x-balance>
<div id="bg" style="width: 10px; background-image: url(/img/STYLE-URL-SECRET.png)"></div>
<video id="vid" src="/v/VIDEO-SRC-SECRET.webm" poster="/v/POSTER-SECRET.png"></video>
<input type="checkbox" id="consent" checked><input type="radio" name="r" id="r1"><input type="radio" name="r" id="r2" checked>
</div>`,
  '/css':
    () => `<div class="secret" id="css-region"><!--COMMENT-SECRET--><style id="st">.q { color: rgb(1, 2, 3) } .q::after { content: "STYLE-TEXT-SECRET" }</style>
<p class="q" id="q">text</p><x-styled id="styled"></x-styled></div>
<script>
customElements.define('x-styled', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = '<b id="in">in</b>';
    const sheet = new CSSStyleSheet();
    sheet.replaceSync('b { color: rgb(4, 5, 6) } b::after { content: "ADOPTED-SECRET" }');
    root.adoptedStyleSheets = [sheet];
  }
});
</script>`,
  '/text': () => `<p class="secret" id="short">ab</p><p class="secret" id="long">John Smith 12,345.67</p>
<p class="secret" id="mixed">Name: <b>Jane</b> Doe</p>
<div class="secret"><textarea id="note" rows="2" cols="20"></textarea></div>`,
  '/later': () => `<div id="later"><p id="later-p">LATER-SECRET-TEXT</p><input id="later-input" value="LATER-SECRET-VALUE"></div>
<div id="vault"><p id="vault-p">VAULT-SECRET-TEXT</p></div>
<p id="moved">MOVED-SECRET-TEXT</p><div class="secret" id="target"></div>`,
  '/cards': () => `<p id="pan">Card 4111 1111 1111 1111, expires 12/29</p><textarea id="pan-note">4242 4242 4242 4242</textarea>
<p id="nums">Order 1234 5678, ref 2024</p><div id="editable" contenteditable="true">Pay 4111 1111 1111 1111 now</div>`,
};

let t: TestGateway;
let browser: Browser;
let aOrigin = '';
let bOrigin = '';

const siteA = createServer((req: IncomingMessage, res: ServerResponse) => {
  const body = BODIES[new URL(req.url ?? '/', 'http://x').pathname];
  res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
  res.end(body ? `<!DOCTYPE html><html><head><title>masking leaks</title></head><body>${PLAIN}\n${body(bOrigin)}</body></html>` : 'not found');
});
// Another site: its pages are cross-origin frames of site A's (the gateway gives it a host of its own).
const siteB = createServer((req: IncomingMessage, res: ServerResponse) => {
  const label = new URL(req.url ?? '/', 'http://x').searchParams.get('label') ?? '';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!DOCTYPE html><html><head><title>inner</title></head><body><p id="t">FRAME-TEXT-${label}</p><input id="i" value="FRAME-VALUE-${label}"></body></html>`,
  );
});
const listen = (server: typeof siteA): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  aOrigin = await listen(siteA);
  bOrigin = await listen(siteB);
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: aOrigin, mask: ['.secret', '.vault p'] }, { url: bOrigin }] });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  siteA.close();
  siteB.close();
});

const mirrorProp = (page: Page, selector: string, prop: string) =>
  readMirror<unknown>(page, `(doc) => { const el = doc.querySelector(${JSON.stringify(selector)}); return el ? el[${JSON.stringify(prop)}] : undefined; }`);
const mirrorText = (page: Page, selector: string) => mirrorProp(page, selector, 'textContent');
const mirrorAttrs = (page: Page, selector: string) =>
  readMirror<string[] | null>(
    page,
    `(doc) => { const el = doc.querySelector(${JSON.stringify(selector)}); return el ? el.getAttributeNames().sort() : null; }`,
  );
/** The text of a mirrored frame's body, or null when the mirror's frame has no document content. */
const mirrorFrameText = (page: Page, selector: string) =>
  readMirror<string | null>(page, `(doc) => doc.querySelector(${JSON.stringify(selector)})?.contentDocument?.body?.textContent ?? null`);

interface Shared {
  host: Page;
  follower: Page;
  frames: string[];
  session: Awaited<ReturnType<typeof createSession>>;
  close(): Promise<void>;
}

/** A host on one of site A's pages and a follower whose mirror shows it; every frame of both recorded. */
async function share(path: string): Promise<Shared> {
  const frames: string[] = [];
  const session = await createSession(t, `${aOrigin}${path}`);
  const host = await newParticipant(browser);
  recordFrames(host.page, frames);
  await host.page.goto(session.hostUrl);
  await host.page.waitForFunction('window.__cobrowse !== undefined');
  const follower = await newParticipant(browser);
  recordFrames(follower.page, frames);
  await follower.page.goto(session.observeUrl);
  await expect.poll(() => mirrorProp(follower.page, '#plain-input', 'value'), { timeout: 10_000 }).toBe('PLAIN-VISIBLE-VALUE');
  const contexts = [host.context, follower.context];
  return {
    host: host.page,
    follower: follower.page,
    frames,
    session,
    close: () => Promise.all(contexts.map((c) => c.close())).then(() => {}),
  };
}

/**
 * A last visible change, waited for in the mirror: the host's earlier changes were sent before it.
 * Then a late follower, replayed from the session's checkpoint.
 */
async function flushAndReplay(s: Shared, lateFrames: string[] = []): Promise<Page> {
  await s.host.fill('#plain-input', 'PLAIN-TYPED-OK');
  await expect.poll(() => mirrorProp(s.follower, '#plain-input', 'value')).toBe('PLAIN-TYPED-OK');
  const late = await newParticipant(browser);
  recordFrames(late.page, s.frames);
  recordFrames(late.page, lateFrames);
  await late.page.goto(s.session.observeUrl);
  await expect.poll(() => mirrorProp(late.page, '#plain-input', 'value'), { timeout: 10_000 }).toBe('PLAIN-TYPED-OK');
  const close = s.close;
  s.close = () => Promise.all([close(), late.context.close()]).then(() => {});
  return late.page;
}

function leaked(frames: string[], secrets: string[]): string[] {
  const all = frames.join('\n');
  // The recording works: unmasked text of the same page is in it.
  expect(all).toContain('PLAIN-VISIBLE-TEXT');
  expect(all).toContain('PLAIN-TYPED-OK');
  return secrets.filter((secret) => all.includes(secret));
}

interface WireNode {
  t: string;
  id: number;
  a?: Record<string, string>;
  c?: WireNode[];
}

/** The element with this id attribute in the first snapshot the recorded frames carry. */
function snapshotNode(frames: string[], elementId: string): WireNode {
  for (const frame of frames) {
    const message = JSON.parse(frame) as { type?: string; tree?: WireNode };
    if (message.type !== 'snapshot' || !message.tree) continue;
    const stack = [message.tree];
    for (let node = stack.pop(); node; node = stack.pop()) {
      if (node.t === 'el' && node.a?.id === elementId) return node;
      stack.push(...(node.c ?? []));
    }
  }
  throw new Error(`no #${elementId} in a snapshot`);
}

const snapshotId = (frames: string[], elementId: string) => snapshotNode(frames, elementId).id;

/** The mutations of one kind the recorded frames carry. */
function mutations(frames: string[], kind: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const frame of frames) {
    const message = JSON.parse(frame) as { type?: string; batch?: Record<string, unknown>[] };
    if (message.type === 'mutations') out.push(...(message.batch ?? []).filter((m) => m.k === kind));
  }
  return out;
}

/** The colour of a mirrored canvas's first pixel (frames are lossy WebP: red, blue or other), or null while it is blank. */
const canvasColor = (page: Page, id: string) =>
  readMirror<string | null>(
    page,
    `(doc) => { const d = doc.getElementById(${JSON.stringify(id)}).getContext('2d').getImageData(0, 0, 1, 1).data; return d[3] === 0 ? null : d[0] > 200 && d[2] < 50 ? 'red' : d[2] > 200 && d[0] < 50 ? 'blue' : 'other'; }`,
  );

describe('masked content that used to leave the host', () => {
  it('a canvas in a masked region, or a masked canvas, is never read: the mirrors keep it blank, also after it is drawn again', async () => {
    const s = await share('/canvas');
    await expect.poll(() => canvasColor(s.follower, 'plain-canvas'), { timeout: 10_000 }).toBe('red');
    await s.host.evaluate(() => (window as unknown as { paint(c: string): void }).paint('rgb(0, 0, 255)'));
    await expect.poll(() => canvasColor(s.follower, 'plain-canvas'), { timeout: 10_000 }).toBe('blue');
    const late = await flushAndReplay(s);
    await expect.poll(() => canvasColor(late, 'plain-canvas'), { timeout: 10_000 }).toBe('blue');
    for (const page of [s.follower, late]) {
      expect(await canvasColor(page, 'region-canvas')).toBeNull();
      expect(await canvasColor(page, 'masked-canvas')).toBeNull();
    }
    const sent = new Set(mutations(s.frames, 'canvas').map((m) => m.id));
    expect(sent.has(snapshotId(s.frames, 'plain-canvas'))).toBe(true);
    expect(sent.has(snapshotId(s.frames, 'region-canvas'))).toBe(false);
    expect(sent.has(snapshotId(s.frames, 'masked-canvas'))).toBe(false);
    await s.close();
  });

  it('a cross-origin frame in a masked region sends nothing of its document; one that a class change puts in one stops, and comes back out of it', async () => {
    const s = await share('/frames');
    // Cross-origin frames are mirrored: the one outside the region shows.
    await expect.poll(() => mirrorFrameText(s.follower, '#plain-frame'), { timeout: 10_000 }).toBe('FRAME-TEXT-PLAIN');
    expect(await mirrorFrameText(s.follower, '#masked-frame')).toBeNull();
    await s.host.frameLocator('#masked-frame').locator('#i').pressSequentially('TYPED-IN-MASKED-FRAME', { delay: 5 });

    await s.host.evaluate(() => document.getElementById('wrap')!.classList.add('secret'));
    await expect.poll(() => mirrorFrameText(s.follower, '#plain-frame'), { timeout: 10_000 }).toBeNull();
    const plain = s.host.frameLocator('#plain-frame');
    await plain.locator('#i').pressSequentially('TYPED-AFTER-MASKED', { delay: 5 });
    await plain.locator('#t').evaluate((p) => {
      p.textContent = 'CHANGED-AFTER-MASKED';
    });
    const lateFrames: string[] = [];
    const late = await flushAndReplay(s, lateFrames);
    // The document it showed before is not in what a late follower replays.
    expect(lateFrames.join('\n')).not.toContain('FRAME-TEXT-PLAIN');
    expect(await mirrorFrameText(late, '#masked-frame')).toBeNull();
    expect(await mirrorFrameText(late, '#plain-frame')).toBeNull();
    expect(await mirrorFrameText(s.follower, '#plain-frame')).toBeNull();
    expect(leaked(s.frames, ['FRAME-TEXT-MASKED', 'FRAME-VALUE-MASKED', 'TYPED-IN-MASKED-FRAME', 'TYPED-AFTER-MASKED', 'CHANGED-AFTER-MASKED'])).toEqual([]);

    // Out of the region again: the frame's next change brings its document back.
    await s.host.evaluate(() => document.getElementById('wrap')!.classList.remove('secret'));
    await plain.locator('#t').evaluate((p) => {
      p.textContent = 'SHOWN-AGAIN';
    });
    await expect.poll(() => mirrorFrameText(s.follower, '#plain-frame'), { timeout: 10_000 }).toBe('SHOWN-AGAIN');
    await expect.poll(() => mirrorFrameText(late, '#plain-frame'), { timeout: 10_000 }).toBe('SHOWN-AGAIN');
    expect(await mirrorFrameText(s.follower, '#masked-frame')).toBeNull();
    await s.close();
  });

  it('in a masked region only layout attributes go out (text ones as the placeholder); which box is ticked does not', async () => {
    const s = await share('/attrs');
    await expect.poll(() => mirrorAttrs(s.follower, '#attrs')).toEqual(['class', 'id']);
    expect(await mirrorAttrs(s.follower, '#s1')).toEqual(['id', 'title']);
    expect(await mirrorProp(s.follower, '#s1', 'title')).toBe(MASKED);
    expect(await mirrorAttrs(s.follower, '#link')).toEqual(['id']);
    expect(await mirrorAttrs(s.follower, '#img')).toEqual(['alt', 'height', 'id', 'width']);
    expect(await mirrorAttrs(s.follower, '#bal')).toEqual(['id']);
    expect(await mirrorAttrs(s.follower, '#vid')).toEqual(['id']);
    expect(await readMirror(s.follower, `(doc) => doc.getElementById('bg').style.width`)).toBe('10px');
    expect(await mirrorProp(s.follower, '#consent', 'checked')).toBe(false);
    expect(await mirrorProp(s.follower, '#r2', 'checked')).toBe(false);
    // Outside the region nothing changes.
    expect(await readMirror(s.follower, `(doc) => doc.getElementById('plain-link').getAttribute('href')`)).toBe('/PLAIN-HREF');

    await s.host.evaluate(() => {
      document.getElementById('s1')!.setAttribute('data-later', 'DATA-LATER-SECRET');
      document.getElementById('link')!.setAttribute('href', '/acct/HREF-LATER-SECRET');
      document.getElementById('bal')!.setAttribute('amount', 'CUSTOM-LATER-SECRET');
    });
    await s.host.click('#r1');
    await s.host.click('#consent');
    await s.host.click('#consent');
    const late = await flushAndReplay(s);
    for (const page of [s.follower, late]) {
      expect(await mirrorProp(page, '#r1', 'checked')).toBe(false);
      expect(await mirrorProp(page, '#consent', 'checked')).toBe(false);
      expect(await mirrorAttrs(page, '#bal')).toEqual(['id']);
    }
    expect(
      leaked(s.frames, [
        'DATA-REGION-SECRET',
        'DATA-ATTR-SECRET',
        'ARIA-DESC-SECRET',
        'ARIA-VALUETEXT-SECRET',
        'TITLE-SECRET',
        'HREF-SECRET',
        'IMG-SRC-SECRET',
        'SRCSET-SECRET',
        'ALT-SECRET',
        'CUSTOM-ATTR-SECRET',
        'STYLE-URL-SECRET',
        'VIDEO-SRC-SECRET',
        'POSTER-SECRET',
        'DATA-LATER-SECRET',
        'HREF-LATER-SECRET',
        'CUSTOM-LATER-SECRET',
      ]),
    ).toEqual([]);
    expect(mutations(s.frames, 'value').filter((m) => m.checked === true)).toEqual([]);
    await s.close();
  });

  it('comments and style sheets in a masked region: their strings are masked, the rules that lay it out stay', async () => {
    const s = await share('/css');
    await expect.poll(() => readMirror(s.follower, `(doc) => getComputedStyle(doc.getElementById('q')).color`)).toBe('rgb(1, 2, 3)');
    expect(await readMirror(s.follower, `(doc) => getComputedStyle(doc.getElementById('q'), '::after').content`)).toBe(`"${MASKED}"`);
    expect(await readMirror(s.follower, `(doc) => getComputedStyle(doc.getElementById('styled').shadowRoot.getElementById('in')).color`)).toBe('rgb(4, 5, 6)');
    expect(await readMirror(s.follower, `(doc) => doc.getElementById('css-region').firstChild.data`)).toBe(MASKED);

    await s.host.evaluate(() => {
      const style = document.getElementById('st') as HTMLStyleElement;
      style.sheet!.insertRule('.q::before { content: "CSSOM-SECRET" }');
      (document.getElementById('css-region')!.firstChild as Comment).data = 'COMMENT-CHANGED-SECRET';
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('b { color: rgb(7, 8, 9) } b::before { content: "ADOPTED-LATER-SECRET" }');
      document.getElementById('styled')!.shadowRoot!.adoptedStyleSheets = [sheet];
    });
    const shadowColor = `(doc) => getComputedStyle(doc.getElementById('styled').shadowRoot.getElementById('in')).color`;
    await expect.poll(() => readMirror(s.follower, shadowColor)).toBe('rgb(7, 8, 9)');
    const late = await flushAndReplay(s);
    expect(await readMirror(late, shadowColor)).toBe('rgb(7, 8, 9)');
    expect(await readMirror(late, `(doc) => getComputedStyle(doc.getElementById('q'), '::before').content`)).toBe(`"${MASKED}"`);
    expect(
      leaked(s.frames, ['COMMENT-SECRET', 'STYLE-TEXT-SECRET', 'ADOPTED-SECRET', 'CSSOM-SECRET', 'COMMENT-CHANGED-SECRET', 'ADOPTED-LATER-SECRET']),
    ).toEqual([]);
    await s.close();
  });

  it("masked text has one shape whatever its length and words; a selection in it does not tell where it is; a masked field's scroll is not sent", async () => {
    const s = await share('/text');
    await expect.poll(() => mirrorText(s.follower, '#long')).toBe(MASKED);
    expect(await mirrorText(s.follower, '#short')).toBe(MASKED);
    expect(await mirrorText(s.follower, '#mixed')).toBe(`${MASKED} ${MASKED} ${MASKED}`);

    await s.host.evaluate(() => {
      document.getElementById('short')!.firstChild!.textContent = 'a much longer text of many words';
      const text = document.getElementById('long')!.firstChild!;
      getSelection()!.setBaseAndExtent(text, 5, text, 10);
    });
    await expect.poll(() => readMirror(s.follower, `(doc) => doc.getSelection().toString()`)).toBe(MASKED);
    expect(await mirrorText(s.follower, '#short')).toBe(MASKED);
    const textOfLong = snapshotNode(s.frames, 'long').c?.[0]?.id;
    const ranges = mutations(s.frames, 'selection')
      .map((m) => m.range as { a: number; ao: number; f: number; fo: number } | null)
      .filter((r) => r !== null && r.a === textOfLong);
    expect(ranges.length).toBeGreaterThan(0);
    for (const r of ranges) expect([r?.ao, r?.fo]).toEqual([0, MASKED.length]);

    await s.host.locator('#note').pressSequentially('one\ntwo\nthree\nfour\nfive\nsix\nseven', { delay: 5 });
    expect(await s.host.evaluate(() => document.getElementById('note')!.scrollTop)).toBeGreaterThan(0);
    const late = await flushAndReplay(s);
    expect(await mirrorText(late, '#long')).toBe(MASKED);
    const noteId = snapshotId(s.frames, 'note');
    expect(mutations(s.frames, 'scroll').filter((m) => m.id === noteId)).toEqual([]);
    expect(leaked(s.frames, ['John', 'Smith', '12,345.67', 'Jane', 'many words'])).toEqual([]);
    await s.close();
  });

  it('content that a class change or a move puts in a masked region is replaced, in the mirrors and in what late followers replay; out of it, it shows again', async () => {
    const s = await share('/later');
    await expect.poll(() => mirrorText(s.follower, '#later-p')).toBe('LATER-SECRET-TEXT');
    expect(await mirrorText(s.follower, '#moved')).toBe('MOVED-SECRET-TEXT');
    await s.host.evaluate(() => {
      document.getElementById('later')!.classList.add('secret');
      document.getElementById('vault')!.classList.add('vault');
      document.getElementById('target')!.append(document.getElementById('moved')!);
    });
    await expect.poll(() => mirrorText(s.follower, '#later-p')).toBe(MASKED);
    expect(await mirrorProp(s.follower, '#later-input', 'value')).toBe(MASKED);
    expect(await mirrorText(s.follower, '#vault-p')).toBe(MASKED);
    expect(await mirrorText(s.follower, '#target #moved')).toBe(MASKED);
    expect(await mirrorAttrs(s.follower, '#later')).toEqual(['class', 'id']);
    await s.host.evaluate(() => {
      document.getElementById('later-p')!.textContent = 'LATER-CHANGED-SECRET';
    });
    const lateFrames: string[] = [];
    const late = await flushAndReplay(s, lateFrames);
    for (const page of [s.follower, late]) {
      expect(await mirrorText(page, '#later-p')).toBe(MASKED);
      expect(await mirrorProp(page, '#later-input', 'value')).toBe(MASKED);
      expect(await mirrorText(page, '#vault-p')).toBe(MASKED);
      expect(await mirrorText(page, '#moved')).toBe(MASKED);
    }
    // What went out before is not in the replay: the host's page sent a snapshot in its place.
    const replay = lateFrames.join('\n');
    expect(replay).toContain('PLAIN-TYPED-OK');
    for (const before of ['LATER-SECRET-TEXT', 'LATER-SECRET-VALUE', 'VAULT-SECRET-TEXT', 'MOVED-SECRET-TEXT']) expect(replay).not.toContain(before);
    expect(leaked(s.frames, ['LATER-CHANGED-SECRET'])).toEqual([]);

    // Out of the region again: the mirrors show it.
    await s.host.evaluate(() => document.getElementById('later')!.classList.remove('secret'));
    await expect.poll(() => mirrorText(s.follower, '#later-p')).toBe('LATER-CHANGED-SECRET');
    await expect.poll(() => mirrorText(late, '#later-p')).toBe('LATER-CHANGED-SECRET');
    await s.close();
  });

  it("card numbers in page text and in a text field's text are masked wherever they are", async () => {
    const s = await share('/cards');
    await expect.poll(() => mirrorText(s.follower, '#pan')).toBe('Card •••• •••• •••• ••••, expires 12/29');
    expect(await mirrorText(s.follower, '#pan-note')).toBe(MASKED);
    expect(await mirrorProp(s.follower, '#pan-note', 'value')).toBe(MASKED);
    expect(await mirrorText(s.follower, '#nums')).toBe('Order 1234 5678, ref 2024');
    await s.host.evaluate(() => {
      document.getElementById('pan')!.firstChild!.textContent = 'New card 5555-5555-5555-4444';
    });
    await expect.poll(() => mirrorText(s.follower, '#pan')).toBe('New card ••••-••••-••••-••••');
    // The masked text keeps its length: a controller's edit lands where it was made.
    const controller = await newParticipant(browser);
    recordFrames(controller.page, s.frames);
    await controller.page.goto(s.session.joinUrl);
    await expect.poll(() => mirrorText(controller.page, '#editable'), { timeout: 10_000 }).toBe('Pay •••• •••• •••• •••• now');
    await controller.page.frameLocator('#cobrowse-mirror').locator('#editable').click();
    await controller.page.keyboard.press('End');
    await controller.page.keyboard.type(' ok', { delay: 120 });
    await expect.poll(() => s.host.textContent('#editable')).toBe('Pay 4111 1111 1111 1111 now ok');
    await expect.poll(() => mirrorText(s.follower, '#editable')).toBe('Pay •••• •••• •••• •••• now ok');
    await flushAndReplay(s);
    expect(
      leaked(s.frames, ['4111 1111 1111 1111', '4242 4242 4242 4242', '5555-5555-5555-4444', '4111111111111111', '4242424242424242', '5555555555554444']),
    ).toEqual([]);
    await controller.context.close();
    await s.close();
  });
});
