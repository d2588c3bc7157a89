import { describe, expect, it } from 'vitest';
import { CssRewriter, CssRewriteStream, rewriteCss } from '../../gateway/rewrite/css-rewriter.js';

const O2 = 'http://o2--sess.localhost/';

function mapUrl(url: string): string | null {
  if (url.startsWith('https://other.test/')) return O2 + url.slice('https://other.test/'.length);
  if (url.startsWith('https://blocked.test/')) return `http://localhost/blocked?url=${encodeURIComponent(url)}`;
  return null;
}

const blocked = (url: string): string => `http://localhost/blocked?url=${encodeURIComponent(url)}`;

async function stream(chunks: Buffer[], charset?: string): Promise<Buffer> {
  const s = new CssRewriteStream(mapUrl, { charset });
  const out: Buffer[] = [];
  s.on('data', (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(out)));
    s.on('error', reject);
  });
  for (const chunk of chunks) s.write(chunk);
  s.end();
  return finished;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, buf.length];
  return bounds.slice(1).map((end, i) => buf.subarray(bounds[i], end));
}

describe('rewriteCss', () => {
  it.each<[string, string, string]>([
    ['unquoted url()', 'a{background:url(https://other.test/a.png)}', `a{background:url(${O2}a.png)}`],
    ['double-quoted url()', 'a{background:url("https://other.test/a.png")}', `a{background:url("${O2}a.png")}`],
    ['single-quoted url()', "a{background:url('https://other.test/a.png')}", `a{background:url('${O2}a.png')}`],
    ['whitespace inside url()', 'a{b:url(  https://other.test/a.png\n )}', `a{b:url(  ${O2}a.png\n )}`],
    ['whitespace around a quoted url()', 'a{b:url( "https://other.test/a.png" )}', `a{b:url( "${O2}a.png" )}`],
    ['uppercase URL(', 'a{b:URL(https://other.test/a.png)}', `a{b:URL(${O2}a.png)}`],
    ['escaped ) in an unquoted url', 'a{b:url(https://other.test/a\\)b.png)}', `a{b:url(${O2}a\\)b.png)}`],
    ['hex escape in an unquoted url', 'a{b:url(https://other\\2e test/x.png)}', `a{b:url(${O2}x.png)}`],
    ['escaped quote in a string', 'a{b:url("https://other.test/a\\"b.png")}', `a{b:url("${O2}a\\"b.png")}`],
    ['line continuation in a string', 'a{b:url("https://other.test/a\\\nb.png")}', `a{b:url("${O2}ab.png")}`],
    [
      'several urls in one declaration',
      'a{b:url(https://other.test/1),url(https://blocked.test/2)}',
      `a{b:url(${O2}1),url(${blocked('https://blocked.test/2')})}`,
    ],
    ['blocked URL in an unquoted url() is escaped as needed', 'a{b:url(https://blocked.test/x)}', `a{b:url(${blocked('https://blocked.test/x')})}`],
    ['relative URL stays', 'a{b:url(/img/a.png)}', 'a{b:url(/img/a.png)}'],
    ['empty url() stays', 'a{b:url()}', 'a{b:url()}'],
    ['@import double-quoted', '@import "https://other.test/a.css";', `@import "${O2}a.css";`],
    ['@import single-quoted with media', "@import 'https://other.test/a.css' screen;", `@import '${O2}a.css' screen;`],
    ['@import url()', '@import url(https://other.test/a.css) layer(x);', `@import url(${O2}a.css) layer(x);`],
    ['@IMPORT with a comment', '@IMPORT/* c */"https://other.test/a.css";', `@IMPORT/* c */"${O2}a.css";`],
    ['@importer is another rule', '@importer "https://other.test/a.css";', '@importer "https://other.test/a.css";'],
    ['image-set strings', 'a{b:image-set("https://other.test/1.png" 1x, "https://other.test/2.png" 2x)}', `a{b:image-set("${O2}1.png" 1x, "${O2}2.png" 2x)}`],
    [
      '-webkit-image-set with url() and type()',
      'a{b:-webkit-image-set(url("https://other.test/1.png") 1x, "https://other.test/2.avif" type("https://other.test/not") 2x)}',
      `a{b:-webkit-image-set(url("${O2}1.png") 1x, "${O2}2.avif" type("https://other.test/not") 2x)}`,
    ],
    ['comments stay', 'a{/* url(https://other.test/x) "https://other.test/y" */b:c}', 'a{/* url(https://other.test/x) "https://other.test/y" */b:c}'],
    [
      'other strings stay',
      'a::after{content:"url(https://other.test/x)";font-family:"https://other.test/y"}',
      'a::after{content:"url(https://other.test/x)";font-family:"https://other.test/y"}',
    ],
    [
      'other functions stay',
      'a{b:myurl(https://other.test/x);c:url-prefix(https://other.test/)}',
      'a{b:myurl(https://other.test/x);c:url-prefix(https://other.test/)}',
    ],
    [
      'format() and local() strings stay',
      '@font-face{src:local("x"),url(https://other.test/f.woff2) format("woff2")}',
      `@font-face{src:local("x"),url(${O2}f.woff2) format("woff2")}`,
    ],
    [
      '@namespace is not a resource',
      '@namespace svg url(https://other.test/ns);a{b:url(https://other.test/x)}',
      `@namespace svg url(https://other.test/ns);a{b:url(${O2}x)}`,
    ],
    ['bad url with a space stays', 'a{b:url(https://other.test/a b)}', 'a{b:url(https://other.test/a b)}'],
    ['bad url with a quote stays', 'a{b:url(https://other.test/a"b)}c{d:url(https://other.test/e)}', `a{b:url(https://other.test/a"b)}c{d:url(${O2}e)}`],
    ['bad string stays', 'a{b:url("https://other.test/a\nb")}', 'a{b:url("https://other.test/a\nb")}'],
    ['escaped quote at top level does not open a string', 'a\\"{b:url(https://other.test/x)}', `a\\"{b:url(${O2}x)}`],
    ['url() unterminated at the end', 'a{b:url(https://other.test/x', `a{b:url(${O2}x`],
    ['string unterminated at the end', '@import "https://other.test/x', `@import "${O2}x`],
    ['comment unterminated at the end', 'a{} /* url(https://other.test/x)', 'a{} /* url(https://other.test/x)'],
  ])('%s', (_name, input, expected) => {
    expect(rewriteCss(input, mapUrl)).toBe(expected);
  });

  it('escapes what the replacement needs, by quoting style', () => {
    const map = (): string => `http://x.test/a b(c)'"\\`;
    expect(rewriteCss('a{b:url(https://q/)}', map)).toBe(`a{b:url(http://x.test/a\\20 b\\(c\\)\\'\\"\\\\)}`);
    expect(rewriteCss('a{b:url("https://q/")}', map)).toBe(`a{b:url("http://x.test/a b(c)'\\"\\\\")}`);
    expect(rewriteCss("a{b:url('https://q/')}", map)).toBe(`a{b:url('http://x.test/a b(c)\\'"\\\\')}`);
  });

  it('leaves a URL as it is when mapUrl throws', () => {
    const map = (url: string): string | null => {
      if (url.includes('bad')) throw new TypeError('Invalid URL');
      return mapUrl(url);
    };
    expect(rewriteCss('a{b:url(https://bad/x);c:url(https://other.test/y)}', map)).toBe(`a{b:url(https://bad/x);c:url(${O2}y)}`);
  });

  it('passes each URL to mapUrl unescaped, once', () => {
    const seen: string[] = [];
    rewriteCss('a{b:url( "x\\"y" ) url(p\\ q) image-set("i" 1x, url(j) 2x)} @import "k"; /* url(no) */ c{d:"no"}', (url) => {
      seen.push(url);
      return null;
    });
    expect(seen).toEqual(['x"y', 'p q', 'i', 'j', 'k']);
  });
});

const SAMPLE = [
  '@charset "utf-8";\n',
  '@import "https://other.test/base.css" screen;\n',
  "@import url('https://blocked.test/blocked.css');\n",
  '@namespace svg url(https://other.test/ns);\n',
  '/* header comment: url(https://other.test/ignored.png) "https://other.test/x" */\n',
  ':root { --hero: url(https://other.test/hero.jpg); }\n',
  'body { background: #fff url( "https://other.test/bg.png" ) no-repeat; font-family: "Café ✓"; }\n',
  '.a\\"b { content: "url(https://other.test/not)"; }\n',
  '.icon { background-image: -webkit-image-set(url(https://other.test/i1.png) 1x, "https://other.test/i2.png" 2x); }\n',
  '.pic { background-image: image-set("https://other.test/p.avif" type("image/avif"), "https://blocked.test/p.jpg" type("image/jpeg")); }\n',
  '@font-face { font-family: X; src: local("X"), url(https://other.test/f\\ont.woff2) format("woff2"), url(data:font/woff2;base64,AAAA) format("woff2"); }\n',
  '.esc { background: url(https://other.test/a\\29 b.png); cursor: url("https://other.test/c.cur"), auto; }\n',
  '.bad { background: url(https://other.test/a b.png); }\n',
  '.rel { background: url(../img/r.png); mask: URL(https://other.test/m.svg#id); }\n',
  '.unicode { background: url(https://other.test/日本.png); }\n',
].join('');

describe('CssRewriteStream', () => {
  const doc = Buffer.from(SAMPLE, 'utf8');

  it('matches rewriteCss', async () => {
    const out = (await stream([doc])).toString('utf8');
    expect(out).toBe(rewriteCss(SAMPLE, mapUrl));
    expect(out).toContain(`url(${O2}日本.png)`);
    expect(out).toContain(`image-set("${O2}p.avif" type("image/avif"), "${blocked('https://blocked.test/p.jpg')}" type("image/jpeg"))`);
    expect(out).toContain('@namespace svg url(https://other.test/ns);');
    expect(out).toContain(`url(${O2}font.woff2)`);
    expect(out).toContain(`url(${O2}a\\)b.png)`);
  });

  it('gives byte-identical output for every split into two chunks', async () => {
    const whole = await stream([doc]);
    const mismatches: number[] = [];
    for (let cut = 0; cut <= doc.length; cut++) {
      if (!(await stream(splitAt(doc, [cut]))).equals(whole)) mismatches.push(cut);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives byte-identical output one byte at a time', async () => {
    const whole = await stream([doc]);
    const bytes = Array.from({ length: doc.length }, (_, i) => doc.subarray(i, i + 1));
    expect((await stream(bytes)).equals(whole)).toBe(true);
  });

  it('emits output as it goes', async () => {
    const s = new CssRewriteStream(mapUrl);
    const out: Buffer[] = [];
    s.on('data', (chunk: Buffer) => out.push(chunk));
    s.write(Buffer.from('a{b:url(https://other.test/x)} c{d:url(https://oth'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(out).toString()).toBe(`a{b:url(${O2}x)} c{d:`);
    s.end(Buffer.from('er.test/y)}'));
    await new Promise((resolve) => s.on('end', resolve));
    expect(Buffer.concat(out).toString()).toBe(`a{b:url(${O2}x)} c{d:url(${O2}y)}`);
  });

  it('copies a token over 1 MB through and goes on', async () => {
    const big = `a{b:url(data:image/png;base64,${'A'.repeat(1_100_000)})}`;
    const css = Buffer.from(`${big} c{d:url(https://other.test/y)}`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < css.length; i += 16 * 1024) chunks.push(css.subarray(i, i + 16 * 1024));
    const out = await stream(chunks);
    expect(out.toString()).toBe(`${big} c{d:url(${O2}y)}`);
    expect((await stream([css])).equals(out)).toBe(true);
  });

  it('decodes a windows-1252 stylesheet and escapes non-ASCII in what it writes', async () => {
    const css = Buffer.from('a{b:url(https://other.test/caf\xe9.png)}', 'latin1');
    expect((await stream([css], 'windows-1252')).toString('latin1')).toBe(`a{b:url(${O2}caf\\e9 .png)}`);
  });
});

describe('CssRewriter with relativeUrlsStay', () => {
  const doc = Buffer.from(SAMPLE, 'utf8');
  const absoluteOnly = (url: string): string | null => (/^([a-z][a-z0-9+.-]*:|\/\/|\\\\)/i.test(url.trim()) ? mapUrl(url.trim()) : null);

  it('gives the same bytes as asking about every URL, without asking about relative ones', () => {
    const seen: string[] = [];
    const record = (url: string): string | null => {
      seen.push(url);
      return absoluteOnly(url);
    };
    const all = new CssRewriter(absoluteOnly);
    const expected = Buffer.concat([...all.write(doc), ...all.end()]);
    for (const cut of [1, 100, 333, doc.length - 5]) {
      const some = new CssRewriter(record, { relativeUrlsStay: true });
      const out = Buffer.concat([...some.write(doc.subarray(0, cut)), ...some.write(doc.subarray(cut)), ...some.end()]);
      expect(out.equals(expected)).toBe(true);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((url) => !/^\s*([a-z][a-z0-9+.-]*:|\/\/|\\)/i.test(url))).toEqual([]);
  });

  it('still asks about a URL whose escapes spell a scheme', () => {
    const seen: string[] = [];
    const record = (url: string): string | null => {
      seen.push(url);
      return absoluteOnly(url);
    };
    expect(rewriteCssStream('a{b:url(/x.png);c:url(\\68ttps://other.test/e.png)}', record)).toBe(`a{b:url(/x.png);c:url(${O2}e.png)}`);
    expect(seen).toEqual(['https://other.test/e.png']);
  });
});

function rewriteCssStream(css: string, map: (url: string) => string | null): string {
  const rewriter = new CssRewriter(map, { relativeUrlsStay: true });
  return Buffer.concat([...rewriter.write(Buffer.from(css)), ...rewriter.end()]).toString();
}
