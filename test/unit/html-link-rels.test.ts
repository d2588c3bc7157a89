import { describe, expect, it } from 'vitest';
import { rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';

const O2 = 'http://o2--sess.localhost/';
const mapUrl = (url: string) => (url.startsWith('https://other.test/') ? O2 + url.slice('https://other.test/'.length) : null);

describe('rewriteHtml: link types', () => {
  // The browser connects to or fetches these by itself, outside CSP (a preconnect opens a
  // connection to the real host; a compression dictionary and a legacy prerender are fetched).
  it.each(['preconnect', 'dns-prefetch', 'prerender', 'compression-dictionary', 'PreConnect', 'dns-prefetch preconnect'])('%s is mapped', (rel) => {
    for (const relativeUrlsStay of [false, true]) {
      expect(rewriteHtml(`<link rel="${rel}" href="https://other.test/x">`, { mapUrl, relativeUrlsStay })).toBe(`<link rel="${rel}" href="${O2}x">`);
    }
  });

  it.each(['canonical', 'alternate', 'next', 'author', ''])('%j stays', (rel) => {
    const html = `<link rel="${rel}" href="https://other.test/x">`;
    expect(rewriteHtml(html, { mapUrl })).toBe(html);
  });
});
