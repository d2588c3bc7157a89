// Stylesheets with an integrity attribute, in real Chromium, loaded directly and through the
// gateway: the gateway changes their bytes (URLs mapped), so it checks the site's bytes itself.
// A matching stylesheet applies, a tampered one does not, in both; the site never sees the
// gateway's marker.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newParticipant } from '../helpers/browser.js';
import { createSession } from '../helpers/gateway.js';
import { useNamedSites } from '../helpers/named-sites.js';

const sri = (css: string) => `sha384-${createHash('sha384').update(css).digest('base64')}`;

const seen: string[] = [];
const a = () => env.origin('integrity-a');
const b = () => env.origin('integrity-b');
const GOOD = () => `#good{color:rgb(1, 2, 3)} #pic{background:url(${b()}/pic.png)}`;
const BAD = '#bad{color:rgb(4, 5, 6)}';
const LOCAL = '#local{color:rgb(7, 8, 9)}';

function page(): string {
  return `<!DOCTYPE html><html><head><title>integrity</title>
<link rel="stylesheet" href="${b()}/good.css" integrity="${sri(GOOD())}" crossorigin="anonymous">
<link rel="stylesheet" href="${b()}/bad.css" integrity="${sri('#bad{color:rgb(0, 0, 9)}')}" crossorigin="anonymous">
<link rel="stylesheet" href="/local.css?v=1" integrity="sha256-${createHash('sha256').update(LOCAL).digest('base64')}">
</head><body><p id="good">good</p><p id="bad">bad</p><p id="local">local</p><div id="pic"></div></body></html>`;
}

const env = useNamedSites(['integrity-a', 'integrity-b'], (req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  seen.push(`${host}${req.url}`);
  const css = (text: string) => {
    res.writeHead(200, { 'content-type': 'text/css', 'access-control-allow-origin': '*' });
    res.end(text);
  };
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page());
  } else if (req.url === '/good.css') css(GOOD());
  else if (req.url === '/bad.css') css(BAD);
  else if (req.url === '/local.css?v=1') css(LOCAL);
  else {
    res.writeHead(404);
    res.end();
  }
});

async function colors(pageUrl: string, via: 'direct' | 'gateway') {
  const p = await newParticipant(env.browser);
  await p.page.goto(pageUrl);
  await p.page.waitForLoadState('load');
  const read = () => p.page.evaluate(() => ['good', 'bad', 'local'].map((id) => getComputedStyle(document.getElementById(id) as Element).color).join(' | '));
  await expect.poll(read).toMatch(/^rgb\(1, 2, 3\) \| .* \| rgb\(7, 8, 9\)$/);
  const result = { colors: await read(), via };
  await p.context.close();
  return result;
}

describe('stylesheet integrity through the gateway', () => {
  it('applies the stylesheets whose bytes match and refuses the tampered one, directly and through the gateway', async () => {
    const direct = await colors(`${a()}/`, 'direct');
    expect(direct.colors).toBe('rgb(1, 2, 3) | rgb(0, 0, 0) | rgb(7, 8, 9)');
    seen.length = 0;
    const session = await createSession(env.t, `${a()}/`);
    const proxied = await colors(session.hostUrl, 'gateway');
    expect(proxied.colors).toBe(direct.colors);
    // The site got its own URLs, never the gateway's marker; the refusal is in the gateway's log.
    expect(seen).toEqual(expect.arrayContaining([`integrity-b.localhost/good.css`, `integrity-b.localhost/bad.css`, `integrity-a.localhost/local.css?v=1`]));
    expect(seen.filter((s) => s.includes('__cobrowse'))).toEqual([]);
    expect(env.t.logs.some((l) => l.msg === 'stylesheet refused: integrity' && l.sessionId === session.id)).toBe(true);
  });
});
