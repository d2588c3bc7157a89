// A controller's input aimed at a private field, with the host's page in real Chromium and the
// controller speaking the hub protocol (as a tampered follower runtime would): the host's page
// refuses every value, splice, key and edit aimed at a masked control, a masked region or a field
// holding a card number, with one fixed notice, before anything is compared with what the field
// holds. Before, a splice's base was checked against the real value, and "refused" against
// "applied" let a controller guess a password one try at a time.

import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { spliceBase } from '../../inject/text-splice.js';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import { newParticipant } from '../helpers/browser.js';
import { createSession, type TestGateway } from '../helpers/gateway.js';
import { connectHub } from '../helpers/hub-client.js';
import { useOneSite } from '../helpers/one-site.js';

const PAGE = `<!DOCTYPE html><html><head><title>private fields</title></head><body>
<input id="pw" type="password">
<input id="card" autocomplete="off">
<div class="secret"><textarea id="note"></textarea></div>
<input id="name">
</body></html>`;

const env = useOneSite(PAGE, { mask: ['.secret'] });
let t: TestGateway;
let browser: Browser;
let origin = '';
beforeAll(() => {
  ({ t, browser, origin } = env);
});

interface TreeNode {
  t: string;
  id: number;
  a?: Record<string, string>;
  c?: TreeNode[];
}

/** The node id of the element with this id attribute in a snapshot's tree. */
function idOf(tree: TreeNode, elementId: string): number {
  const stack = [tree];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.t === 'el' && node.a?.id === elementId) return node.id;
    stack.push(...(node.c ?? []));
  }
  throw new Error(`no #${elementId} in the snapshot`);
}

describe('input aimed at private fields', () => {
  it('is refused the same way whatever it guesses; the fields keep what the host typed; a plain field still takes it', async () => {
    const session = await createSession(t, `${origin}/`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    await host.page.fill('#pw', '4271');
    await host.page.fill('#card', '4242 4242 4242 4242');
    await host.page.fill('#note', 'the secret note');

    const ctl = await t.join(session.joinUrl);
    const client = await connectHub(t.gateway.port, ctl.proxiedOrigin, ctl.cookie);
    client.send({ type: 'hello', v: PROTOCOL_VERSION, mode: 'mirror' });
    const snapshot = (await client.next('snapshot')) as unknown as { tree: TreeNode };
    const ids = { pw: idOf(snapshot.tree, 'pw'), card: idOf(snapshot.tree, 'card'), note: idOf(snapshot.tree, 'note'), name: idOf(snapshot.tree, 'name') };

    // A guess per splice, each computed as if the field held the guess: the right one included.
    const guesses = ['0000', '1234', '4271', '9999'];
    for (const guess of guesses) {
      client.send({ type: 'input', event: { kind: 'splice', target: ids.pw, at: 0, remove: 4, text: guess, base: spliceBase(guess, 0, 4) } });
    }
    // A whole value, a key and a splice for the other private fields.
    client.send({ type: 'input', event: { kind: 'value', target: ids.pw, value: 'overwritten' } });
    const card = '4242 4242 4242 4242';
    client.send({ type: 'input', event: { kind: 'splice', target: ids.card, at: 0, remove: card.length, text: card, base: spliceBase(card, 0, card.length) } });
    client.send({ type: 'input', event: { kind: 'value', target: ids.note, value: 'overwritten' } });
    const sent = guesses.length + 3;
    const notices = () => client.messages.filter((m) => m.type === 'notice').map((m) => m.text);
    await expect.poll(() => notices().length, { timeout: 10_000 }).toBe(sent);
    expect(new Set(notices())).toEqual(new Set(['This field is private: only the host can fill it in.']));
    expect(client.messages.filter((m) => m.type === 'splice-refused')).toEqual([]);
    expect(await host.page.inputValue('#pw')).toBe('4271');
    expect(await host.page.inputValue('#card')).toBe(card);
    expect(await host.page.inputValue('#note')).toBe('the secret note');

    // The same controller's splice into a plain field is applied.
    client.send({ type: 'input', event: { kind: 'splice', target: ids.name, at: 0, remove: 0, text: 'Ada', base: spliceBase('', 0, 0) } });
    await expect.poll(() => host.page.inputValue('#name'), { timeout: 10_000 }).toBe('Ada');
    expect(notices()).toHaveLength(sent);
    client.ws.close();
    await host.context.close();
  }, 60_000);
});
