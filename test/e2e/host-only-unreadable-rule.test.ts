// A host-only rule the host's browser cannot read (jQuery's `:contains()`, which no browser has)
// may be the rule reserving the element a controller aims at: the host's page refuses every remote
// input then, and says why. Real host and controller through the gateway.

import { expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const PAGE = `<!DOCTYPE html><html><head><title>pay</title></head><body>
<button id="add" onclick="document.getElementById('items').append(document.createElement('li'))">add</button>
<button id="pay" onclick="document.getElementById('paid').textContent = 'paid'">pay</button>
<ul id="items"></ul><p id="paid"></p></body></html>`;

const env = useOneSite(PAGE, { hostOnly: ['button:contains("Pay")'] });

it("refuses a controller's clicks on any element when a host-only rule cannot be read; the host still acts", async () => {
  const session = await createSession(env.t, `${env.origin}/`);
  const host = await newParticipant(env.browser);
  const ctl = await newParticipant(env.browser);
  try {
    await host.page.goto(session.hostUrl);
    await host.page.waitForFunction('window.__cobrowse !== undefined');
    await ctl.page.goto(session.joinUrl);
    const mirror = ctl.page.frameLocator('#cobrowse-mirror');
    await mirror.locator('#pay').click();
    await expect.poll(() => ctl.page.locator('#notice').innerText()).toContain("one of the site's host-only rules cannot be read");
    await mirror.locator('#add').click();
    await new Promise((r) => setTimeout(r, 300));
    expect(await host.page.locator('#items li').count()).toBe(0);
    expect(await host.page.textContent('#paid')).toBe('');
    await host.page.click('#add');
    expect(await host.page.locator('#items li').count()).toBe(1);
  } finally {
    await Promise.all([host.context.close(), ctl.context.close()]);
  }
});
