// Two real sites for login-flow tests: an identity host and an app host on their own origins.
// The app signs in by a redirect to the identity host (`?return=`) or by a popup that posts its
// result back to its opener; each host sets a cookie of its own.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The two running sites. */
export interface LoginSites {
  idpOrigin: string;
  appOrigin: string;
  close(): Promise<void>;
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function page(res: ServerResponse, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', ...headers });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return new URLSearchParams(body);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** Starts the identity host and the app host on 127.0.0.1. */
export async function startLoginSites(): Promise<LoginSites> {
  const codes = new Map<string, string>();
  const idpSessions = new Map<string, string>();
  const appSessions = new Map<string, string>();
  let appOrigin = '';
  let idpOrigin = '';

  const idp = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', idpOrigin);
      if (url.pathname === '/authorize' && req.method === 'GET') {
        const user = idpSessions.get(cookies(req).idp_session ?? '');
        const ret = url.searchParams.get('return') ?? '';
        const mode = url.searchParams.get('mode') ?? 'redirect';
        if (user) return finish(res, user, ret, mode);
        return page(
          res,
          `<h1>Identity</h1><form id="idp-form" method="post" action="/authorize"><input type="hidden" name="return" value="${ret}"><input type="hidden" name="mode" value="${mode}"><input id="idp-user" name="user"><button id="idp-submit">Sign in</button></form>`,
        );
      }
      if (url.pathname === '/authorize' && req.method === 'POST') {
        const form = await readForm(req);
        const user = form.get('user') ?? '';
        const sid = randomBytes(8).toString('hex');
        idpSessions.set(sid, user);
        return finish(res, user, form.get('return') ?? '', form.get('mode') ?? 'redirect', {
          'set-cookie': `idp_session=${sid}; Path=/; HttpOnly; SameSite=Lax`,
        });
      }
      res.writeHead(404).end();
    })();
  });

  function finish(res: ServerResponse, user: string, ret: string, mode: string, headers: Record<string, string> = {}): void {
    if (!ret.startsWith(appOrigin)) {
      res.writeHead(400).end('bad return');
      return;
    }
    const code = randomBytes(8).toString('hex');
    codes.set(code, user);
    if (mode === 'popup') {
      // Posts to the opener with an exact target origin, as OAuth popups do.
      page(
        res,
        `<p id="done">Signed in</p><script>window.opener.postMessage({ code: ${JSON.stringify(code)} }, ${JSON.stringify(appOrigin)}); window.close();</script>`,
        headers,
      );
      return;
    }
    redirect(res, `${ret}?code=${code}`, headers);
  }

  const app = createServer((req, res) => {
    const url = new URL(req.url ?? '/', appOrigin);
    const user = appSessions.get(cookies(req).app_session ?? '');
    switch (url.pathname) {
      case '/home':
        if (!user) return redirect(res, '/login');
        return page(res, `<p id="app-user">App user: ${user}</p>`);
      case '/login':
        return redirect(res, `${idpOrigin}/authorize?return=${encodeURIComponent(`${appOrigin}/callback`)}`);
      case '/callback': {
        const codeUser = codes.get(url.searchParams.get('code') ?? '');
        if (!codeUser) return redirect(res, '/login');
        const sid = randomBytes(8).toString('hex');
        appSessions.set(sid, codeUser);
        if (url.searchParams.get('json') === '1') {
          res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `app_session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
          res.end(JSON.stringify({ user: codeUser }));
          return;
        }
        return redirect(res, '/home', { 'set-cookie': `app_session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
      }
      case '/popup-login':
        return page(
          res,
          `<button id="popup-button">Sign in with popup</button><p id="popup-result"></p><script>
document.getElementById('popup-button').addEventListener('click', function () {
  window.open(${JSON.stringify(`${idpOrigin}/authorize?mode=popup&return=${encodeURIComponent(`${appOrigin}/callback`)}`)}, 'idp', 'width=400,height=400');
});
addEventListener('message', function (ev) {
  if (ev.origin !== ${JSON.stringify(idpOrigin)}) return;
  fetch('/callback?json=1&code=' + ev.data.code).then(function (r) { return r.json(); }).then(function (d) {
    document.getElementById('popup-result').textContent = 'Popup user: ' + d.user;
  });
});
</script>`,
        );
      default:
        res.writeHead(404).end();
    }
  });

  idpOrigin = await listen(idp);
  appOrigin = await listen(app);
  return {
    idpOrigin,
    appOrigin,
    close: async () => {
      for (const s of [idp, app]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
