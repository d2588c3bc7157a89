// document.domain and the cookies scripts give a Domain built from the host name: as on the real
// site. The page runs on its proxied host, where the browser's own document.domain named the
// gateway's host and threw for the site's own domain, and the jar refused a Domain built from
// location.hostname or document.domain, or from their last labels (the registrable domain, as
// analytics and consent scripts compute it).

import { expect, it } from 'vitest';
import { evaluateAt } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useNamedSites } from '../helpers/named-sites.js';

const received: string[] = [];
const PAGE = `<!DOCTYPE html><title>domain</title><script>
window.__seen = (async () => {
  const seen = [document.domain];
  for (const value of ['shop.localhost', 'www.shop.localhost', 'WWW.Shop.localhost', 'other.localhost', 'localhost', 'hop.localhost']) {
    try {
      document.domain = value;
      seen.push(value + ': ' + document.domain);
    } catch (e) {
      seen.push(value + ': ' + e.name);
    }
  }
  document.cookie = 'host=1; path=/; domain=' + location.hostname;
  document.cookie = 'doc=2; path=/; domain=' + document.domain;
  document.cookie = 'parent=3; path=/; domain=.' + location.hostname.split('.').slice(-2).join('.');
  document.cookie = 'foreign=4; path=/; domain=other.localhost';
  seen.push(document.cookie);
  await cookieStore.set({ name: 'store', value: '5', domain: location.hostname });
  try {
    await cookieStore.set({ name: 'elsewhere', value: '6', domain: 'other.localhost' });
  } catch (e) {
    seen.push('cookieStore other.localhost: ' + e.name);
  }
  seen.push(document.cookie);
  await fetch('/check');
  return seen;
})();
</script>`;

const env = useNamedSites(['www.shop'], (req, res) => {
  if (req.url === '/check') received.push(req.headers.cookie ?? '');
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(req.url === '/check' ? 'ok' : PAGE);
});

/** What the page's script saw, and the Cookie header the site got last. */
async function run(url: string): Promise<[unknown, string | undefined]> {
  return [await evaluateAt(env.browser, url, 'window.__seen'), received.at(-1)];
}

it('document.domain, and cookies whose Domain a script builds from the host name, are as on the real site', async () => {
  const direct = await run(`${env.origin('www.shop')}/`);
  expect(direct).toEqual([
    [
      'www.shop.localhost',
      'shop.localhost: www.shop.localhost',
      'www.shop.localhost: www.shop.localhost',
      'WWW.Shop.localhost: www.shop.localhost',
      'other.localhost: SecurityError',
      'localhost: SecurityError',
      'hop.localhost: SecurityError',
      'host=1; doc=2; parent=3',
      'cookieStore other.localhost: TypeError',
      'host=1; doc=2; parent=3; store=5',
    ],
    'host=1; doc=2; parent=3; store=5',
  ]);
  const proxied = await run((await createSession(env.t, `${env.origin('www.shop')}/`)).hostUrl);
  expect(proxied).toEqual(direct);
});
