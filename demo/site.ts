import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { FRAME_HTML, toneWav, WIDGETS_BODY, WIDGETS_JS } from './widgets.js';

/** A running demo site. */
export interface DemoSite {
  origin: string;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;
const PASSWORD = 'demo';
const HTML = 'text/html; charset=utf-8';
const COOKIE_ATTRS = 'Path=/; HttpOnly; SameSite=Lax';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const PRODUCTS = [
  { name: 'Teapot', price: 12 },
  { name: 'Kettle', price: 30 },
  { name: 'Mug', price: 5 },
];

const CSS = `:root { --accent: #4f46e5; --ink: #1f2937; --muted: #6b7280; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
nav { display: flex; align-items: center; gap: 1rem; padding: 0.75rem 1.5rem; background: #fff; border-bottom: 1px solid #e5e7eb; }
nav a { color: var(--ink); text-decoration: none; }
nav a:hover { color: var(--accent); }
nav .brand { font-weight: 700; padding-left: 28px; background: url(/static/logo.png) no-repeat left center / 20px 20px; }
nav .spacer { flex: 1; }
nav form { margin: 0; }
#who { color: var(--muted); }
main { max-width: 42rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { color: var(--accent); margin-top: 0; }
a { color: var(--accent); }
button { font: inherit; padding: 0.4rem 0.9rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.1); }
nav button { background: transparent; color: var(--ink); padding: 0; }
#items { padding-left: 1.2rem; }
.item { padding: 0.2rem 0; }
#note { padding: 0.75rem 1rem; background: #eef2ff; border-radius: 6px; }
form#login-form { display: grid; gap: 0.75rem; max-width: 20rem; }
input { font: inherit; padding: 0.4rem 0.6rem; border: 1px solid #d1d5db; border-radius: 6px; }
#error { color: #b91c1c; }
`;

const APP_JS = `"use strict";
(function () {
  var items = document.getElementById("items");
  var count = document.getElementById("count");
  var add = document.getElementById("add-item");
  if (items && count && add) {
    add.addEventListener("click", function () {
      var li = document.createElement("li");
      li.className = "item";
      li.textContent = "Item " + (items.querySelectorAll(".item").length + 1);
      items.appendChild(li);
      count.textContent = String(items.querySelectorAll(".item").length);
    });
  }
  var pay = document.getElementById("pay-now");
  if (pay) {
    pay.addEventListener("click", function () {
      document.getElementById("paid").textContent = "Paid";
    });
  }
  var toggle = document.getElementById("toggle-note");
  var note = document.getElementById("note");
  if (toggle && note) {
    toggle.addEventListener("click", function () {
      note.toggleAttribute("hidden");
    });
  }
  var view = document.getElementById("spa-view");
  if (view) {
    var render = function () {
      var tab = location.pathname.split("/")[2] || "overview";
      view.textContent = "";
      var h = document.createElement("h2");
      h.textContent = tab === "details" ? "Details" : tab === "reviews" ? "Reviews" : "Overview";
      view.appendChild(h);
      var p = document.createElement("p");
      p.id = "spa-text";
      p.textContent = "This is the " + h.textContent.toLowerCase() + " tab, rendered by script.";
      view.appendChild(p);
    };
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest && ev.target.closest("a[data-route]");
      if (!a) return;
      ev.preventDefault();
      history.pushState(null, "", a.getAttribute("href"));
      render();
    });
    window.addEventListener("popstate", render);
    render();
  }
})();
`;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function makeLogo(size = 64): Buffer {
  const stride = size * 4 + 1;
  const raw = Buffer.alloc(stride * size);
  const mid = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - mid, y - mid);
      const rgba = d < size * 0.2 ? [255, 255, 255, 255] : d < size * 0.47 ? [79, 70, 229, 255] : [0, 0, 0, 0];
      raw.set(rgba, y * stride + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

function token(): string {
  return randomBytes(16).toString('hex');
}

/** Reads the request body as text; resolves null when it exceeds the limit (the rest is drained). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length), ...headers });
  res.end(buf);
}

function redirect(res: ServerResponse, status: number, location: string, headers: Record<string, string> = {}): void {
  send(res, status, HTML, `<!DOCTYPE html><title>Redirect</title><a href="${location}">Continue</a>`, {
    Location: location,
    'Cache-Control': 'no-store',
    ...headers,
  });
}

function page(title: string, user: string | undefined, body: string, scripts = ''): string {
  const account = user
    ? `<span id="who">${escapeHtml(user)}</span><form method="post" action="/logout"><button type="submit">Sign out</button></form>`
    : `<a href="/login">Sign in</a>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo Shop</title>
<link rel="icon" href="/static/logo.png">
<link rel="stylesheet" href="/static/site.css">${scripts}
</head>
<body>
<nav><a class="brand" href="/">Demo Shop</a><a href="/">Home</a><a href="/products">Products</a><a href="/about">About</a><span class="spacer"></span>${account}</nav>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage(csrf: string, username = '', error = ''): string {
  const message = error ? `<p id="error">${escapeHtml(error)}</p>\n` : '';
  return page(
    'Sign in',
    undefined,
    `<h1>Sign in</h1>
${message}<form id="login-form" method="post" action="/login">
<input type="hidden" name="csrf" value="${csrf}">
<label>Username <input name="username" id="username" autocomplete="username" value="${escapeHtml(username)}"></label>
<label>Password <input type="password" name="password" id="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
<p>Use any username with the password <code>${PASSWORD}</code>.</p>`,
  );
}

/** Starts the demo site on host (default 127.0.0.1) and port (default 0 = any free port). */
export function startDemoSite(options: { host?: string; port?: number } = {}): Promise<DemoSite> {
  const host = options.host ?? '127.0.0.1';
  const logo = makeLogo();
  const tone = toneWav();
  const sessions = new Map<string, string>();

  const renderLogin = (res: ServerResponse, status: number, username?: string, error?: string): void => {
    const csrf = token();
    send(res, status, HTML, loginPage(csrf, username, error), {
      'Cache-Control': 'no-store',
      'Set-Cookie': `demo_csrf=${csrf}; ${COOKIE_ATTRS}`,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const [path = '/', search = ''] = (req.url ?? '/').split('?', 2);
    const query = new URLSearchParams(search);
    const cookies = parseCookies(req.headers.cookie);
    const sessionId = cookies.get('demo_session');
    const user = sessionId ? sessions.get(sessionId) : undefined;
    const html = (status: number, title: string, body: string, scripts?: string): void =>
      send(res, status, HTML, page(title, user, body, scripts), { 'Cache-Control': 'no-store' });
    const read = method === 'GET' || method === 'HEAD';
    const allowed = path === '/login' ? 'GET, HEAD, POST' : path === '/logout' ? 'POST' : 'GET, HEAD';
    if (!allowed.split(', ').includes(method)) {
      return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { Allow: allowed });
    }

    switch (path) {
      case '/':
        return html(
          200,
          'Home',
          `<h1 id="title">Demo Shop</h1>
<img id="logo" src="/static/logo.png" alt="Demo Shop logo" width="64" height="64">
<p>A tiny bundled website for trying cobrowsing offline. Open it through the gateway in two windows and browse together.</p>
<ul><li><a href="/products">Browse products</a></li><li><a href="/about">About this shop</a></li><li><a href="/login">Sign in</a></li></ul>`,
        );
      case '/products': {
        const sorted = query.get('sort') === 'price' ? [...PRODUCTS].sort((a, b) => a.price - b.price) : PRODUCTS;
        const items = sorted.map((p) => `<li class="item">${p.name} — $${p.price}</li>`).join('\n');
        return html(
          200,
          'Products',
          `<h1>Products</h1>
<p><a href="/products">Default order</a> · <a href="/products?sort=price">Sort by price</a></p>
<ul id="items">
${items}
</ul>
<p><button id="add-item">Add item</button> Items: <span id="count">${PRODUCTS.length}</span></p>
<p><button id="pay-now">Pay now</button> <span id="paid"></span> <a id="checkout-link" href="/checkout">Checkout</a></p>
<p><button id="toggle-note">Toggle note</button></p>
<p id="note">Every click here happens for everyone in the session.</p>`,
          `\n<script src="/static/app.js" defer></script>`,
        );
      }
      case '/checkout':
        return html(200, 'Checkout', '<h1 id="checkout-title">Checkout</h1>\n<p>Only the host opens this page when cobrowsing.</p>');
      case '/app':
      case '/app/overview':
      case '/app/details':
      case '/app/reviews':
        return html(
          200,
          'App',
          `<h1>Single-page app</h1>
<p><a data-route href="/app/overview">Overview</a> · <a data-route href="/app/details">Details</a> · <a data-route href="/app/reviews">Reviews</a></p>
<section id="spa-view"></section>
<script src="/static/app.js" defer></script>`,
        );
      case '/about':
        return html(
          200,
          'About',
          `<h1>About</h1>
<p>Demo Shop is served by the gateway's demo server so newcomers can see cobrowsing work without the internet.</p>
<p><a href="/">Back home</a> · <a href="/products?sort=price">Cheapest products first</a></p>`,
        );
      case '/login': {
        if (read) return renderLogin(res, 200);
        const body = await readBody(req, BODY_LIMIT);
        if (body === null) return send(res, 413, 'text/plain; charset=utf-8', 'Payload Too Large\n');
        const form = new URLSearchParams(body);
        const username = (form.get('username') ?? '').trim();
        const csrf = cookies.get('demo_csrf');
        if (!csrf || form.get('csrf') !== csrf) {
          return renderLogin(res, 403, username, 'Your session expired, please try again.');
        }
        if (!username || form.get('password') !== PASSWORD) {
          return renderLogin(res, 401, username, 'Wrong username or password.');
        }
        const id = token();
        sessions.set(id, username);
        return redirect(res, 303, '/account', { 'Set-Cookie': `demo_session=${id}; ${COOKIE_ATTRS}` });
      }
      case '/account':
        if (!user) return redirect(res, 302, '/login');
        return html(
          200,
          'Account',
          `<h1>Your account</h1>
<p id="account-name">Signed in as ${escapeHtml(user)}</p>
<p class="private" id="card-on-file">Card on file: 4111 1111 1111 1111, expires 12/29</p>
<form id="profile"><label>Phone <input id="phone" name="phone" value="+1 555 0100"></label>
<label>Card number <input id="card" name="card" autocomplete="cc-number"></label>
<label>Note <textarea id="note-field" name="note"></textarea></label>
<label><input type="checkbox" id="newsletter" name="newsletter"> Newsletter</label></form>
<p><a href="/products">Continue shopping</a></p>`,
        );
      case '/logout':
        await readBody(req, BODY_LIMIT);
        if (sessionId) sessions.delete(sessionId);
        return redirect(res, 303, '/', { 'Set-Cookie': `demo_session=; Max-Age=0; ${COOKIE_ATTRS}` });
      case '/static/site.css':
        return send(res, 200, 'text/css; charset=utf-8', CSS, { 'Cache-Control': 'no-cache' });
      case '/static/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', APP_JS, { 'Cache-Control': 'no-cache' });
      case '/widgets':
        return html(200, 'Widgets', WIDGETS_BODY, '\n<script src="/static/widgets.js" defer></script>');
      case '/widgets/frame':
        return send(res, 200, HTML, FRAME_HTML, { 'Cache-Control': 'no-store' });
      case '/static/widgets.js':
        return send(res, 200, 'text/javascript; charset=utf-8', WIDGETS_JS, { 'Cache-Control': 'no-cache' });
      case '/static/tone.wav':
        return send(res, 200, 'audio/wav', tone, { 'Cache-Control': 'no-cache' });
      case '/static/logo.png':
        return send(res, 200, 'image/png', logo, { 'Cache-Control': 'no-cache' });
      case '/api/time':
        return send(res, 200, 'application/json', JSON.stringify({ now: Date.now() }), { 'Cache-Control': 'no-store' });
      case '/api/echo':
      case '/api/echo.css': {
        // The request's headers as JSON, or inside a style sheet's comment (what a follower's view may load).
        const echo = JSON.stringify({
          cookie: req.headers.cookie ?? '',
          userAgent: req.headers['user-agent'] ?? '',
          acceptLanguage: req.headers['accept-language'] ?? '',
        });
        const css = path === '/api/echo.css';
        return send(res, 200, css ? 'text/css; charset=utf-8' : 'application/json', css ? `/* ${echo} */` : echo, { 'Cache-Control': 'no-store' });
      }
      case '/api/set-cookie': {
        const q = new URLSearchParams(search);
        const name = (q.get('name') ?? '').replace(/[^A-Za-z0-9_-]/g, '');
        const value = (q.get('value') ?? '').replace(/[^A-Za-z0-9_-]/g, '');
        if (!name) return send(res, 400, 'text/plain; charset=utf-8', 'name required\n');
        return send(res, 200, 'application/json', '{"ok":true}', { 'Cache-Control': 'no-store', 'Set-Cookie': `${name}=${value}; Path=/; SameSite=Lax` });
      }
      default:
        return html(404, 'Not found', `<h1>Not found</h1>\n<p>There is nothing at this address. <a href="/">Go home</a></p>`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
      else res.destroy();
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      const close = (): Promise<void> =>
        new Promise((done, fail) => {
          server.close((err) => (err ? fail(err) : done()));
          server.closeAllConnections();
        });
      resolve({ origin, close });
    });
  });
}
