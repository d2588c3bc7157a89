import { describe, expect, it } from 'vitest';
import { cssUnescape } from '../../gateway/rewrite/css-escapes.js';
import { decodeAttributeEntities } from '../../gateway/rewrite/html-entities.js';
import { absoluteUrlForm, listMayHaveAbsolute, mayBeAbsolute } from '../../gateway/rewrite/relative-url.js';
import { mulberry32 } from '../helpers/random.js';

/** What proxy.ts's markupUrl treats as absolute (everything else it leaves as it is). */
const ABSOLUTE = /^([a-z][a-z0-9+.-]*:|\/\/|\\\\)/i;

const may = (raw: string): boolean => mayBeAbsolute(raw, 0, raw.length);

describe('mayBeAbsolute', () => {
  it.each<[string, boolean]>([
    ['https://other.test/a', true],
    ['HTTP://x', true],
    ['  \n\thttps://x', true],
    ['mailto:a@b', true],
    ['data:image/png;base64,AA', true],
    ['//other.test/x', true],
    ['\\\\other.test/x', true],
    ['/\\other.test', true],
    ['https&#58;//x', true],
    ['&#104;ttps://x', true],
    ['/&#47;x', true],
    ['\vhttps://x', true],
    ['\u00a0https://x', true],
    ['\\68ttps://x', true],
    ['a+b.c-d:x', true],
    ['/products/1', false],
    ['/', false],
    ['products/1?x=https://y', false],
    ['./a:b', false],
    ['1http://x', false],
    ['?q=1', false],
    ['#top', false],
    ['', false],
    ['   ', false],
    ['img/p0.png', false],
    ['java script:x', false],
    ['x_y:z', false],
    // What the URL parser cleans up: tabs and newlines anywhere, C0 controls around.
    ['ht\ntps://x', true],
    ['h\tt\rtps://x', true],
    ['/\n/x', true],
    ['/\t\\x', true],
    ['\u0001https://x', true],
    ['\u001f//x', true],
    ['\u0001/x', false],
    ['/\n', false],
  ])('%j -> %s', (raw, expected) => {
    expect(may(raw)).toBe(expected);
  });

  it('looks only inside [s, e)', () => {
    const text = '<a href="/x" title="https://y">';
    expect(mayBeAbsolute(text, 9, 11)).toBe(false);
    expect(mayBeAbsolute(text, 20, 29)).toBe(true);
  });

  it('never says no to a value that decodes (character references, CSS escapes) and trims to an absolute URL', () => {
    const alphabet = [
      ...[
        'h',
        't',
        'p',
        's',
        ':',
        '/',
        '\\',
        '&',
        '#',
        '5',
        '8',
        ';',
        'x',
        '2',
        'f',
        'F',
        'c',
        'o',
        'l',
        'n',
        'a',
        'm',
        '6',
        ' ',
        '\v',
        '\n',
        '\u00a0',
        '.',
        '+',
        '-',
        '3',
      ],
      ...['http', 'https', '&#58;', '&#x3a;', '&colon;', '&#47;', '&sol;', '&#104;', '\\3a ', '\\2f ', '\\68', '&Tab;', '&#32;', '&nbsp;'],
    ];
    const random = mulberry32(99);
    const wrong: string[] = [];
    for (let n = 0; n < 30000; n++) {
      let raw = '';
      const length = 1 + Math.floor(random() * 10);
      for (let k = 0; k < length; k++) raw += alphabet[Math.floor(random() * alphabet.length)];
      for (const decoded of [decodeAttributeEntities(raw), cssUnescape(raw)]) {
        if (ABSOLUTE.test(decoded.trim()) && !may(raw)) wrong.push(JSON.stringify(raw));
      }
      if (ABSOLUTE.test(raw.trim()) && !may(raw)) wrong.push(JSON.stringify(raw));
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});

describe('absoluteUrlForm', () => {
  it.each<[string, string | null]>([
    ['https://x.test/a', 'https://x.test/a'],
    ['  https://x.test/a  ', 'https://x.test/a'],
    ['ht\ntps://x.test/a', 'https://x.test/a'],
    ['\u0001https://x.test/\u0001', 'https://x.test/'],
    ['/\t/x.test/a', '//x.test/a'],
    ['/\\x.test/a', '/\\x.test/a'],
    ['\\\\x.test', '\\\\x.test'],
    ['\\/x.test', '\\/x.test'],
    ['mailto:a@b', 'mailto:a@b'],
    ['/a/b', null],
    ['\u00a0https://x.test/', null],
    ['a/b:c', null],
    ['', null],
  ])('%j -> %j', (url, form) => {
    expect(absoluteUrlForm(url)).toBe(form);
  });

  it("agrees with the URL parser on which spellings leave the document's host", () => {
    const base = 'http://o1--s.cobrowse.localhost/dir/page';
    for (const url of ['ht\ntps://x.test/a', '/\t/x.test/a', '/\\x.test/a', '\u0001//x.test/', '\\\\x.test/', 'h\ttp:x.test', '/a', 'a:b', '\u00a0//x.test/']) {
      const leaves = new URL(url, base).host !== 'o1--s.cobrowse.localhost' || new URL(url, base).protocol !== 'http:';
      expect(absoluteUrlForm(url) !== null, JSON.stringify(url)).toBe(leaves);
      // What mayBeAbsolute rules out is never absolute.
      if (leaves) expect(mayBeAbsolute(url, 0, url.length), JSON.stringify(url)).toBe(true);
    }
  });
});

describe('listMayHaveAbsolute', () => {
  it.each<[string, boolean]>([
    ['/a.png 1x, /b.png 2x', false],
    ['a.png 100w,b.png 200w', false],
    ['/p1 /p2', false],
    ['/a.png 1x, https://other.test/b.png 2x', true],
    ['/a 1x,//other.test/b 2x', true],
    ['/a 1x, &#47;&#47;x 2x', true],
    ['\\\\x/a 1x', true],
    ['/a\u00a0https://x', true],
  ])('%j -> %s', (raw, expected) => {
    expect(listMayHaveAbsolute(raw)).toBe(expected);
  });
});
