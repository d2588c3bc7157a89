// The page-side CSS URL mapping (CSS written by script): which URLs it finds and how it writes them back.

import { describe, expect, it } from 'vitest';
import { cssUrlEdits, mapCssUrls } from '../../inject/css-mapping.js';
import { mapUrlList } from '../../inject/markup-mapping.js';

const map = (url: string) => (url.startsWith('https://cdn.example/') ? url.replace('https://cdn.example/', 'http://o2--s.gw/') : url);

describe('mapCssUrls', () => {
  const cases: [string, string, string][] = [
    ['unquoted url()', 'a{background:url(https://cdn.example/a.png)}', 'a{background:url(http://o2--s.gw/a.png)}'],
    ['quoted, spaces kept', 'a{background:url( "https://cdn.example/a.png" )}', 'a{background:url( "http://o2--s.gw/a.png" )}'],
    ['single quotes', "a{background:url('https://cdn.example/a.png')}", "a{background:url('http://o2--s.gw/a.png')}"],
    ['uppercase URL(', 'a{background:URL(https://cdn.example/a.png)}', 'a{background:URL(http://o2--s.gw/a.png)}'],
    ['escaped scheme', 'a{background:url(https\\3a //cdn.example/e.png)}', 'a{background:url(http://o2--s.gw/e.png)}'],
    ['@import string', '@import "https://cdn.example/b.css" screen;', '@import "http://o2--s.gw/b.css" screen;'],
    ['@import url()', "@import url('https://cdn.example/b.css');", "@import url('http://o2--s.gw/b.css');"],
    [
      'image-set strings',
      'a{b:image-set("https://cdn.example/1.png" 1x, url(https://cdn.example/2.png) 2x)}',
      'a{b:image-set("http://o2--s.gw/1.png" 1x, url(http://o2--s.gw/2.png) 2x)}',
    ],
    ['-webkit-image-set', 'a{b:-webkit-image-set("https://cdn.example/1.png" 1x)}', 'a{b:-webkit-image-set("http://o2--s.gw/1.png" 1x)}'],
    ['other strings untouched', 'a::after{content:"https://cdn.example/x"}', 'a::after{content:"https://cdn.example/x"}'],
    ['comments untouched', '/* url(https://cdn.example/c.png) */a{}', '/* url(https://cdn.example/c.png) */a{}'],
    ['not a url( function', 'a{b:myurl(https://cdn.example/x)}', 'a{b:myurl(https://cdn.example/x)}'],
    ['a quoted url() the text ends in', 'a{b:url("https://cdn.example/a.png', 'a{b:url("http://o2--s.gw/a.png"'],
    ['an @import string the text ends in', "@import 'https://cdn.example/b.css", "@import 'http://o2--s.gw/b.css'"],
    ['an unquoted url() the text ends in', 'a{b:url(https://cdn.example/a.png', 'a{b:url(http://o2--s.gw/a.png'],
    ['relative and other origins kept', 'a{b:url(/x.png);c:url(https://other.example/y.png)}', 'a{b:url(/x.png);c:url(https://other.example/y.png)}'],
  ];
  for (const [name, css, expected] of cases) it(name, () => expect(mapCssUrls(css, map)).toBe(expected));

  it('escapes what an unquoted url() or a string cannot hold', () => {
    const odd = (url: string) => (url.includes('cdn.example') ? 'http://o2--s.gw/a (1).png' : url);
    expect(mapCssUrls('a{b:url(https://cdn.example/x)}', odd)).toBe('a{b:url(http://o2--s.gw/a\\20 \\(1\\).png)}');
    expect(mapCssUrls('a{b:url("https://cdn.example/x")}', (u) => (u.includes('cdn') ? 'http://o2--s.gw/"q".png' : u))).toBe(
      'a{b:url("http://o2--s.gw/\\"q\\".png")}',
    );
  });
});

describe('cssUrlEdits', () => {
  it('gives each mapped URL as the span of the text it replaces', () => {
    const css = 'a{b:url(/x.png);c:url("https://cdn.example/a.png")} @import "https://cdn.example/b.css";';
    const edits = cssUrlEdits(css, map);
    expect(edits.map((e) => [css.slice(e.from, e.to), e.text])).toEqual([
      ['"https://cdn.example/a.png"', '"http://o2--s.gw/a.png"'],
      ['"https://cdn.example/b.css"', '"http://o2--s.gw/b.css"'],
    ]);
  });
});

describe('mapUrlList', () => {
  it('maps every URL of a ping list and keeps its separators', () => {
    expect(mapUrlList(' https://cdn.example/p1\thttps://other.example/p2  /p3 ', map)).toBe(' http://o2--s.gw/p1\thttps://other.example/p2  /p3 ');
  });
});
