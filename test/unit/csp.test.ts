import { describe, expect, it } from 'vitest';
import { type CspContext, rewriteCsp } from '../../gateway/csp.js';

const ctx = (insecureGateway = true): CspContext => ({
  pageOrigin: new URL('https://shop.example.com'),
  mapOrigin: (origin) =>
    ({ 'https://shop.example.com': 'http://o1--s.cobrowse.localhost:8080', 'https://cdn.example.net': 'http://o2--s.cobrowse.localhost:8080' })[origin] ?? null,
  knownOrigins: ['https://shop.example.com', 'https://cdn.example.net', 'https://img.example.net:8443', 'https://example.net'],
  nonce: 'N0NCE',
  injectScriptUrl: 'http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js',
  insecureGateway,
  gatewayOrigin: 'http://cobrowse.localhost:8080',
  entrySource: 'http://*.cobrowse.localhost:8080/__cobrowse/enter',
});

describe('rewriteCsp', () => {
  it.each([
    [
      "script-src 'self' https://cdn.example.net",
      "script-src 'self' http://o2--s.cobrowse.localhost:8080 http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js 'nonce-N0NCE' http://cobrowse.localhost:8080",
    ],
    ["script-src 'nonce-abc' 'strict-dynamic'", "script-src 'nonce-abc' 'strict-dynamic' 'nonce-N0NCE' http://cobrowse.localhost:8080"],
    ["script-src 'self' 'sha256-AAAA'", "script-src 'self' 'sha256-AAAA' 'nonce-N0NCE' http://cobrowse.localhost:8080"],
    [
      "default-src 'none'",
      "default-src http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js 'nonce-N0NCE' http://cobrowse.localhost:8080; connect-src 'self' http://*.cobrowse.localhost:8080/__cobrowse/enter",
    ],
    [
      "default-src 'self'; img-src cdn.example.net",
      "default-src 'self' http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js 'nonce-N0NCE' http://cobrowse.localhost:8080; img-src http://o2--s.cobrowse.localhost:8080 http://cobrowse.localhost:8080; connect-src 'self' http://*.cobrowse.localhost:8080/__cobrowse/enter",
    ],
    // A wildcard stands for the session's origins it matches (here cdn.example.net: not the bare
    // domain, not another port), never for every proxied host.
    ['img-src *.example.net data:', 'img-src *.example.net http://o2--s.cobrowse.localhost:8080 data: http://cobrowse.localhost:8080'],
    ['img-src *.unrelated.example', 'img-src *.unrelated.example http://cobrowse.localhost:8080'],
    ['img-src https://*.example.net:*/img/', 'img-src https://*.example.net:*/img/ http://o2--s.cobrowse.localhost:8080/img/ http://cobrowse.localhost:8080'],
    // Paths stay: the proxied host serves the same paths.
    [
      "script-src 'self' https://cdn.example.net/safe/",
      "script-src 'self' http://o2--s.cobrowse.localhost:8080/safe/ http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js 'nonce-N0NCE' http://cobrowse.localhost:8080",
    ],
    ['connect-src wss://cdn.example.net', "connect-src ws://o2--s.cobrowse.localhost:8080 'self' http://*.cobrowse.localhost:8080/__cobrowse/enter"],
    [
      "script-src 'self'; upgrade-insecure-requests; report-uri /csp",
      "script-src 'self' http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js 'nonce-N0NCE' http://cobrowse.localhost:8080",
    ],
    ['frame-ancestors https://shop.example.com https://other.org', 'frame-ancestors http://o1--s.cobrowse.localhost:8080 https://other.org'],
  ])('%s', (input, expected) => {
    expect(rewriteCsp(input, ctx())).toBe(expected);
  });

  it('keeps upgrade-insecure-requests behind an https gateway, and rewrites every policy of a list', () => {
    expect(rewriteCsp("upgrade-insecure-requests, img-src 'self'", ctx(false))).toBe(
      "upgrade-insecure-requests, img-src 'self' http://cobrowse.localhost:8080",
    );
  });

  it("adds the script URL, not a nonce, where a nonce would switch off the site's 'unsafe-inline'", () => {
    expect(rewriteCsp("script-src 'unsafe-inline' https://cdn.example.net", ctx())).toBe(
      "script-src 'unsafe-inline' http://o2--s.cobrowse.localhost:8080 http://o1--s.cobrowse.localhost:8080/__cobrowse/inject.js http://cobrowse.localhost:8080",
    );
  });

  it("lets the ticket hand-off through (the gateway's host once, its other hosts' entry), and adds nothing where 'none' allows nothing", () => {
    expect(rewriteCsp("img-src 'none'; frame-src 'self'; object-src 'none'", ctx())).toBe(
      "img-src 'none'; frame-src 'self' http://cobrowse.localhost:8080; object-src 'none'",
    );
  });
});
