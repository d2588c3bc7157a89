// Input into cross-origin frames in masked regions, and a host handoff over masked controls, with
// real Chromium through the gateway (three sites: a page, a frame of another site and, in it, a
// frame of a third). A frame masks by its own site's rules, which know nothing of the region its
// element is in on the page above: the top page forwarded a controller's input into it, the frame
// applied a value and answered a splice with the field's real value. Now the page whose region it
// is refuses it with the private-field notice (the top page, or a frame for its own frames);
// clicks still go in. A promoted follower's mirror shows a masked region's boxes unticked: that
// was saved as the form state and unticked them on the new host's live page.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIVATE_FIELD_REFUSAL } from '../../inject/remote-input.js';
import { spliceBase } from '../../inject/text-splice.js';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import { launchBrowser, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connectHub, type HubClient, type HubMessage } from '../helpers/hub-client.js';

const SECRET = 'FRAME-SECRET-VALUE';
const PLAIN = 'PLAIN-FRAME-VALUE';
/** The first id of the first cross-origin frame of a top page, and of a frame's first own frame (FRAME_RANGE in inject/frame-bridge.ts). */
const FIRST_FRAME = 1_000_000;
const FIRST_NESTED = 500_000;
/** Ids each of a frame's own frames gets. */
const NESTED_RANGE = 5_000;

/** A page with a cross-origin frame in a masked region and one outside it, both the same page of `inner`. */
const twoFrames = (inner: string) => `<div class="secret"><iframe id="masked-frame" src="${inner}/inner?v=MASKED"></iframe></div>
<iframe id="plain-frame" src="${inner}/inner?v=PLAIN"></iframe>`;

let t: TestGateway;
let browser: Browser;
let aOrigin = '';
let bOrigin = '';
let cOrigin = '';

const page = (title: string, body: string) => `<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`;
const serving = (pages: (path: string, query: URLSearchParams) => string | null) =>
  createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = pages(url.pathname, url.searchParams);
    res.writeHead(body === null ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? 'not found');
  });

const siteA = serving((path) => {
  if (path === '/top') return page('top', `<p id="marker">TOP</p>${twoFrames(cOrigin)}`);
  if (path === '/nested') return page('nested', `<p id="marker">TOP</p><iframe id="outer" src="${bOrigin}/outer"></iframe>`);
  if (path === '/form')
    return page(
      'form',
      `<div class="secret"><input type="checkbox" id="consent" checked><input type="radio" name="r" id="r1"><input type="radio" name="r" id="r2" checked></div>
<input type="checkbox" id="masked-box" class="secret" checked>
<div data-private><input type="checkbox" id="attr-box" checked></div>
<input type="checkbox" id="plain-box"><input id="plain-text">`,
    );
  return null;
});
// Its own masks: the frame it puts in its region is its to refuse input for.
const siteB = serving((path) => (path === '/outer' ? page('outer', twoFrames(cOrigin)) : null));
// No masks of its own: its field is private only by where its frame is.
const siteC = serving((path, query) =>
  path === '/inner'
    ? page(
        'inner',
        `<p>clicks <span id="clicks">0</span> keys <span id="keys"></span></p>
<input id="i" value="${query.get('v') === 'MASKED' ? SECRET : PLAIN}"><input id="pw" type="password"><div id="ed" contenteditable="true">EDITABLE</div><button id="b">b</button>
<script>
document.getElementById('b').addEventListener('click', () => { const c = document.getElementById('clicks'); c.textContent = String(Number(c.textContent) + 1); });
document.addEventListener('keydown', (e) => { document.getElementById('keys').textContent += e.key; });
</script>`,
      )
    : null,
);

const listen = (server: ReturnType<typeof createServer>): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  aOrigin = await listen(siteA);
  bOrigin = await listen(siteB);
  cOrigin = await listen(siteC);
  t = await startTestGateway({
    demo: { enabled: false },
    sessions: { hostGracePeriod: '1s' },
    sites: [{ url: aOrigin, mask: ['.secret', '[data-private]'] }, { url: bOrigin, mask: ['.secret'] }, { url: cOrigin }],
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  for (const server of [siteA, siteB, siteC]) server.close();
});

interface WireNode {
  t: string;
  id: number;
  a?: Record<string, string>;
  c?: WireNode[];
}

function find(tree: WireNode, elementId: string): WireNode | null {
  const stack = [tree];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.t === 'el' && node.a?.id === elementId) return node;
    stack.push(...(node.c ?? []));
  }
  return null;
}

/** The last document of site C's frame outside the region that the controller was sent. */
function plainFrameDoc(messages: HubMessage[]): WireNode | null {
  let found: WireNode | null = null;
  for (const m of messages) {
    if (m.type !== 'mutations') continue;
    for (const change of m.batch as { k: string; doc?: WireNode | null }[]) if (change.k === 'frame' && change.doc && find(change.doc, 'i')) found = change.doc;
  }
  return found;
}

/** A controller on the hub protocol, as a tampered view page speaks it. */
async function controllerOf(joinUrl: string): Promise<HubClient> {
  const ctl = await t.join(joinUrl);
  const client = await connectHub(t.gateway.port, ctl.proxiedOrigin, ctl.cookie);
  client.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
  await client.next('snapshot');
  return client;
}

const NO_MODIFIERS = { alt: false, ctrl: false, shift: false, meta: false };

/** What the host's frame of site C shows. */
const frameState = (frame: Frame) =>
  frame.evaluate(() => ({
    value: (document.getElementById('i') as HTMLInputElement).value,
    password: (document.getElementById('pw') as HTMLInputElement).value,
    editable: document.getElementById('ed')?.textContent,
    keys: document.getElementById('keys')?.textContent,
    clicks: document.getElementById('clicks')?.textContent,
  }));

/**
 * Sends a controller's value, splice, key, edit (in two parts) and click to the ids the masked
 * frame's fields have (its document is withheld: they are guessed from its twin outside the
 * region, the same page of the same site), then the same splice and a value for the twin's
 * password field; checks what comes back and what the host's frames show.
 */
async function attack(host: Page, client: HubClient, frameBases: [number, number], frames: { masked: () => Frame; plain: () => Frame }): Promise<void> {
  await expect.poll(() => plainFrameDoc(client.messages) !== null, { timeout: 10_000 }).toBe(true);
  const doc = plainFrameDoc(client.messages) as WireNode;
  expect(frameBases).toContain(doc.id);
  const offset = (elementId: string) => (find(doc, elementId)?.id ?? Number.NaN) - doc.id;
  const maskedBase = frameBases.find((b) => b !== doc.id) as number;
  const masked = { i: maskedBase + offset('i'), ed: maskedBase + offset('ed'), b: maskedBase + offset('b') };
  // The frame's fields are where its twin's are: the recording is the same page's.
  expect(await frameState(frames.masked())).toEqual({ value: SECRET, password: '', editable: 'EDITABLE', keys: '', clicks: '0' });

  // A splice against a base the field does not have: the frame's refusal carried its value.
  const splice = { kind: 'splice', at: 0, remove: 0, text: 'x', base: spliceBase('', 0, 0) };
  client.send({ type: 'input', event: { ...splice, target: masked.i } });
  client.send({ type: 'input', event: { kind: 'value', target: masked.i, value: 'OVERWRITTEN' } });
  client.send({ type: 'input', event: { kind: 'key', target: masked.i, key: 'q', code: 'KeyQ', ...NO_MODIFIERS } });
  for (const [index, data] of ['AB', 'CD'].entries())
    client.send({ type: 'input', event: { kind: 'edit', target: masked.ed, inputType: 'insertText', data, range: null, part: { index, count: 2 } } });
  client.send({ type: 'input', event: { kind: 'click', target: masked.b, x: 2, y: 2 } });
  // The twin answers the same splice with its value; its password field refuses with the notice.
  client.send({ type: 'input', event: { ...splice, target: doc.id + offset('i') } });
  client.send({ type: 'input', event: { kind: 'value', target: doc.id + offset('pw'), value: 'OVERWRITTEN' } });

  const outcome = async () => ({
    refusals: client.messages.filter((m) => m.type === 'splice-refused').map((m) => ({ target: m.target, value: m.value })),
    notices: client.messages.filter((m) => m.type === 'notice').map((m) => m.text),
    masked: await frameState(frames.masked()),
    plain: await frameState(frames.plain()),
  });
  const expected = {
    refusals: [{ target: doc.id + offset('i'), value: PLAIN }],
    // Value, splice, key and the edit once (its two parts are one edit); then the twin's password field.
    notices: Array.from({ length: 5 }, () => PRIVATE_FIELD_REFUSAL),
    masked: { value: SECRET, password: '', editable: 'EDITABLE', keys: '', clicks: '1' },
    plain: { value: PLAIN, password: '', editable: 'EDITABLE', keys: '', clicks: '0' },
  };
  await expect.poll(outcome, { timeout: 10_000 }).toEqual(expected);
  // Nothing more arrives later.
  await new Promise((r) => setTimeout(r, 500));
  expect(await outcome()).toEqual(expected);
  expect(JSON.stringify(client.messages)).not.toContain(SECRET);
  expect(await host.locator('#marker').textContent()).toBe('TOP');
}

describe('input into a cross-origin frame in a masked region', () => {
  it("is refused by the top page with the private-field notice; the frame's field is neither changed nor answered with; a click goes in", async () => {
    const session = await createSession(t, `${aOrigin}/top`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const client = await controllerOf(session.joinUrl);
    const byId = (id: string) => () =>
      host.page.frames().find((f) => f.parentFrame() === host.page.mainFrame() && f.url().includes(id === 'masked' ? 'v=MASKED' : 'v=PLAIN')) as Frame;
    await expect.poll(() => host.page.frames().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await attack(host.page, client, [FIRST_FRAME, 2 * FIRST_FRAME], { masked: byId('masked'), plain: byId('plain') });
    expect(host.errors).toEqual([]);
    client.ws.close();
    await host.context.close();
  }, 60_000);

  it('in a frame of a frame: the frame whose region it is refuses it, and the top page tells the controller', async () => {
    const session = await createSession(t, `${aOrigin}/nested`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const client = await controllerOf(session.joinUrl);
    const outer = () => host.page.frames().find((f) => f.url().includes('/outer')) as Frame;
    const inner = (v: string) => () => host.page.frames().find((f) => f.parentFrame() === outer() && f.url().includes(`v=${v}`)) as Frame;
    await expect.poll(() => host.page.frames().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    // Site B's frame is the top page's first; its own frames get sub-ranges of its range.
    const first = FIRST_FRAME + FIRST_NESTED;
    await attack(host.page, client, [first, first + NESTED_RANGE], { masked: inner('MASKED'), plain: inner('PLAIN') });
    expect(host.errors).toEqual([]);
    client.ws.close();
    await host.context.close();
  }, 60_000);
});

describe('host handoff over masked controls', () => {
  it("keeps a masked region's and a masked box's ticks on the new host's page (the mirror showed them unticked); the rest of the form is carried over", async () => {
    const session = await createSession(t, `${aOrigin}/form`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    const controller = await newParticipant(browser);
    await controller.page.goto(session.joinUrl);
    const mirror = controller.page.frameLocator('#cobrowse-mirror');
    await mirror.locator('#plain-text').fill('carried over');
    await mirror.locator('#plain-box').click();
    await expect.poll(() => host.page.inputValue('#plain-text'), { timeout: 10_000 }).toBe('carried over');
    await expect.poll(() => host.page.isChecked('#plain-box')).toBe(true);
    const ticks = (p: Page, read: (id: string) => string) =>
      p.evaluate(`['consent', 'r1', 'r2', 'masked-box', 'attr-box', 'plain-box'].map((id) => (${read(`id`)}).checked)`);
    const inMirror = (id: string) => `document.getElementById('cobrowse-mirror').contentDocument.getElementById(${id})`;
    // What the mirror shows of the masked ones: unticked.
    expect(await ticks(controller.page, inMirror)).toEqual([false, false, false, false, false, true]);

    // The form state the promoted mirror saves for the new live page.
    const saved: string[] = [];
    await controller.page.exposeFunction('recordHandoff', (value: string) => saved.push(value));
    await controller.page.evaluate(() => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (this: Storage, key: string, value: string) {
        if (key === 'cobrowse:handoff-form-state') (window as unknown as { recordHandoff(v: string): void }).recordHandoff(value);
        setItem.call(this, key, value);
      };
    });

    await host.context.close();
    await controller.page.waitForURL(/\/form$/, { timeout: 10_000 });
    await expect.poll(() => controller.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await expect.poll(() => controller.page.inputValue('#plain-text')).toBe('carried over');
    // The page's own ticks stay: the region's, the box matched by a mask, and the one under a mask
    // on an attribute the mirror never had (the new live page's masks find it).
    expect(await ticks(controller.page, (id) => `document.getElementById(${id})`)).toEqual([true, false, true, true, true, true]);

    expect(saved).toHaveLength(1);
    const fields = (JSON.parse(saved[0] ?? '{}') as { fields: { path: string; checked?: boolean; value?: string }[] }).fields;
    // Only what the follower's masks do not cover: the plain text and box, and the box under [data-private].
    expect(fields.map((f) => f.checked ?? f.value).sort()).toEqual([false, true, 'carried over'].sort());
    expect(controller.errors).toEqual([]);
    await controller.context.close();
  }, 60_000);
});
