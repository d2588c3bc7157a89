import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { findInjectionPoint, HeadInjector, injectionSnippet } from '../../gateway/html-inject.js';

const BOM = '\u00ef\u00bb\u00bf';
const SNIPPET = injectionSnippet();

function startInjector(snippet: Buffer = SNIPPET): { injector: HeadInjector; output: Buffer[]; finished: Promise<Buffer> } {
  const injector = new HeadInjector(snippet);
  const output: Buffer[] = [];
  injector.on('data', (chunk: Buffer) => output.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    injector.on('end', () => resolve(Buffer.concat(output)));
    injector.on('error', reject);
  });
  return { injector, output, finished };
}

async function inject(chunks: Buffer[], snippet: Buffer = SNIPPET): Promise<Buffer> {
  const { injector, finished } = startInjector(snippet);
  for (const chunk of chunks) injector.write(chunk);
  injector.end();
  return finished;
}

function splitAt(buf: Buffer, ...cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, buf.length];
  return bounds.slice(1).map((end, i) => buf.subarray(bounds[i], end));
}

describe('injectionSnippet', () => {
  it('loads the bundle and carries the own-node marker', () => {
    expect(injectionSnippet().toString('latin1')).toBe('<script src="/__cobrowse/inject.js" data-cobrowse=""></script>');
  });

  it('adds the nonce when given', () => {
    expect(injectionSnippet({ nonce: 'r4nd0m' }).toString('latin1')).toBe('<script src="/__cobrowse/inject.js" data-cobrowse="" nonce="r4nd0m"></script>');
  });

  it('is ASCII whatever it carries (character references for the rest), so that any page charset reads it alike', () => {
    const tag = injectionSnippet({ cookies: 'name=José; e=😀', mask: ['.naïve'] }).toString('latin1');
    expect(tag).toBe(
      '<script src="/__cobrowse/inject.js" data-cobrowse="" data-mask="[&quot;.na&#239;ve&quot;]" data-cookies="name=Jos&#233;; e=&#128512;"></script>',
    );
  });

  it('escapes what it carries for the runtime', () => {
    const tag = injectionSnippet({
      mask: ['.a"b'],
      cookies: 'x=<1>',
      origin: 'https://a.example',
      origins: { 'https://a.example': 'http://o1--s.localhost' },
    }).toString('utf8');
    expect(tag).toBe(
      '<script src="/__cobrowse/inject.js" data-cobrowse="" data-mask="[&quot;.a\\&quot;b&quot;]" data-cookies="x=&lt;1&gt;" data-origin="https://a.example" data-origins="{&quot;https://a.example&quot;:&quot;http://o1--s.localhost&quot;}"></script>',
    );
  });
});

describe('findInjectionPoint on a complete document', () => {
  it.each<[string, string]>([
    ['<head>', '<head>|'],
    ['<head><title>x</title></head>', '<head>|<title>x</title></head>'],
    ['<head lang=x><meta charset=utf-8>', '<head lang=x>|<meta charset=utf-8>'],
    ['<HEAD><TITLE>x</TITLE>', '<HEAD>|<TITLE>x</TITLE>'],
    ['<Head\n  data-a="1"\n><title>', '<Head\n  data-a="1"\n>|<title>'],
    ['<head data-x="a>b"><title>', '<head data-x="a>b">|<title>'],
    ['<head/><p>', '<head/>|<p>'],
    ['<!DOCTYPE html><html><head><title>x</title>', '<!DOCTYPE html><html><head>|<title>x</title>'],
    ['<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8">', '<!doctype html>\n<html lang="en">\n  <head>|\n    <meta charset="utf-8">'],
    ['<!DOCTYPE html><title>x</title>', '<!DOCTYPE html>|<title>x</title>'],
    ['<!DOCTYPE html>\n\n<body>hi', '<!DOCTYPE html>\n\n|<body>hi'],
    ['<p>hi', '|<p>hi'],
    ['hello world', '|hello world'],
    ['  \n\t hello', '  \n\t |hello'],
    ['', '|'],
    [' \n ', ' \n |'],
    ['<!-- a comment --><head>', '<!-- a comment --><head>|'],
    ['<!-- <head> --><p>x</p>', '<!-- <head> -->|<p>x</p>'],
    ['<!-- <head> -->\n<html><head><meta>', '<!-- <head> -->\n<html><head>|<meta>'],
    ['<!-- one --><!-- two -->  <body>', '<!-- one --><!-- two -->  |<body>'],
    ['<!--unterminated <head>', '|<!--unterminated <head>'],
    ['<html lang="en" data-x="a>b"><head><meta>', '<html lang="en" data-x="a>b"><head>|<meta>'],
    ["<html data-x='a>b'><body>", "<html data-x='a>b'>|<body>"],
    ['<HTML><BODY>', '<HTML>|<BODY>'],
    ['<html>', '<html>|'],
    ['<html>\n', '<html>\n|'],
    ['<html/><p>', '<html/>|<p>'],
    ['<?xml version="1.0"?><html><head>', '<?xml version="1.0"?><html><head>|'],
    ['<header>title</header>', '|<header>title</header>'],
    ['<html><header><h1>x</h1></header>', '<html>|<header><h1>x</h1></header>'],
    ['<headx><p>', '|<headx><p>'],
    ['<htmlx><head>', '|<htmlx><head>'],
    ['<body><head>', '|<body><head>'],
    // A tag name ends at tab, LF, FF, CR, space, `/` or `>` only: a vertical tab or a no-break space (0xA0 in latin1) is part of it, as the browser reads it.
    ['<head\u000b><meta>', '|<head\u000b><meta>'],
    ['<html\u00a0><head><meta>', '|<html\u00a0><head><meta>'],
    ['<head\f><meta>', '<head\f>|<meta>'],
    ['<html\r><head\t/><meta>', '<html\r><head\t/>|<meta>'],
    [`${BOM}<head><meta>`, `${BOM}<head>|<meta>`],
    [`${BOM}<p>hi`, `${BOM}|<p>hi`],
    [`${BOM}hi`, `${BOM}|hi`],
    [BOM, `${BOM}|`],
    [`${BOM}<!DOCTYPE html><title>t</title>`, `${BOM}<!DOCTYPE html>|<title>t</title>`],
  ])('%j', (doc, marked) => {
    const index = marked.indexOf('|');
    expect(findInjectionPoint(doc, true)).toEqual({ kind: 'insert-at', index });
  });
});

describe('findInjectionPoint on a partial document', () => {
  it.each([
    '',
    '   ',
    BOM,
    BOM.slice(0, 1),
    BOM.slice(0, 2),
    '<',
    '<h',
    '<hea',
    '<head',
    '<head lang="x',
    '<head lang="x>',
    '<html',
    '<html lang="a>b',
    '<!',
    '<!-',
    '<!--',
    '<!-- <head> --',
    '<!DOCTYPE html',
    '<!DOCTYPE html>',
    '<!DOCTYPE html>\n',
    '<!DOCTYPE html><html>',
    '<!DOCTYPE html><html><',
    '<?xml',
    '<p',
  ])('%j needs more', (doc) => {
    expect(findInjectionPoint(doc, false)).toEqual({ kind: 'need-more' });
  });

  it.each<[string, string]>([
    ['<head>', '<head>|'],
    ['<!DOCTYPE html><head lang="en">', '<!DOCTYPE html><head lang="en">|'],
    ['<!DOCTYPE html><body>', '<!DOCTYPE html>|<body>'],
    ['<p>', '|<p>'],
    ['hi', '|hi'],
    ['<html><header', '<html>|<header'],
  ])('%j is decided without more input', (doc, marked) => {
    expect(findInjectionPoint(doc, false)).toEqual({ kind: 'insert-at', index: marked.indexOf('|') });
  });
});

const SAMPLES: Record<string, string> = {
  'full document': [
    '<!DOCTYPE html>\n',
    '<!-- served by <head> test, not a real <head> -->\n',
    '<html lang="en" data-note="a>b" data-q=\'x"y\'>\n',
    '  <head data-x="1">\n',
    '    <meta charset="utf-8">\n',
    '    <title>Café ✓ déjà vu</title>\n',
    '  </head>\n',
    '  <body><header><h1>Hello</h1></header><p>Some text with <b>bold</b> and é ü ✓.</p></body>\n',
    '</html>\n',
  ].join(''),
  'no head': '<!DOCTYPE html>\n<!-- comment -->\n<html data-x=">">\n<body>\n<header>Not a head</header>\n<p>Price: 10 € — ok</p>\n</body>\n</html>\n',
  fragment: '\n\n   <p>Just a paragraph, no doctype, no html, no head. Ünïcödé ✓</p>\n<div>more</div>\n',
  'header before any head': '<!-- <head> -->\n<html>\n<header data-role="top">Site header</header>\n<headx>odd tag</headx>\n<main>Content ✓</main>\n</html>\n',
  'plain text': 'Plain text body that is not markup at all, with a < sign and a > sign and ✓.\n',
  'uppercase head': '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<HTML>\n<HEAD>\n<TITLE>Upper</TITLE>\n</HEAD>\n<BODY>Body</BODY>\n</HTML>\n',
  'byte order mark': `\ufeff<!DOCTYPE html>\n<html>\n<head><title>BOM ✓</title></head>\n<body>x</body>\n</html>\n`,
};

describe.each(Object.entries(SAMPLES))('HeadInjector on a sample: %s', (_name, text) => {
  const doc = Buffer.from(text, 'utf8');

  it('inserts the snippet exactly once, where findInjectionPoint says', async () => {
    const out = await inject([doc]);
    const scan = findInjectionPoint(doc.toString('latin1'), true);
    if (scan.kind !== 'insert-at') throw new Error('expected an insertion point');
    expect(out.equals(Buffer.concat([doc.subarray(0, scan.index), SNIPPET, doc.subarray(scan.index)]))).toBe(true);
    expect(out.toString('latin1').split(SNIPPET.toString('latin1'))).toHaveLength(2);
  });

  it('gives byte-identical output for every split into two chunks', async () => {
    const whole = await inject([doc]);
    const mismatches: number[] = [];
    for (let cut = 0; cut <= doc.length; cut++) {
      const out = await inject(splitAt(doc, cut));
      if (!out.equals(whole)) mismatches.push(cut);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives byte-identical output for three-chunk splits', async () => {
    const whole = await inject([doc]);
    const n = doc.length;
    const cutPairs = [
      [1, 2],
      [2, 3],
      [1, n - 1],
      [5, 6],
      [Math.floor(n / 3), Math.floor((2 * n) / 3)],
      [10, 40],
      [15, 16],
      [40, 90],
      [n - 2, n - 1],
    ];
    for (const [a, b] of cutPairs) {
      const out = await inject(splitAt(doc, a!, b!));
      expect(out.equals(whole), `cuts at ${a} and ${b}`).toBe(true);
    }
  });

  it('gives byte-identical output one byte at a time', async () => {
    const whole = await inject([doc]);
    const bytes = Array.from({ length: doc.length }, (_, i) => doc.subarray(i, i + 1));
    expect((await inject(bytes)).equals(whole)).toBe(true);
  });
});

describe('HeadInjector streaming', () => {
  it('places the snippet right after <head>', async () => {
    const out = await inject([Buffer.from('<!DOCTYPE html><html><head><title>t</title></head><body></body></html>')]);
    expect(out.toString('latin1')).toBe(`<!DOCTYPE html><html><head>${SNIPPET.toString('latin1')}<title>t</title></head><body></body></html>`);
  });

  it('injects into an empty document', async () => {
    expect((await inject([])).equals(SNIPPET)).toBe(true);
  });

  it('uses the nonce snippet it is given', async () => {
    const snippet = injectionSnippet({ nonce: 'abc' });
    const out = await inject([Buffer.from('<head></head>')], snippet);
    expect(out.toString('latin1')).toBe(`<head>${snippet.toString('latin1')}</head>`);
  });

  it('keeps UTF-8 bytes intact', async () => {
    const doc = Buffer.from('<head><title>日本語 ✓ é</title></head>', 'utf8');
    const out = await inject(splitAt(doc, 17, 18, 19));
    expect(out.toString('utf8')).toBe(`<head>${SNIPPET.toString('utf8')}<title>日本語 ✓ é</title></head>`);
  });

  it('lets the first bytes out as soon as <head> has been seen', async () => {
    const { injector, output, finished } = startInjector();
    injector.write(Buffer.from('<!DOCTYPE html><html><head>'));
    await tick();
    expect(Buffer.concat(output).toString('latin1')).toBe(`<!DOCTYPE html><html><head>${SNIPPET.toString('latin1')}`);
    injector.write(Buffer.from('<title>'));
    await tick();
    expect(Buffer.concat(output).toString('latin1').endsWith('<title>')).toBe(true);
    injector.end();
    await finished;
  });

  it('holds back a prologue until it can decide', async () => {
    const { injector, output, finished } = startInjector();
    injector.write(Buffer.from('<!DOCTYPE html>\n<!-- still '));
    await tick();
    expect(output).toHaveLength(0);
    injector.write(Buffer.from('going --><p>'));
    await tick();
    expect(Buffer.concat(output).toString('latin1')).toBe(`<!DOCTYPE html>\n<!-- still going -->${SNIPPET.toString('latin1')}<p>`);
    injector.end();
    await finished;
  });

  it('inserts anyway once 64 KiB of prologue is buffered', async () => {
    const { injector, output, finished } = startInjector();
    const comment = Buffer.from(`<!--${'x'.repeat(70 * 1024)}`);
    injector.write(comment);
    await tick();
    const early = Buffer.concat(output);
    expect(early.length).toBeGreaterThan(0);
    expect(early.includes(SNIPPET)).toBe(true);
    injector.end(Buffer.from('--><head>'));
    const out = await finished;
    expect(out.equals(Buffer.concat([SNIPPET, comment, Buffer.from('--><head>')]))).toBe(true);
  });

  it('passes the body through untouched after injecting', async () => {
    const body = Buffer.alloc(200_000, 'b');
    const out = await inject([Buffer.from('<head>'), body, Buffer.from('<head>')]);
    expect(out.equals(Buffer.concat([Buffer.from('<head>'), SNIPPET, body, Buffer.from('<head>')]))).toBe(true);
  });
});
