import { describe, expect, it } from 'vitest';
import { rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';
import { mapFrameAllow } from '../../protocol/frame-allow.js';

/** The session's origins -> proxied hosts; other http(s) origins -> the gateway's "not allowed" page; others kept. */
function map(url: string): string | null {
  const u = new URL(url);
  if (u.origin === 'https://maps.example') return `http://o2--s.cobrowse.localhost:8080${u.pathname}`;
  if (u.origin === 'http://pay.example:8443') return `http://o3--s.cobrowse.localhost:8080${u.pathname}`;
  if (u.protocol === 'http:' || u.protocol === 'https:') return `http://cobrowse.localhost:8080/__cobrowse/blocked-origin/${encodeURIComponent(u.origin)}`;
  return null;
}

describe('mapFrameAllow', () => {
  it.each([
    ['geolocation https://maps.example', 'geolocation http://o2--s.cobrowse.localhost:8080'],
    // Any URL stands for its origin; case and a path do not matter.
    ['camera HTTPS://Maps.Example/some/path?q', 'camera http://o2--s.cobrowse.localhost:8080'],
    [
      "geolocation 'self' https://maps.example; payment http://pay.example:8443 'src'",
      "geolocation 'self' http://o2--s.cobrowse.localhost:8080; payment http://o3--s.cobrowse.localhost:8080 'src'",
    ],
    // Separators are kept as written.
    ['  camera\thttps://maps.example\n ;microphone *', '  camera\thttp://o2--s.cobrowse.localhost:8080\n ;microphone *'],
  ])('%j -> %j', (value, expected) => {
    expect(mapFrameAllow(value, map)).toBe(expected);
  });

  it.each([
    // Nothing to map: bare features, keywords, `*`.
    'geolocation',
    "camera 'src'; microphone 'self'; fullscreen *; payment 'none'",
    // Origins that are not the session's stay (they match no frame through the gateway either).
    'geolocation https://elsewhere.example',
    // Wildcard origins: no proxied host stands for what they mean.
    'geolocation https://*.maps.example',
    // Not URLs, or not http(s).
    'geolocation https://[bad',
    'geolocation ftp://maps.example',
    // The feature name is never mapped, whatever it looks like.
    'https://maps.example',
    '',
  ])('%j stays', (value) => {
    expect(mapFrameAllow(value, map)).toBeNull();
  });

  it('keeps a token when the mapper leaves it or fails', () => {
    expect(mapFrameAllow('camera https://maps.example', () => null)).toBeNull();
    expect(mapFrameAllow('camera https://maps.example', () => 'not a url')).toBeNull();
    expect(mapFrameAllow('camera https://maps.example', () => 'data:text/plain,x')).toBeNull();
  });
});

describe('rewriteHtml: iframe allow', () => {
  const rw = (html: string, relativeUrlsStay = false) => rewriteHtml(html, { mapUrl: map, relativeUrlsStay });

  it.each([false, true])('maps the session’s origins of an iframe’s allow attribute (relativeUrlsStay %s)', (relativeUrlsStay) => {
    expect(rw(`<iframe allow="geolocation https://maps.example; camera https://elsewhere.example" src="/f"></iframe>`, relativeUrlsStay)).toBe(
      `<iframe allow="geolocation http://o2--s.cobrowse.localhost:8080; camera https://elsewhere.example" src="/f"></iframe>`,
    );
    expect(rw(`<IFRAME ALLOW='camera https://maps.example'>`, relativeUrlsStay)).toBe(`<IFRAME ALLOW='camera http://o2--s.cobrowse.localhost:8080'>`);
    expect(rw(`<iframe allow=camera&#32;https://maps.example>`, relativeUrlsStay)).toBe(`<iframe allow="camera http://o2--s.cobrowse.localhost:8080">`);
  });

  it('leaves allow on other elements and allow values with nothing to map', () => {
    for (const html of [
      `<div allow="camera https://maps.example"></div>`,
      `<svg><iframe allow="camera https://maps.example"></iframe></svg>`,
      `<iframe allow="camera; microphone 'src'" src="/f"></iframe>`,
    ]) {
      expect(rw(html)).toBe(html);
    }
  });
});
