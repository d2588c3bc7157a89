// Rich text editors insert markup and images with document.execCommand (insertHTML,
// insertImage): an absolute URL of the site there was refused by the containment policy, where
// directly the site served the image. The runtime maps them as markup the page's script writes.
// The same page directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useTwoSites } from '../helpers/two-sites.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
/** What B was asked for. */
const hits = new Set<string>();

const sites = useTwoSites(
  (_req, res) => {
    const b = sites.bOrigin;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><div id=editor contenteditable>start</div><script>
      editor.focus();
      getSelection().selectAllChildren(editor);
      getSelection().collapseToEnd();
      const html = document.execCommand('insertHTML', false, '<b>bold</b><img src="${b}/inserted.png" alt=x>');
      const image = document.execCommand('insertImage', false, '${b}/image.png');
      getSelection().selectAllChildren(editor.querySelector('b'));
      const link = document.execCommand('createLink', false, '${sites.aOrigin}/linked');
      const a = editor.querySelector('a');
      let few = 'no error';
      try { document.execCommand(); } catch (e) { few = e.name; }
      window.result = { html, image, link, linkOwnOrigin: a && new URL(a.href).origin === location.origin, images: editor.querySelectorAll('img').length, text: editor.textContent, few };
    </script>`);
  },
  (req, res) => {
    hits.add(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
  },
);

async function edit(url: string): Promise<unknown> {
  const { context, page, errors } = await newParticipant(sites.browser);
  try {
    hits.clear();
    await page.goto(url);
    await expect.poll(() => ['/inserted.png', '/image.png'].filter((p) => hits.has(p)), { timeout: 10_000 }).toEqual(['/inserted.png', '/image.png']);
    expect(errors).toEqual([]);
    return await page.evaluate('window.result');
  } finally {
    await context.close();
  }
}

describe('editing commands', () => {
  it('insert images the site serves, through the gateway', async () => {
    const direct = await edit(`${sites.aOrigin}/`);
    expect(direct).toEqual({ html: true, image: true, link: true, linkOwnOrigin: true, images: 2, text: 'startbold', few: 'TypeError' });
    const session = await createSession(sites.t, `${sites.aOrigin}/`);
    const logged = sites.t.logs.length;
    expect(await edit(session.hostUrl)).toEqual(direct);
    const through = sites.t.logs.slice(logged).map((l) => l.path);
    expect(through).toEqual(expect.arrayContaining(['/inserted.png', '/image.png']));
  });
});
