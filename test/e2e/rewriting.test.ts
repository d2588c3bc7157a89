// The rewriting proxy with real sites and a real browser: absolute URLs in markup and CSS go to
// the session's proxied hosts (or the "not allowed" page), encodings and charsets are decoded,
// ranges pass through, and the browser never contacts a real origin.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, mirrorBody, newParticipant } from '../helpers/browser.js';
import { createSession, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// A 2x2 red PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const FILE = Buffer.from(Array.from({ length: 1000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));

let a: Server;
let b: Server;
let aOrigin = '';
let bOrigin = '';
let t: TestGateway;
let browser: Browser;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function page(body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>A</title><link rel="stylesheet" href="${bOrigin}/style.css"></head><body>${body}</body></html>`;
}

beforeAll(async () => {
  a = createServer((req, res) => {
    const html = (body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    switch (req.url) {
      case '/page':
        return html(
          page(`<h1 id="title">Page A</h1>
<img id="img" src="${bOrigin}/img.png" srcset="${bOrigin}/img.png 1x, ${bOrigin}/img.png?2x 2x" alt="">
<div id="bg" style="background-image: url('${bOrigin}/img.png'); width: 4px; height: 4px"></div>
<a id="link" href="${bOrigin}/page2">to B</a> <a id="bad" href="https://not-allowed.example/x?y=1">away</a>
<form id="form" action="${bOrigin}/submit" method="post"><button>go</button></form>`),
        );
      case '/gzip':
        return html(gzipSync(page('<p id="enc">gzip page</p>')), { 'content-encoding': 'gzip' });
      case '/br':
        return html(brotliCompressSync(page('<p id="enc">brotli page</p>')), { 'content-encoding': 'br' });
      case '/deflate':
        return html(deflateSync(page('<p id="enc">deflate page</p>')), { 'content-encoding': 'deflate' });
      case '/csp-strict':
        return html(page(`<p id="csp">strict</p><script nonce="abc">document.getElementById('csp').textContent = 'site script ran';</script>`), {
          'content-security-policy': "script-src 'nonce-abc' 'strict-dynamic'; object-src 'none'; base-uri 'none'",
        });
      case '/csp-self':
        return html(page(`<p id="csp">self</p>`), { 'content-security-policy': "default-src 'self'; img-src 'self' data:" });
      case '/setc':
        res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': ['k1=v1; Path=/', 'k2=v2; Path=/'] });
        return res.end('ok');
      case '/clear':
        res.writeHead(200, { 'content-type': 'text/plain', 'clear-site-data': '"cookies", "cache"' });
        return res.end('cleared');
      case '/cookies':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(req.headers.cookie ?? '');
      case '/docwrite':
        return html(page(`<p id="dw-before">before</p><script>document.write('<img id="dw" src="' + '${bOrigin}' + '/img.png">');</script>`));
      case '/nested':
        return html(page(`<p id="outer">outer page</p><iframe id="xframe" src="${bOrigin}/frame-outer" width="400" height="200"></iframe>`));
      case '/innermost':
        return html(
          '<!DOCTYPE html><html><head><title>I</title></head><body><p id="deep">Deep in A</p><button id="deep-button">Change</button><script>document.getElementById("deep-button").addEventListener("click", function () { document.getElementById("deep").textContent = "Changed deep"; });</script></body></html>',
        );
      case '/framed':
        return html(page(`<p id="outer">outer page</p><iframe id="xframe" src="${bOrigin}/frame" width="300" height="100"></iframe>`));
      case '/spellings': {
        // URLs the browser reads as absolute although they do not look it: the URL parser removes
        // tabs and newlines anywhere and C0 controls around, and takes a backslash for a slash.
        const host = bOrigin.slice('http://'.length);
        return html(
          page(`<img id="s1" src="ht&#10;tp://${host}/img.png?s1">
<img id="s2" src="/&#9;/${host}/img.png?s2">
<img id="s3" src="/\\${host}/img.png?s3">
<img id="s4" src="&#1;http://${host}/img.png?s4">
<img id="s5" src="\u0001//${host}/img.png?s5">
<img id="s6" src="h\ttt\np://${host}/img.png?s6">
<img id="s7" srcset="/\\${host}/img.png?s7 1x">`),
        );
      }
      case '/latin1':
        res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' });
        return res.end(Buffer.from('<!DOCTYPE html><html><head><title>L</title></head><body><p id="cafe">caf\xe9 \x80</p></body></html>', 'latin1'));
      case '/file': {
        const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
        if (range) {
          const [start, end] = [Number(range[1]), Number(range[2])];
          res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${end}/${FILE.length}`, 'accept-ranges': 'bytes' });
          return res.end(FILE.subarray(start, end + 1));
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'content-length': String(FILE.length) });
        return res.end(FILE);
      }
      default:
        res.writeHead(404).end();
    }
  });
  b = createServer((req, res) => {
    if (req.url?.startsWith('/img.png')) {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(PNG);
    }
    if (req.url === '/style.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      return res.end(`@import url("${bOrigin}/more.css"); h1 { color: rgb(10, 20, 30); } #bg2 { background: url(${bOrigin}/img.png); }`);
    }
    if (req.url === '/more.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      return res.end('h1 { letter-spacing: 3px; }');
    }
    if (req.url === '/frame-outer') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(
        `<!DOCTYPE html><html><head><title>O</title></head><body><p id="middle">B in the middle</p><iframe id="yframe" src="${aOrigin}/innermost"></iframe></body></html>`,
      );
    }
    if (req.url === '/frame') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(
        '<!DOCTYPE html><html><head><title>F</title></head><body><p id="inner">Inside B</p><button id="inner-button">Change</button><script>document.getElementById("inner-button").addEventListener("click", function () { document.getElementById("inner").textContent = "Changed in B"; });</script></body></html>',
      );
    }
    if (req.url === '/page2') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!DOCTYPE html><html><head><title>B</title></head><body><h1 id="title">Page B</h1></body></html>');
    }
    res.writeHead(404).end();
  });
  aOrigin = await listen(a);
  bOrigin = await listen(b);
  t = await startTestGateway({ demo: { enabled: false }, sites: [{ url: aOrigin }, { url: bOrigin }] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  a?.close();
  b?.close();
});

describe('rewriting proxy', () => {
  it('maps absolute URLs in markup and CSS to proxied hosts, and other sites to the "not allowed" page', async () => {
    const session = await createSession(t, `${aOrigin}/page`);
    const host = await newParticipant(browser);
    const requested: string[] = [];
    host.page.on('request', (r) => requested.push(r.url()));
    await host.page.goto(session.hostUrl);
    const o2 = new RegExp(`^http://o2--${session.id}\\.cobrowse\\.localhost:${t.gateway.port}/`);

    await expect.poll(() => host.page.evaluate(() => (document.getElementById('img') as HTMLImageElement).naturalWidth)).toBe(2);
    await expect.poll(() => host.page.evaluate(() => getComputedStyle(document.getElementById('title') as HTMLElement).color)).toBe('rgb(10, 20, 30)');
    await expect.poll(() => host.page.evaluate(() => getComputedStyle(document.getElementById('title') as HTMLElement).letterSpacing)).toBe('3px');
    expect(await host.page.getAttribute('#link', 'href')).toMatch(o2);
    expect(await host.page.getAttribute('#form', 'action')).toMatch(o2);
    expect(await host.page.getAttribute('#img', 'srcset')).toMatch(/^http:\/\/o2--.*\/img.png 1x, http:\/\/o2--.*\/img.png\?2x 2x$/);
    expect(await host.page.getAttribute('#bad', 'href')).toBe(`${t.gateway.url}/blocked?url=${encodeURIComponent('https://not-allowed.example/x?y=1')}`);

    // A follower's mirror loads the other origin's assets too.
    const follower = await newParticipant(browser);
    await follower.page.goto(session.joinUrl);
    await expect.poll(() => mirrorBody(follower.page)).toContain('Page A');
    await expect
      .poll(() =>
        follower.page.evaluate(
          () =>
            ((document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentDocument?.getElementById('img') as HTMLImageElement | null)?.naturalWidth,
        ),
      )
      .toBe(2);

    await Promise.all([host.page.waitForURL(o2), host.page.click('#link')]);
    expect(await host.page.textContent('#title')).toBe('Page B');
    await expect.poll(() => mirrorBody(follower.page)).toContain('Page B');

    const gatewayHost = new RegExp(`^http://([a-z0-9-]+\\.)*localhost:${t.gateway.port}/`);
    expect(requested.filter((u) => !gatewayHost.test(u))).toEqual([]);
    await Promise.all([host.context.close(), follower.context.close()]);
  });

  it('maps URLs the browser reads as absolute although they do not look it (tabs, newlines, C0 controls, backslashes)', async () => {
    const session = await createSession(t, `${aOrigin}/spellings`);
    const host = await newParticipant(browser);
    const requested: string[] = [];
    host.page.on('request', (r) => requested.push(r.url()));
    await host.page.goto(session.hostUrl);
    const o2 = `http://o2--${session.id}.cobrowse.localhost:${t.gateway.port}/img.png?`;
    for (const id of ['s1', 's2', 's3', 's4', 's5', 's6', 's7']) {
      await expect.poll(() => host.page.evaluate((i) => (document.getElementById(i) as HTMLImageElement).naturalWidth, id), { message: id }).toBe(2);
      expect(await host.page.evaluate((i) => (document.getElementById(i) as HTMLImageElement).currentSrc, id)).toBe(`${o2}${id}`);
    }
    const gatewayHost = new RegExp(`^http://([a-z0-9-]+\\.)*localhost:${t.gateway.port}/`);
    expect(requested.filter((u) => !gatewayHost.test(u))).toEqual([]);
    await host.context.close();
  });

  it('decodes gzip, deflate and br pages and keeps a windows-1252 page rendering the same', async () => {
    const session = await createSession(t, `${aOrigin}/gzip`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const origin = new URL(host.page.url()).origin;
    for (const [path, text] of [
      ['/gzip', 'gzip page'],
      ['/br', 'brotli page'],
      ['/deflate', 'deflate page'],
    ]) {
      await host.page.goto(`${origin}${path}`);
      expect(await host.page.textContent('#enc')).toBe(text);
      expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    }
    await host.page.goto(`${origin}/latin1`);
    expect(await host.page.textContent('#cafe')).toBe('café €');
    expect(await host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await host.context.close();
  });

  it('keeps a strict Content-Security-Policy working: the site script and the sync script both run', async () => {
    const session = await createSession(t, `${aOrigin}/csp-strict`);
    const host = await newParticipant(browser);
    const violations: string[] = [];
    host.page.on('console', (m) => {
      // The fixture's cross-origin stylesheet is refused by default-src 'self', as it is on the real site.
      if (/Content Security Policy/i.test(m.text()) && !m.text().includes('/style.css')) violations.push(m.text());
    });
    await host.page.goto(session.hostUrl);
    expect(await host.page.textContent('#csp')).toBe('site script ran');
    await expect.poll(() => host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    const follower = await newParticipant(browser);
    await follower.page.goto(session.joinUrl);
    await expect.poll(() => mirrorBody(follower.page)).toContain('site script ran');

    await host.page.goto(`${new URL(host.page.url()).origin}/csp-self`);
    await expect.poll(() => host.page.evaluate('window.__cobrowse && window.__cobrowse.mode')).toBe('live');
    await expect.poll(() => mirrorBody(follower.page)).toContain('self');
    expect(violations.map((v) => v.slice(0, 300))).toEqual([]);
    await Promise.all([host.context.close(), follower.context.close()]);
  });

  it('Clear-Site-Data "cookies" clears the site cookies in the session jar, not the participant', async () => {
    const session = await createSession(t, `${aOrigin}/setc`);
    const host = await t.join(session.hostUrl);
    const h = { cookie: host.cookie };
    await t.call('GET', `${host.proxiedOrigin}/setc`, { headers: h });
    expect((await t.call('GET', `${host.proxiedOrigin}/cookies`, { headers: h })).text).toBe('k1=v1; k2=v2');
    const cleared = await t.call('GET', `${host.proxiedOrigin}/clear`, { headers: h });
    expect(cleared.headers['clear-site-data']).toBe('"cache"');
    const after = await t.call('GET', `${host.proxiedOrigin}/cookies`, { headers: h });
    expect(after.status).toBe(200);
    expect(after.text).toBe('');
  });

  it('mirrors a cross-origin frame of another allowed origin, and a controller acts inside it', async () => {
    const session = await createSession(t, `${aOrigin}/framed`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const inner = host.page.frameLocator('#xframe').locator('#inner');
    await expect.poll(() => inner.textContent({ timeout: 2000 })).toBe('Inside B');
    const ctl = await newParticipant(browser);
    await ctl.page.goto(session.joinUrl);
    const mirrored = () =>
      ctl.page.evaluate(() => {
        const doc = (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentDocument;
        const nested = (doc?.getElementById('xframe') as HTMLIFrameElement | null)?.contentDocument;
        return nested?.getElementById('inner')?.textContent ?? null;
      });
    await expect.poll(mirrored, { timeout: 10_000 }).toBe('Inside B');
    await host.page.frameLocator('#xframe').locator('#inner-button').click();
    await expect.poll(mirrored).toBe('Changed in B');
    // The frame reloads in place: its new document is recorded and mirrored again.
    await host.page.evaluate(() => {
      const f = document.getElementById('xframe') as HTMLIFrameElement;
      const again = f.src;
      f.src = again;
    });
    await expect.poll(() => inner.textContent({ timeout: 2000 })).toBe('Inside B');
    await expect.poll(mirrored).toBe('Inside B');
    // The controller clicks inside the mirrored frame: applied in the host's frame.
    await ctl.page.frameLocator('#cobrowse-mirror').frameLocator('#xframe').locator('#inner-button').click();
    await expect.poll(() => inner.textContent()).toBe('Changed in B');
    await Promise.all([host.context.close(), ctl.context.close()]);
  });

  it('mirrors a cross-origin frame inside a cross-origin frame, and a controller acts two frames deep', async () => {
    const session = await createSession(t, `${aOrigin}/nested`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    const deep = host.page.frameLocator('#xframe').frameLocator('#yframe').locator('#deep');
    await expect.poll(() => deep.textContent({ timeout: 2000 })).toBe('Deep in A');
    const ctl = await newParticipant(browser);
    await ctl.page.goto(session.joinUrl);
    const mirrored = () =>
      ctl.page.evaluate(() => {
        const top = (document.getElementById('cobrowse-mirror') as HTMLIFrameElement).contentDocument;
        const middle = (top?.getElementById('xframe') as HTMLIFrameElement | null)?.contentDocument;
        const inner = (middle?.getElementById('yframe') as HTMLIFrameElement | null)?.contentDocument;
        return inner?.getElementById('deep')?.textContent ?? null;
      });
    await expect.poll(mirrored, { timeout: 10_000 }).toBe('Deep in A');
    await ctl.page.frameLocator('#cobrowse-mirror').frameLocator('#xframe').frameLocator('#yframe').locator('#deep-button').click();
    await expect.poll(() => deep.textContent({ timeout: 2000 })).toBe('Changed deep');
    await expect.poll(mirrored).toBe('Changed deep');
    await Promise.all([host.context.close(), ctl.context.close()]);
  });

  it('maps URLs in markup the page writes with document.write while it loads', async () => {
    const session = await createSession(t, `${aOrigin}/docwrite`);
    const host = await newParticipant(browser);
    await host.page.goto(session.hostUrl);
    expect(await host.page.getAttribute('#dw', 'src')).toMatch(new RegExp(`^http://o2--${session.id}\\.cobrowse\\.localhost:${t.gateway.port}/img.png$`));
    await expect.poll(() => host.page.evaluate(() => (document.getElementById('dw') as HTMLImageElement).naturalWidth)).toBe(2);
    await host.context.close();
  });

  it('passes Range requests and their 206 answers through untouched', async () => {
    const session = await createSession(t, `${aOrigin}/page`);
    const host = await t.join(session.hostUrl);
    const part = await t.call('GET', `${host.proxiedOrigin}/file`, { headers: { cookie: host.cookie, range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${FILE.length}`);
    expect(part.text).toBe(FILE.subarray(10, 20).toString());
    const whole = await t.call('GET', `${host.proxiedOrigin}/file`, { headers: { cookie: host.cookie } });
    expect(whole.status).toBe(200);
    expect(whole.headers['content-length']).toBe(String(FILE.length));
    expect(whole.text).toBe(FILE.toString());
  });
});
