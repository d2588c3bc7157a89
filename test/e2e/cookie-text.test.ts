// Cookies with characters outside ASCII: a site's Set-Cookie in UTF-8 bytes, and document.cookie
// set by the page's script, read and sent back as Chromium does directly (UTF-8 on the wire, the
// same text in document.cookie), the first page's cookies included (they come in its script tag).

import { expect, it } from 'vitest';
import { evaluateAt } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const received: string[] = [];
const env = useOneSite((req, res) => {
  if (req.url === '/check') {
    const i = req.rawHeaders.findIndex((h) => h.toLowerCase() === 'cookie');
    received.push(i >= 0 ? Buffer.from(req.rawHeaders[i + 1]!, 'latin1').toString('hex') : '');
    res.end('ok');
    return;
  }
  // node:http writes a header's latin1 characters as bytes: these are the UTF-8 bytes of café.
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': Buffer.from('srv=café; Path=/', 'utf8').toString('latin1') });
  res.end(`<!DOCTYPE html><meta charset="utf-8"><p>cookies</p><script>
window.__cookies = (async () => {
  const first = document.cookie;
  document.cookie = 'page=été; path=/';
  document.cookie = 'emoji=\u{1F600}; path=/';
  const after = document.cookie;
  await fetch('/check');
  return [first, after];
})();
</script>`);
});

/** What the page's script saw, and the Cookie header the site got last. */
async function run(url: string): Promise<[unknown, string | undefined]> {
  return [await evaluateAt(env.browser, url, 'window.__cookies'), received.at(-1)];
}

it('cookies in UTF-8 (from the site and from the page) read and travel as they do directly', async () => {
  const direct = await run(`${env.origin}/`);
  expect(direct).toEqual([['srv=café', 'srv=café; page=été; emoji=\u{1F600}'], Buffer.from('srv=café; page=été; emoji=\u{1F600}', 'utf8').toString('hex')]);
  const proxied = await run((await createSession(env.t, `${env.origin}/`)).hostUrl);
  expect(proxied).toEqual(direct);
});
