// navigator.registerProtocolHandler takes a URL of the document's origin only. A site that names
// its handler by its absolute URL (`https://shop.example/handle?u=%s`) registers it directly; through
// the gateway that URL was of another origin than the proxied page and Chromium refused it
// (SecurityError). The runtime maps the URL (and unregisterProtocolHandler's). The same page
// directly and through the gateway.

import { describe, expect, it } from 'vitest';
import { pageReading } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const site = useOneSite((req, res) => {
  const self = `http://127.0.0.1:${req.socket.localPort}`;
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(`<!doctype html><script>
    const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
    window.results = {
      absolute: attempt(() => navigator.registerProtocolHandler('web+shop', '${self}/handle?u=%s')),
      relative: attempt(() => navigator.registerProtocolHandler('web+cart', '/cart?u=%s')),
      unregister: attempt(() => navigator.unregisterProtocolHandler('web+shop', '${self}/handle?u=%s')),
      elsewhere: attempt(() => navigator.registerProtocolHandler('web+shop', 'https://elsewhere.example/h?u=%s')),
    };
  </script>`);
});

function results(url: string): Promise<unknown> {
  return pageReading(site.browser, url, 'window.results');
}

describe('protocol handlers', () => {
  it('register and unregister with the site’s absolute URL as directly', async () => {
    const direct = await results(`${site.origin}/`);
    expect(direct).toEqual({ absolute: 'ok', relative: 'ok', unregister: 'ok', elsewhere: 'SecurityError' });
    const session = await createSession(site.t, `${site.origin}/`);
    expect(await results(session.hostUrl)).toEqual(direct);
  });
});
