// A mask rule the host's browser cannot read (here jQuery's `:contains()`, which no browser has;
// the config's own check catches only plain syntax mistakes) may be the rule meant to hide a card:
// the host's page masks all of itself rather than send any of it, real Chromium host and follower
// through the gateway.

import { expect, it } from 'vitest';
import { newParticipant, readMirror, recordFrames } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const PAGE = `<!DOCTYPE html><html><head><title>masks</title></head><body>
<p id="plain">PLAIN-TEXT-SEEN</p><div id="card" class="holder">CARD-HOLDER-SECRET</div><p class="secret">CLASS-SECRET</p>
<input id="field" value="FIELD-VALUE-SECRET"></body></html>`;

const env = useOneSite(PAGE, { mask: ['.secret', '.holder:contains("Visa")'] });

it('masks the whole page when a configured rule cannot be read, and sends none of its text', async () => {
  const session = await createSession(env.t, `${env.origin}/`);
  const host = await newParticipant(env.browser);
  const follower = await newParticipant(env.browser);
  const frames: string[] = [];
  recordFrames(host.page, frames);
  recordFrames(follower.page, frames);
  try {
    const debug: string[] = [];
    host.page.on('console', (m) => debug.push(m.text()));
    await host.page.goto(session.hostUrl);
    await follower.page.goto(session.joinUrl);
    // The mirror has the page's structure, with every text masked.
    await expect
      .poll(() => readMirror<string | null>(follower.page, `(doc) => doc.getElementById('plain')?.textContent ?? null`), { timeout: 10_000 })
      .not.toBeNull();
    const texts = await readMirror<string[]>(follower.page, `(doc) => ['plain', 'card'].map((id) => doc.getElementById(id).textContent)`);
    expect(texts.every((t) => !/[A-Z]/.test(t))).toBe(true);
    expect(await readMirror(follower.page, `(doc) => doc.getElementById('field').value`)).not.toContain('SECRET');
    for (const secret of ['PLAIN-TEXT-SEEN', 'CARD-HOLDER-SECRET', 'CLASS-SECRET', 'FIELD-VALUE-SECRET']) {
      expect(frames.filter((f) => f.includes(secret))).toEqual([]);
    }
    // The host's page says why (its console; the host still sees the page itself).
    expect(await host.page.textContent('#plain')).toBe('PLAIN-TEXT-SEEN');
    await expect.poll(() => debug.some((d) => d.includes('.holder:contains("Visa")'))).toBe(true);
  } finally {
    await Promise.all([host.context.close(), follower.context.close()]);
  }
});
