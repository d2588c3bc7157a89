// Methods the gateway's HTTP server does not take as they are (WebDAV's PROPFIND, MKCOL, REPORT,
// a lowercase `patch`): a site's page that sends them with fetch or XMLHttpRequest behaves through
// the gateway as it does directly (the site gets the same requests, the page the same answers),
// and the way they travel (a POST naming the method) is open to the page's own requests only.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createSession } from '../helpers/gateway.js';
import { useOneSite } from '../helpers/one-site.js';

const PAGE = `<!DOCTYPE html><html><head><title>dav</title></head><body><p>dav</p><script>
window.__results = (async () => {
  const out = [];
  const answer = async (what, run) => {
    try {
      const r = await run();
      out.push([what, r.status, await r.text(), new URL(r.url).pathname]);
    } catch (e) {
      out.push([what, 'error', e.name]);
    }
  };
  const xhr = (method, path, body) => new Promise((resolve) => {
    const x = new XMLHttpRequest();
    try { x.open(method, path); } catch (e) { resolve(['xhr ' + method, 'error', e.name]); return; }
    x.setRequestHeader('Depth', '0');
    x.onload = () => resolve(['xhr ' + method, x.status, x.responseText, new URL(x.responseURL).pathname]);
    x.onerror = () => resolve(['xhr ' + method, 'network error']);
    x.send(body);
  });
  await answer('fetch PROPFIND', () => fetch('/dav/folder/', { method: 'PROPFIND', headers: { Depth: '1', 'Content-Type': 'application/xml' }, body: '<propfind xmlns="DAV:"><allprop/></propfind>' }));
  await answer('Request REPORT', () => fetch(new Request('/dav/cal', { method: 'REPORT', body: 'report body', headers: { 'Content-Type': 'text/xml' } })));
  await answer('Request + init', () => fetch(new Request('/dav/moved', { method: 'GET' }), { method: 'MOVE', headers: { Destination: '/dav/new' } }));
  await answer('fetch patch', () => fetch('/dav/lower', { method: 'patch', body: 'lower' }));
  await answer('fetch delete', () => fetch('/dav/gone', { method: 'delete' }));
  await answer('fetch TRACE', () => fetch('/dav/t', { method: 'TRACE' }));
  // A collection without its slash: the site redirects, and the method (with its body) follows.
  await answer('PROPFIND 301', () => fetch('/dav/redirect-301', { method: 'PROPFIND', body: 'again' }));
  await answer('COPY 302', () => fetch('/dav/redirect-302', { method: 'COPY' }));
  // See Other: the browser follows with a GET.
  await answer('MKCOL 303', () => fetch('/dav/redirect-303', { method: 'MKCOL' }));
  out.push(await xhr('MKCOL', '/dav/new-folder/', null));
  out.push(await xhr('LOCK', '/dav/file', '<lockinfo/>'));
  out.push(await xhr('PUT', '/dav/file', 'plain put'));
  return out;
})();
</script></body></html>`;

const seen: string[] = [];
function serve(req: IncomingMessage, res: ServerResponse): void {
  if (!req.url?.startsWith('/dav/')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
    return;
  }
  const redirect = /^\/dav\/redirect-(30[123])$/.exec(req.url ?? '');
  if (redirect) {
    res.writeHead(Number(redirect[1]), { location: redirect[1] === '303' ? '/dav/after' : '/dav/folder/' });
    res.end();
    return;
  }
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    const h = req.headers;
    seen.push(
      JSON.stringify([
        req.method,
        req.url,
        body,
        h.depth ?? null,
        h['content-type'] ?? null,
        h.destination ?? null,
        Object.keys(h).filter((k) => k.startsWith('x-cobrowse')),
      ]),
    );
    const status = req.method === 'PROPFIND' || req.method === 'REPORT' ? 207 : req.method === 'MKCOL' ? 201 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`${req.method} ${req.url} (${body.length} bytes)`);
  });
}

const env = useOneSite(serve);

async function run(url: string): Promise<{ results: unknown; seen: string[] }> {
  seen.length = 0;
  const context = await env.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    const results = await page.evaluate('window.__results');
    return { results, seen: [...seen] };
  } finally {
    await context.close();
  }
}

describe('methods the gateway server does not take as they are', () => {
  it('WebDAV methods and a lowercase patch from fetch, Request and XMLHttpRequest: the same requests reach the site and the same answers the page', async () => {
    const direct = await run(`${env.origin}/`);
    const session = await createSession(env.t, `${env.origin}/`);
    const proxied = await run(session.hostUrl);
    // What a browser does with them directly (the origin's answers; TRACE refused by fetch).
    expect(direct.results).toEqual([
      ['fetch PROPFIND', 207, 'PROPFIND /dav/folder/ (44 bytes)', '/dav/folder/'],
      ['Request REPORT', 207, 'REPORT /dav/cal (11 bytes)', '/dav/cal'],
      ['Request + init', 200, 'MOVE /dav/moved (0 bytes)', '/dav/moved'],
      // node:http refuses a method in lower case (its parser answers 400): through the gateway too.
      ['fetch patch', 400, '', '/dav/lower'],
      ['fetch delete', 200, 'DELETE /dav/gone (0 bytes)', '/dav/gone'],
      ['fetch TRACE', 'error', 'TypeError'],
      ['PROPFIND 301', 207, 'PROPFIND /dav/folder/ (5 bytes)', '/dav/folder/'],
      ['COPY 302', 200, 'COPY /dav/folder/ (0 bytes)', '/dav/folder/'],
      ['MKCOL 303', 200, 'GET /dav/after (0 bytes)', '/dav/after'],
      ['xhr MKCOL', 201, 'MKCOL /dav/new-folder/ (0 bytes)', '/dav/new-folder/'],
      ['xhr LOCK', 200, 'LOCK /dav/file (11 bytes)', '/dav/file'],
      ['xhr PUT', 200, 'PUT /dav/file (9 bytes)', '/dav/file'],
    ]);
    expect(proxied.results).toEqual(direct.results);
    // The site got the same requests: method (case kept), path, body, headers; nothing of the gateway's.
    expect(proxied.seen.filter((s) => !s.includes('"GET"'))).toEqual(direct.seen.filter((s) => !s.includes('"GET"')));
    expect(proxied.seen.length).toBe(direct.seen.length);
  });

  it("the method header is honoured on the page's own POSTs only, and never names a method the gateway takes or refuses", async () => {
    const session = await createSession(env.t, `${env.origin}/`);
    const host = await env.t.join(session.hostUrl);
    const own = host.proxiedOrigin;
    const ask = (method: string, headers: Record<string, string>) =>
      env.t.call(method, `${own}/dav/probe`, {
        headers: { cookie: host.cookie, 'content-type': 'text/plain', ...headers },
        body: method === 'GET' ? undefined : 'x',
      });
    seen.length = 0;
    const cases: [string, Record<string, string>, number, string][] = [
      ['POST', { 'x-cobrowse-method': 'PROPFIND', origin: 'http://elsewhere.example' }, 403, 'BAD_ORIGIN'],
      ['POST', { 'x-cobrowse-method': 'PROPFIND' }, 403, 'BAD_ORIGIN'],
      ['POST', { 'x-cobrowse-method': 'PROPFIND', origin: own, 'sec-fetch-site': 'same-site' }, 403, 'BAD_ORIGIN'],
      // Origin: null counts as the page's own only with same-origin Fetch Metadata.
      ['POST', { 'x-cobrowse-method': 'PROPFIND', origin: 'null' }, 403, 'BAD_ORIGIN'],
      ['POST', { 'x-cobrowse-method': 'PROPFIND', origin: 'null', 'sec-fetch-site': 'cross-site' }, 403, 'BAD_ORIGIN'],
      ['PUT', { 'x-cobrowse-method': 'PROPFIND', origin: own }, 400, 'BAD_REQUEST'],
      ['POST', { 'x-cobrowse-method': 'DELETE', origin: own }, 400, 'BAD_REQUEST'],
      ['POST', { 'x-cobrowse-method': 'trace', origin: own }, 400, 'BAD_REQUEST'],
      ['POST', { 'x-cobrowse-method': 'CONNECT', origin: own }, 400, 'BAD_REQUEST'],
      ['POST', { 'x-cobrowse-method': 'PROP FIND', origin: own }, 400, 'BAD_REQUEST'],
    ];
    for (const [method, headers, status, code] of cases) {
      const res = await ask(method, headers);
      expect([method, headers, res.status, res.text]).toEqual([method, headers, status, expect.stringContaining(code)]);
    }
    expect(seen).toEqual([]);
    const res = await ask('POST', { 'x-cobrowse-method': 'PROPFIND', origin: own, 'sec-fetch-site': 'same-origin' });
    expect([res.status, res.text]).toEqual([207, 'PROPFIND /dav/probe (1 bytes)']);
    const noReferrer = await ask('POST', { 'x-cobrowse-method': 'REPORT', origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect([noReferrer.status, noReferrer.text]).toEqual([207, 'REPORT /dav/probe (1 bytes)']);
    // A GET carrying the header (a 303 followed) goes on as a GET, without it.
    const followed = await ask('GET', { 'x-cobrowse-method': 'MKCOL' });
    expect([followed.status, followed.text]).toEqual([200, 'GET /dav/probe (0 bytes)']);
    expect(seen.map((s) => JSON.parse(s)[6])).toEqual([[], [], []]);
  });
});
