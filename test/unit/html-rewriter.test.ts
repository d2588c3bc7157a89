import { describe, expect, it } from 'vitest';
import { HeadInjector } from '../../gateway/html-inject.js';
import { HtmlRewriter, HtmlRewriteStream, type HtmlUrlContext, rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';
import { mulberry32 } from '../helpers/random.js';

const SNIPPET = Buffer.from('<script src="/__cobrowse/inject.js" data-cobrowse></script>');
const SNIP = SNIPPET.toString('latin1');
const O2 = 'http://o2--sess.localhost/';

function mapUrl(url: string): string | null {
  if (url.startsWith('https://other.test/')) return O2 + url.slice('https://other.test/'.length);
  if (url.startsWith('//other.test/')) return O2 + url.slice('//other.test/'.length);
  if (url.startsWith('https://blocked.test/')) return `http://localhost/blocked?url=${encodeURIComponent(url)}`;
  return null;
}

const blocked = (url: string): string => `http://localhost/blocked?url=${encodeURIComponent(url)}`;

function rw(html: string): string {
  return rewriteHtml(html, { mapUrl });
}

async function stream(chunks: Buffer[], options: { charset?: string; snippet?: Buffer; map?: typeof mapUrl } = {}): Promise<Buffer> {
  const s = new HtmlRewriteStream({ mapUrl: options.map ?? mapUrl, snippet: options.snippet ?? SNIPPET, charset: options.charset });
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

async function headInject(doc: Buffer): Promise<Buffer> {
  const s = new HeadInjector(SNIPPET);
  const out: Buffer[] = [];
  s.on('data', (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<Buffer>((resolve) => s.on('end', () => resolve(Buffer.concat(out))));
  for (let i = 0; i < doc.length; i += 16 * 1024) s.write(doc.subarray(i, i + 16 * 1024));
  s.end();
  return finished;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, buf.length];
  return bounds.slice(1).map((end, i) => buf.subarray(bounds[i], end));
}

function randomCuts(random: () => number, length: number, pieces: number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1) cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

describe('rewriteHtml: attributes', () => {
  it.each<[string, string, string]>([
    ['double-quoted href', '<a href="https://other.test/a">x</a>', `<a href="${O2}a">x</a>`],
    ['single-quoted href', "<a href='https://other.test/a'>x</a>", `<a href='${O2}a'>x</a>`],
    ['unquoted href', '<a href=https://other.test/a>x</a>', `<a href=${O2}a>x</a>`],
    ['unquoted value whose replacement needs quotes', '<a href=https://blocked.test/a>x</a>', `<a href="${blocked('https://blocked.test/a')}">x</a>`],
    ['protocol-relative URL', '<img src="//other.test/i.png">', `<img src="${O2}i.png">`],
    [
      'relative and root-relative URLs stay',
      '<a href="/x">1</a><a href="x.html">2</a><a href="?q">3</a>',
      '<a href="/x">1</a><a href="x.html">2</a><a href="?q">3</a>',
    ],
    ['unmapped absolute URL stays', '<a href="https://elsewhere.test/">x</a>', '<a href="https://elsewhere.test/">x</a>'],
    ['whitespace around the URL is kept', '<a href="  https://other.test/a\n">x</a>', `<a href="  ${O2}a\n">x</a>`],
    ['attribute without value', '<a href>x</a><input disabled src="https://other.test/i">', `<a href>x</a><input disabled src="${O2}i">`],
    ['a valueless first attribute wins too', '<a href href="https://other.test/2">x</a>', '<a href href="https://other.test/2">x</a>'],
    [
      'duplicate attributes: the first wins',
      '<a href="https://other.test/1" href="https://other.test/2">x</a>',
      `<a href="${O2}1" href="https://other.test/2">x</a>`,
    ],
    ['uppercase tag and attribute', '<A HREF="https://other.test/a">x</A>', `<A HREF="${O2}a">x</A>`],
    ['spaces around =', '<a href = "https://other.test/a" >x</a>', `<a href = "${O2}a" >x</a>`],
    ['slash as attribute separator', '<a/href="https://other.test/a">x</a>', `<a/href="${O2}a">x</a>`],
    ['attributes without whitespace between them', '<a title="t"href="https://other.test/a">x</a>', `<a title="t"href="${O2}a">x</a>`],
    ['< inside an attribute value', '<a title="<b>" href="https://other.test/a">x</a>', `<a title="<b>" href="${O2}a">x</a>`],
    ['> inside a quoted value', `<a title="a>b" data-x='c>d' href="https://other.test/a">x</a>`, `<a title="a>b" data-x='c>d' href="${O2}a">x</a>`],
    ['self-closing syntax', '<img src="https://other.test/i.png"/>', `<img src="${O2}i.png"/>`],
    ['unquoted value runs into the slash', '<img src=https://other.test/i.png/>', `<img src=${O2}i.png/>`],
    ['&amp; is decoded before mapping and re-encoded', '<a href="https://other.test/a?x=1&amp;y=2">x</a>', `<a href="${O2}a?x=1&amp;y=2">x</a>`],
    ['legacy entity before = is not decoded', '<a href="https://other.test/a?x=1&copy=2">x</a>', `<a href="${O2}a?x=1&amp;copy=2">x</a>`],
    ['numeric and named references spell the URL', '<a href="https&#58;//other.test&#x2F;e&colon;f">x</a>', `<a href="${O2}e:f">x</a>`],
    [
      'srcset keeps descriptors',
      '<img srcset="https://other.test/a.png 1x,https://blocked.test/b.png 2x, c.png 3x">',
      `<img srcset="${O2}a.png 1x,${blocked('https://blocked.test/b.png')} 2x, c.png 3x">`,
    ],
    [
      'srcset with width descriptors and a data URL',
      '<img srcset="data:image/png;base64,AA== 10w, https://other.test/b.png 200w">',
      `<img srcset="data:image/png;base64,AA== 10w, ${O2}b.png 200w">`,
    ],
    [
      'source src and srcset',
      '<picture><source srcset="https://other.test/a.webp" type="image/webp"></picture>',
      `<picture><source srcset="${O2}a.webp" type="image/webp"></picture>`,
    ],
    [
      'ping is a list',
      '<a href="/x" ping="https://other.test/p1  https://blocked.test/p2 /p3">x</a>',
      `<a href="/x" ping="${O2}p1  ${blocked('https://blocked.test/p2')} /p3">x</a>`,
    ],
    [
      'form action and formaction',
      '<form action="https://other.test/f"><button formaction="https://other.test/b">b</button></form>',
      `<form action="${O2}f"><button formaction="${O2}b">b</button></form>`,
    ],
    [
      'video poster and src',
      '<video poster="https://other.test/p.jpg" src="https://other.test/v.mp4"></video>',
      `<video poster="${O2}p.jpg" src="${O2}v.mp4"></video>`,
    ],
    ['object data', '<object data="https://other.test/o.pdf"></object>', `<object data="${O2}o.pdf"></object>`],
    [
      'background on body and td',
      '<body background="https://other.test/b.png"><table><tr><td background="https://other.test/t.png">',
      `<body background="${O2}b.png"><table><tr><td background="${O2}t.png">`,
    ],
    [
      'data and background are not rewritten on other elements',
      '<div data="https://other.test/d" background="https://other.test/b">x</div>',
      '<div data="https://other.test/d" background="https://other.test/b">x</div>',
    ],
    ['base href', '<base href="https://other.test/dir/">', `<base href="${O2}dir/">`],
    ['iframe src', '<iframe src="https://other.test/f"></iframe>', `<iframe src="${O2}f"></iframe>`],
    ['replacement quotes and ampersands are escaped', '<a href="https://quote.test/">x</a>', '<a href="http://x.test/?q=&quot;a&quot;&amp;b">x</a>'],
    ["single-quoted value escapes '", "<a href='https://quote.test/'>x</a>", '<a href=\'http://x.test/?q="a"&amp;b&#39;\'>x</a>'],
  ])('%s', (_name, input, expected) => {
    const map = (url: string): string | null => {
      if (url === 'https://quote.test/') return input.includes("href='") ? `http://x.test/?q="a"&b'` : 'http://x.test/?q="a"&b';
      return mapUrl(url);
    };
    expect(rewriteHtml(input, { mapUrl: map })).toBe(expected);
  });
});

describe('rewriteHtml: meta refresh, link and integrity', () => {
  it.each<[string, string, string]>([
    ['refresh with url=', '<meta http-equiv="refresh" content="5; url=https://other.test/r">', `<meta http-equiv="refresh" content="5; url=${O2}r">`],
    [
      'refresh with quoted URL and odd case',
      `<META HTTP-EQUIV=Refresh CONTENT="0;URL='https://other.test/r?a=1&amp;b=2'">`,
      `<META HTTP-EQUIV=Refresh CONTENT="0;URL='${O2}r?a=1&amp;b=2'">`,
    ],
    ['refresh without url=', '<meta http-equiv="refresh" content="3, https://other.test/r">', `<meta http-equiv="refresh" content="3, ${O2}r">`],
    [
      'refresh with http-equiv after content',
      '<meta content="1;url=https://other.test/r" http-equiv="refresh">',
      `<meta content="1;url=${O2}r" http-equiv="refresh">`,
    ],
    ['refresh with only a delay', '<meta http-equiv="refresh" content="5">', '<meta http-equiv="refresh" content="5">'],
    [
      'other meta content stays',
      '<meta property="og:image" content="https://other.test/og.png">',
      '<meta property="og:image" content="https://other.test/og.png">',
    ],
    [
      'stylesheet: mapped href: integrity moves into the URL for the gateway to check',
      '<link rel="stylesheet" href="https://other.test/s.css" integrity="sha384-x" crossorigin>',
      `<link rel="stylesheet" href="${O2}s.css?__cobrowse_sri=sha384-x" crossorigin>`,
    ],
    [
      'stylesheet: integrity before href, unquoted',
      '<link integrity=sha384-x rel=stylesheet href=https://other.test/s.css>',
      `<link rel=stylesheet href="${O2}s.css?__cobrowse_sri=sha384-x">`,
    ],
    [
      'stylesheet: relative href: integrity moves into the URL too (query and fragment kept)',
      '<link rel=stylesheet href="/s.css?v=2#top" integrity="sha256-a+b/c= sha384-x">',
      '<link rel=stylesheet href="/s.css?v=2&amp;__cobrowse_sri=sha256-a%2Bb%2Fc%3D%20sha384-x#top">',
    ],
    [
      'stylesheet: duplicate integrity attributes all go',
      '<link rel=stylesheet href="/s.css" integrity="a" INTEGRITY="b"/>',
      '<link rel=stylesheet href="/s.css?__cobrowse_sri=a" />',
    ],
    [
      'stylesheet: removal keeps an unquoted value apart from />',
      '<link rel=stylesheet href=/s.css integrity="a"/>',
      '<link rel=stylesheet href="/s.css?__cobrowse_sri=a" />',
    ],
    [
      'stylesheet: unmapped absolute href keeps integrity',
      '<link rel=stylesheet href="https://cdn.test/s.css" integrity="sha384-x">',
      '<link rel=stylesheet href="https://cdn.test/s.css" integrity="sha384-x">',
    ],
    [
      'preload as=style drops integrity',
      '<link rel=preload as=style href="https://other.test/s.css" integrity="x">',
      `<link rel=preload as=style href="${O2}s.css?__cobrowse_sri=x">`,
    ],
    [
      'script: integrity moves into the URL (the gateway may rewrite its imports)',
      '<script src="https://other.test/a.js" integrity="sha384-x"></script>',
      `<script src="${O2}a.js?__cobrowse_sri=sha384-x"></script>`,
    ],
    [
      'modulepreload: integrity moves into the URL',
      '<link rel=modulepreload href="https://other.test/m.js" integrity="x">',
      `<script type="importmap" data-cobrowse="">{"imports":{"${O2}m.js":"${O2}m.js?__cobrowse_sri=x"}}</script><link rel=modulepreload href="${O2}m.js?__cobrowse_sri=x">`,
    ],
    [
      'icon and manifest',
      '<link rel="shortcut icon" href="https://other.test/i.ico"><link rel=manifest href="https://other.test/m.json">',
      `<link rel="shortcut icon" href="${O2}i.ico"><link rel=manifest href="${O2}m.json">`,
    ],
    [
      'preload imagesrcset',
      '<link rel=preload as=image imagesrcset="https://other.test/a.jpg 1x, https://other.test/b.jpg 2x">',
      `<link rel=preload as=image imagesrcset="${O2}a.jpg 1x, ${O2}b.jpg 2x">`,
    ],
    [
      'canonical and alternate stay',
      '<link rel=canonical href="https://other.test/c"><link rel=alternate href="https://other.test/a">',
      '<link rel=canonical href="https://other.test/c"><link rel=alternate href="https://other.test/a">',
    ],
  ])('%s', (_name, input, expected) => {
    expect(rw(input)).toBe(expected);
  });
});

describe('rewriteHtml: CSS in markup', () => {
  it.each<[string, string, string]>([
    ['style attribute', '<div style="background:url(https://other.test/a.png)">x</div>', `<div style="background:url(${O2}a.png)">x</div>`],
    [
      'style attribute with &quot;',
      '<div style="background:url(&quot;https://other.test/a.png&quot;)">x</div>',
      `<div style="background:url(&quot;${O2}a.png&quot;)">x</div>`,
    ],
    [
      'single-quoted style attribute with double quotes',
      `<div style='background:url("https://other.test/a.png")'>x</div>`,
      `<div style='background:url("${O2}a.png")'>x</div>`,
    ],
    ['style attribute without URLs stays byte for byte', '<div style="color:red;&#32;x:y">x</div>', '<div style="color:red;&#32;x:y">x</div>'],
    [
      '<style> element',
      '<style>a{background:url(https://other.test/a.png)} /* url(https://other.test/c.png) */ @import "https://blocked.test/i.css";</style>',
      `<style>a{background:url(${O2}a.png)} /* url(https://other.test/c.png) */ @import "${blocked('https://blocked.test/i.css')}";</style>`,
    ],
    [
      '<style> text with markup in it stays',
      `<STYLE>a::after{content:"</div><a href='https://other.test/x'>"}</Style ><a href="https://other.test/y">`,
      `<STYLE>a::after{content:"</div><a href='https://other.test/x'>"}</Style ><a href="${O2}y">`,
    ],
  ])('%s', (_name, input, expected) => {
    expect(rw(input)).toBe(expected);
  });
});

describe('rewriteHtml: markup that is not markup', () => {
  const untouched = '<a href="https://other.test/x">';
  const after = `<a href="${O2}y">`;
  it.each<[string, string, string]>([
    ['comment', `<!-- ${untouched} -->`, `<!-- ${untouched} -->`],
    ['comment ended by --!>', `<!-- ${untouched} --!><a href="https://other.test/y">`, `<!-- ${untouched} --!>${after}`],
    ['<!--> is a whole comment', '<!--><a href="https://other.test/y">', `<!-->${after}`],
    ['<!---> is a whole comment', '<!---><a href="https://other.test/y">', `<!--->${after}`],
    [
      'script text',
      `<script>var s = "</div>${untouched}"; if (a<b) {}</script><a href="https://other.test/y">`,
      `<script>var s = "</div>${untouched}"; if (a<b) {}</script>${after}`,
    ],
    [
      'script with escaped <!-- <script> section',
      `<script><!-- <script> </script> ${untouched} --></script><a href="https://other.test/y">`,
      `<script><!-- <script> </script> ${untouched} --></script>${after}`,
    ],
    [
      'script double-escaped section ended by </script>',
      '<script><!--<script></script></script><a href="https://other.test/y">',
      `<script><!--<script></script></script>${after}`,
    ],
    ['script end tag any case', `<script>${untouched}</SCRIPT\n><a href="https://other.test/y">`, `<script>${untouched}</SCRIPT\n>${after}`],
    [
      'script src is mapped but its text is not',
      `<script src="https://other.test/a.js">${untouched}</script>`,
      `<script src="${O2}a.js">${untouched}</script>`,
    ],
    ['textarea', `<textarea></div>${untouched}</textarea><a href="https://other.test/y">`, `<textarea></div>${untouched}</textarea>${after}`],
    ['title with a near-miss end tag', `<title></titlex>${untouched}</TITLE><a href="https://other.test/y">`, `<title></titlex>${untouched}</TITLE>${after}`],
    ['xmp', `<xmp>${untouched}</xmp><a href="https://other.test/y">`, `<xmp>${untouched}</xmp>${after}`],
    ['noembed', `<noembed>${untouched}</noembed><a href="https://other.test/y">`, `<noembed>${untouched}</noembed>${after}`],
    ['noframes', `<noframes>${untouched}</noframes><a href="https://other.test/y">`, `<noframes>${untouched}</noframes>${after}`],
    ['noscript (scripting is on)', `<noscript>${untouched}</noscript><a href="https://other.test/y">`, `<noscript>${untouched}</noscript>${after}`],
    ['iframe content', `<iframe>${untouched}</iframe><a href="https://other.test/y">`, `<iframe>${untouched}</iframe>${after}`],
    [
      'plaintext never ends',
      `<plaintext>${untouched}</plaintext><a href="https://other.test/y">`,
      `<plaintext>${untouched}</plaintext><a href="https://other.test/y">`,
    ],
    [
      'doctype and processing instruction',
      '<!DOCTYPE html><?xml version="1.0"?><a href="https://other.test/y">',
      `<!DOCTYPE html><?xml version="1.0"?>${after}`,
    ],
    ['CDATA in HTML is a bogus comment ending at >', '<![CDATA[ x > <a href="https://other.test/y"> ]]>', `<![CDATA[ x > ${after} ]]>`],
    ['CDATA in SVG is text', `<svg><![CDATA[ x > ${untouched} ]]></svg><a href="https://other.test/y">`, `<svg><![CDATA[ x > ${untouched} ]]></svg>${after}`],
    [
      'end tag with attributes',
      '</div title="<a href=https://other.test/x>"><a href="https://other.test/y">',
      `</div title="<a href=https://other.test/x>">${after}`,
    ],
    ['stray </> and </ x>', '</></ x><a href="https://other.test/y">', `</></ x>${after}`],
    ['unterminated tag at the end stays', '<a href="https://other.test/y"><a href="https://other.test/x"', `${after}<a href="https://other.test/x"`],
    ['lone < is text', 'a < b <3 <a href="https://other.test/y">', `a < b <3 ${after}`],
  ])('%s', (_name, input, expected) => {
    expect(rw(input)).toBe(expected);
  });
});

describe('rewriteHtml: template, SVG, MathML, srcdoc', () => {
  it.each<[string, string, string]>([
    ['template contents are markup', '<template><a href="https://other.test/t">t</a></template>', `<template><a href="${O2}t">t</a></template>`],
    [
      'SVG href and xlink:href',
      '<svg><a xlink:href="https://other.test/x"><image href="https://other.test/i.png"/></a><use href="https://other.test/s.svg#i"/></svg>',
      `<svg><a xlink:href="${O2}x"><image href="${O2}i.png"/></a><use href="${O2}s.svg#i"/></svg>`,
    ],
    ['xlink:href is not an HTML attribute', '<a xlink:href="https://other.test/x">x</a>', '<a xlink:href="https://other.test/x">x</a>'],
    ['SVG style attribute', '<svg><rect style="fill:url(https://other.test/p.svg#g)"/></svg>', `<svg><rect style="fill:url(${O2}p.svg#g)"/></svg>`],
    [
      'SVG <style> text is CSS, in CDATA too, across comments',
      '<svg><style>a{b:url(https://other.test/1.png)}<!-- x -->c{d:url("https://other.test/2.png")}<![CDATA[@import "https://other.test/3.css";]]></style><text>url(https://other.test/t)</text></svg>',
      `<svg><style>a{b:url(${O2}1.png)}<!-- x -->c{d:url("${O2}2.png")}<![CDATA[@import "${O2}3.css";]]></style><text>url(https://other.test/t)</text></svg>`,
    ],
    [
      "MathML's <style> is no stylesheet; a self-closing SVG one holds nothing",
      '<math><style>a{b:url(https://other.test/m)}</style></math><svg><style/><text>a{b:url(https://other.test/s)}</text></svg>',
      '<math><style>a{b:url(https://other.test/m)}</style></math><svg><style/><text>a{b:url(https://other.test/s)}</text></svg>',
    ],
    [
      'an HTML start tag ends an SVG <style> with its SVG',
      '<svg><style>a{b:url(https://other.test/1)}<div>c{d:url(https://other.test/2)}</div></style></svg>',
      `<svg><style>a{b:url(${O2}1)}<div>c{d:url(https://other.test/2)}</div></style></svg>`,
    ],
    [
      'an HTML element breaks out of SVG, so <script> is raw again',
      `<svg><p><script>"<a href='https://other.test/x'>"</script><a href="https://other.test/y">`,
      `<svg><p><script>"<a href='https://other.test/x'>"</script><a href="${O2}y">`,
    ],
    [
      'foreignObject is HTML inside SVG',
      '<svg><foreignObject><textarea><a href="https://other.test/x"></textarea></foreignObject><![CDATA[<a href="https://other.test/z">]]></svg>',
      '<svg><foreignObject><textarea><a href="https://other.test/x"></textarea></foreignObject><![CDATA[<a href="https://other.test/z">]]></svg>',
    ],
    [
      'MathML text integration point',
      '<math><mi><style>a{b:url(https://other.test/m.png)}</style></mi><![CDATA[<a href="https://other.test/z">]]></math>',
      `<math><mi><style>a{b:url(${O2}m.png)}</style></mi><![CDATA[<a href="https://other.test/z">]]></math>`,
    ],
    [
      'srcdoc is rewritten and re-encoded',
      '<iframe srcdoc="<p><a href=&quot;https://other.test/in&quot;>x</a> &amp;amp; &lt;</p>"></iframe>',
      `<iframe srcdoc="<p><a href=&quot;${O2}in&quot;>x</a> &amp;amp; <</p>"></iframe>`,
    ],
    [
      'srcdoc nests',
      `<iframe srcdoc="<iframe srcdoc='<img src=&amp;quot;https://other.test/deep&amp;quot;>'></iframe>"></iframe>`,
      `<iframe srcdoc="<iframe srcdoc='<img src=&quot;${O2}deep&quot;>'></iframe>"></iframe>`,
    ],
    ['srcdoc without URLs stays', '<iframe srcdoc="<p>hi &amp; bye</p>"></iframe>', '<iframe srcdoc="<p>hi &amp; bye</p>"></iframe>'],
  ])('%s', (_name, input, expected) => {
    expect(rw(input)).toBe(expected);
  });

  it('does not inject the snippet into srcdoc', () => {
    const out = rewriteHtml('<head></head><iframe srcdoc="<head></head><a href=&quot;https://other.test/x&quot;>"></iframe>', { mapUrl, snippet: SNIPPET });
    expect(out).toBe(`<head>${SNIP}</head><iframe srcdoc="<head></head><a href=&quot;${O2}x&quot;>"></iframe>`);
  });

  it('leaves a URL as it is when mapUrl throws', async () => {
    const map = (url: string): string | null => {
      if (url.includes('bad')) throw new TypeError('Invalid URL');
      return mapUrl(url);
    };
    const html = '<a href="https://other.test/bad">1</a><div style="b:url(https://bad)"></div><a href="https://other.test/ok">2</a>';
    const expected = `<a href="https://other.test/bad">1</a><div style="b:url(https://bad)"></div><a href="${O2}ok">2</a>`;
    expect(rewriteHtml(html, { mapUrl: map })).toBe(expected);
    expect((await stream([Buffer.from(html)], { map, snippet: Buffer.alloc(0) })).toString()).toBe(expected);
  });

  it('passes the tag and attribute to mapUrl', () => {
    const seen: string[] = [];
    const record = (url: string, context: HtmlUrlContext): null => {
      seen.push(`${context.tag}.${context.attr} ${url}`);
      return null;
    };
    rewriteHtml(
      '<a href="//x/a" ping="p"><IMG SRCSET="s 1x"><svg><a xlink:href="u"/></svg><style>a{b:url(c)}</style><div style="b:url(d)"></div><meta http-equiv=refresh content="0;url=r">',
      { mapUrl: record },
    );
    expect(seen).toEqual(['a.href //x/a', 'a.ping p', 'img.srcset s', 'a.xlink:href u', 'style. c', 'div.style d', 'meta.content r']);
  });
});

describe('rewriteHtml: references to the top window in event handlers and javascript: URLs', () => {
  const H = '__cobrowseTop';
  it.each<[string, string]>([
    ['<a onclick="top.location = \'https://x.test/\'">', `<a onclick="${H}(top).location = 'https://x.test/'">`],
    ['<body ONLOAD="if (top !== self) window.top.location.href = u">', `<body ONLOAD="if (top !== self) ${H}(window.top).location.href = u">`],
    ['<x-y onclick=\'top.postMessage(1, "*")\'>', `<x-y onclick='${H}(top).postMessage(1, "*")'>`],
    ['<p onmouseover=top.location.reload()>', `<p onmouseover=${H}(top).location.reload()>`],
    ['<div onclick="t&#111;p.location = u">', `<div onclick="${H}(top).location = u">`],
    ['<svg onload="top.location = u"></svg>', `<svg onload="${H}(top).location = u"></svg>`],
    ['<a onclick="a()" onfocus="top.location = u" onblur="b()">', `<a onclick="a()" onfocus="${H}(top).location = u" onblur="b()">`],
    // A style attribute after the handler (an element the rewriter has no URL attributes for).
    ['<div onclick="top.location = u" style="color:red">', `<div onclick="${H}(top).location = u" style="color:red">`],
    ['<span style="color:red" onclick="top.location = u" title=x>', `<span style="color:red" onclick="${H}(top).location = u" title=x>`],
    ['<a onclick="top?.[\'location\'].replace(u)">', `<a onclick="${H}(top)?.['location'].replace(u)">`],
    ['<a href="javascript:top.location=\'%00\'">', `<a href="javascript:${H}(top).location='%00'">`],
    ['<a href="javascript:top.location=\'https://x.test/\'">', `<a href="javascript:${H}(top).location='https://x.test/'">`],
    ['<a href=" JavaScript:top%2Elocation%3D%22u%22">', `<a href="javascript:${H}(top).location=&quot;u&quot;">`],
    ['<iframe src="java\tscript:top.location=u"></iframe>', `<iframe src="javascript:${H}(top).location=u"></iframe>`],
    ['<form action="javascript:void(top.location=\'/x%25\')">', `<form action="javascript:void(${H}(top).location='/x%25')">`],
  ])('%j', (input, expected) => {
    expect(rewriteHtml(input, { mapUrl, relativeUrlsStay: true })).toBe(expected);
    expect(rewriteHtml(input, { mapUrl })).toBe(expected);
  });

  it.each([
    '<a onclick="stop()" title="top.location">',
    '<a data-onclick="top.location = u">',
    '<a on="top.location = u">',
    '<a onclick="\'top.location\'">',
    '<a href="javascript:alert(top)">',
    '<a href="/top.location">',
    // An srcdoc document parsed from the page has no runtime to answer the hook.
    '<iframe srcdoc="<script>top.postMessage(1, &quot;*&quot;)</script><a onclick=&quot;top.location=u&quot;>"></iframe>',
  ])('leaves %j', (input) => {
    expect(rewriteHtml(input, { mapUrl, relativeUrlsStay: true })).toBe(input);
  });
});

describe('rewriteHtml: a policy in <meta http-equiv>', () => {
  const metaPolicy = (policy: string) => policy.replace(/https:\/\/other\.test/g, 'http://o2--sess.localhost');
  it.each<[string, string]>([
    [
      `<meta http-equiv="Content-Security-Policy" content="img-src 'self' https://other.test/img/">`,
      `<meta http-equiv="Content-Security-Policy" content="img-src 'self' http://o2--sess.localhost/img/">`,
    ],
    [
      `<META HTTP-EQUIV=content-security-policy CONTENT='script-src https://other.test'>`,
      `<META HTTP-EQUIV=content-security-policy CONTENT='script-src http://o2--sess.localhost'>`,
    ],
    [
      `<meta content="default-src https://other.test" http-equiv=" Content-Security-Policy ">`,
      `<meta content="default-src http://o2--sess.localhost" http-equiv=" Content-Security-Policy ">`,
    ],
    [`<meta http-equiv="x-other" content="https://other.test">`, `<meta http-equiv="x-other" content="https://other.test">`],
    [`<meta name="csp" content="https://other.test">`, `<meta name="csp" content="https://other.test">`],
  ])('%s', (input, expected) => {
    expect(rewriteHtml(input, { mapUrl, relativeUrlsStay: true, metaPolicy })).toBe(expected);
  });

  it('keeps the policy when no rewriter is given, or when it throws', () => {
    const input = `<meta http-equiv="Content-Security-Policy" content="img-src https://other.test">`;
    expect(rewriteHtml(input, { mapUrl, relativeUrlsStay: true })).toBe(input);
    expect(
      rewriteHtml(input, {
        mapUrl,
        relativeUrlsStay: true,
        metaPolicy: () => {
          throw new Error('x');
        },
      }),
    ).toBe(input);
  });
});

describe('rewriteHtml: script injection', () => {
  it.each<[string, string]>([
    ['<!DOCTYPE html><html><head><title>t</title>', `<!DOCTYPE html><html><head>${SNIP}<title>t</title>`],
    ['<HEAD lang=x><link rel=stylesheet href="https://other.test/s.css">', `<HEAD lang=x>${SNIP}<link rel=stylesheet href="${O2}s.css">`],
    ['<!-- <head> --><body background="https://other.test/b.png">', `<!-- <head> -->${SNIP}<body background="${O2}b.png">`],
    ['\ufeff<!DOCTYPE html><p>hi', `\ufeff<!DOCTYPE html>${SNIP}<p>hi`],
    ['', SNIP],
    [
      '<html style="background:url(https://other.test/h.png)"><head style="background:url(https://other.test/d.png)"><title>',
      `<html style="background:url(${O2}h.png)"><head style="background:url(${O2}d.png)">${SNIP}<title>`,
    ],
  ])('%j', (input, expected) => {
    expect(rewriteHtml(input, { mapUrl, snippet: SNIPPET })).toBe(expected);
  });

  it.each([
    '<!DOCTYPE html>\n<!-- served by <head> test -->\n<html lang="en" data-note="a>b">\n  <head data-x="1">\n<meta charset="utf-8"><title>Café ✓</title></head><body><p>é</p></body></html>\n',
    '<!DOCTYPE html>\n<!-- comment -->\n<html data-x=">">\n<body>\n<header>Not a head</header>\n</body>\n</html>\n',
    '\n\n   <p>Just a paragraph ✓</p>\n',
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<HTML>\n<HEAD>\n<TITLE>Upper</TITLE>\n</HEAD>\n<BODY>Body</BODY>\n</HTML>\n',
    `<!--${'x'.repeat(70 * 1024)}--><head><p>`,
  ])('places the snippet where HeadInjector does (%#)', async (doc) => {
    const bytes = Buffer.from(doc, 'utf8');
    expect((await stream([bytes])).equals(await headInject(bytes))).toBe(true);
  });
});

const SAMPLE = [
  '\ufeff<!DOCTYPE html>\n',
  '<!-- prologue comment with <head> inside -->\n',
  '<html lang="en">\n<HEAD data-x="a>b">\n<meta charset="utf-8">\n',
  '<meta http-equiv="refresh" content="30; url=https://other.test/refresh?a=1&amp;b=2">\n',
  '<base href="https://other.test/base/">\n',
  '<title>Café <a href="https://other.test/not-a-link"></title>\n',
  '<link rel="stylesheet" href="https://other.test/main.css" integrity="sha384-abc" crossorigin>\n',
  '<link rel=preload as=image href=https://blocked.test/hero.jpg imagesrcset="https://other.test/h1.jpg 1x, https://other.test/h2.jpg 2x">\n',
  '<link rel="canonical" href="https://other.test/canonical">\n',
  '<script src="https://other.test/app.js" integrity="sha384-keep"></script>\n',
  `<script>if (a < b && c > d) { s = "</div><a href='https://other.test/in-script'>"; } // <!-- <script> </script> --></script>\n`,
  '<script><!--<script></script></script><a href="https://other.test/after-escape">\n',
  '<style>body { background: url(https://other.test/bg.png) } /* url(https://other.test/comment.png) */ @import \'https://blocked.test/x.css\'; .i { background-image: image-set("https://other.test/1x.png" 1x, url(https://other.test/2x.png) 2x) }</style>\n',
  '</HEAD>\n<body background="https://other.test/body.png">\n',
  '<A HREF="https://other.test/upper" href="https://other.test/dup" ping="https://other.test/p1 https://blocked.test/p2">Upper</A>\n',
  '<a href=https://other.test/unquoted?x=1&y=2>unquoted</a> <a href=//other.test/proto>proto</a>\n',
  `<a title="<a href='https://other.test/fake'>" href='https://other.test/single'>lt in value</a>\n`,
  '<img src="https://other.test/i.png" srcset="https://other.test/s1.png 1x, https://blocked.test/s2.png 2x" alt="x">\n',
  '<form action="https://blocked.test/post"><button formaction="https://other.test/alt">go</button><input type=image src=//other.test/btn.png></form>\n',
  '<video poster="https://other.test/poster.jpg"><source src="https://other.test/v.mp4"></video><object data="https://other.test/o.pdf"></object>\n',
  `<div style="background-image: url('https://other.test/div.png'); color: red">styled &amp; ✓</div>\n`,
  '<textarea><a href="https://other.test/textarea"></textarea><xmp><a href="https://other.test/xmp"></xmp>\n',
  '<noembed><a href="https://other.test/noembed"></noembed><noframes><a href="https://other.test/noframes"></noframes>\n',
  '<iframe srcdoc="<p><a href=&quot;https://other.test/srcdoc&quot;>x</a></p>" src="https://other.test/frame"></iframe>\n',
  '<template><a href="https://other.test/template">t</a></template>\n',
  '<svg viewBox="0 0 10 10"><a xlink:href="https://other.test/svg-xlink"><image href="https://other.test/svg.png"/></a><![CDATA[ <a href="https://other.test/cdata"> ]]>',
  '<style>.s{fill:url(https://other.test/svg-style.png)}</style><style><![CDATA[.c{fill:url("https://other.test/svg-cdata.png")}]]></style></svg>\n',
  '<math><mi><a href="https://other.test/mi">m</a></mi></math>\n',
  '<!----><!-- <a href="https://other.test/comment"> --!><?xml-stylesheet href="https://other.test/pi"?>\n',
  '<p>text with &amp; and <b>bold</b> ✓ 日本語</p>\n',
  '<plaintext><a href="https://other.test/plaintext">\n',
].join('');

describe('HtmlRewriteStream on a sample with every construct', () => {
  const doc = Buffer.from(SAMPLE, 'utf8');

  it('is about 2 KB', () => {
    expect(doc.length).toBeGreaterThan(1800);
    expect(doc.length).toBeLessThan(3500);
  });

  it('matches rewriteHtml and rewrites what it should', async () => {
    const whole = await stream([doc]);
    const text = whole.toString('utf8');
    expect(text).toBe(rewriteHtml(SAMPLE, { mapUrl, snippet: SNIPPET }));
    expect(text.split(SNIP)).toHaveLength(2);
    expect(text).toContain(`<HEAD data-x="a>b">${SNIP}`);
    for (const rewritten of [
      `content="30; url=${O2}refresh?a=1&amp;b=2"`,
      `<base href="${O2}base/">`,
      `<link rel="stylesheet" href="${O2}main.css?__cobrowse_sri=sha384-abc" crossorigin>`,
      `href="${blocked('https://blocked.test/hero.jpg')}"`,
      `imagesrcset="${O2}h1.jpg 1x, ${O2}h2.jpg 2x"`,
      `<script src="${O2}app.js?__cobrowse_sri=sha384-keep">`,
      `url(${O2}bg.png)`,
      `@import '${blocked('https://blocked.test/x.css')}'`,
      `image-set("${O2}1x.png" 1x, url(${O2}2x.png) 2x)`,
      `background="${O2}body.png"`,
      `<A HREF="${O2}upper" href="https://other.test/dup" ping="${O2}p1 ${blocked('https://blocked.test/p2')}">`,
      `<a href="${O2}unquoted?x=1&amp;y=2">`,
      `<a href=${O2}proto>`,
      `href='${O2}single'`,
      `srcset="${O2}s1.png 1x, ${blocked('https://blocked.test/s2.png')} 2x"`,
      `formaction="${O2}alt"`,
      `src=${O2}btn.png>`,
      `poster="${O2}poster.jpg"`,
      `data="${O2}o.pdf"`,
      `url('${O2}div.png')`,
      `srcdoc="<p><a href=&quot;${O2}srcdoc&quot;>x</a></p>" src="${O2}frame"`,
      `<a href="${O2}template">`,
      `xlink:href="${O2}svg-xlink"`,
      `<image href="${O2}svg.png"/>`,
      `.s{fill:url(${O2}svg-style.png)}`,
      `<![CDATA[.c{fill:url("${O2}svg-cdata.png")}]]>`,
      `<a href="${O2}mi">`,
      `<a href="${O2}after-escape">`,
    ]) {
      expect(text).toContain(rewritten);
    }
    for (const kept of [
      '<a href="https://other.test/not-a-link">',
      '<link rel="canonical" href="https://other.test/canonical">',
      "<a href='https://other.test/in-script'>",
      'url(https://other.test/comment.png)',
      "<a href='https://other.test/fake'>",
      '<a href="https://other.test/textarea">',
      '<a href="https://other.test/xmp">',
      '<a href="https://other.test/noembed">',
      '<a href="https://other.test/noframes">',
      '<a href="https://other.test/cdata">',
      '<a href="https://other.test/comment">',
      'href="https://other.test/pi"',
      '<a href="https://other.test/plaintext">',
    ]) {
      expect(text).toContain(kept);
    }
  });

  it('gives byte-identical output for every split into two chunks', async () => {
    const whole = await stream([doc]);
    const mismatches: number[] = [];
    for (let cut = 0; cut <= doc.length; cut++) {
      if (!(await stream(splitAt(doc, [cut]))).equals(whole)) mismatches.push(cut);
    }
    expect(mismatches).toEqual([]);
  });

  it.each([3, 5])('gives byte-identical output for random %i-chunk splits', async (pieces) => {
    const whole = await stream([doc]);
    const random = mulberry32(pieces * 7919);
    const mismatches: number[][] = [];
    for (let run = 0; run < 400; run++) {
      const cuts = randomCuts(random, doc.length, pieces);
      if (!(await stream(splitAt(doc, cuts))).equals(whole)) mismatches.push(cuts);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives byte-identical output one byte at a time', async () => {
    const whole = await stream([doc]);
    const bytes = Array.from({ length: doc.length }, (_, i) => doc.subarray(i, i + 1));
    expect((await stream(bytes)).equals(whole)).toBe(true);
  });
});

const VOCABULARY = [
  '<',
  '</',
  '<!--',
  '-->',
  '--!>',
  '-',
  '<!',
  '<?',
  '>',
  '"',
  "'",
  '=',
  ' ',
  '\n',
  'a',
  'href',
  'style',
  'script',
  'title',
  'svg',
  'math',
  'mi',
  '<![CDATA[',
  ']]>',
  'url(',
  ')',
  'https://other.test/x',
  '&amp;',
  '&',
  '/',
  '@import',
  '/*',
  '*/',
  '\\',
  'é',
  '<head>',
  '<!DOCTYPE html>',
  '<a href="https://other.test/a">',
  '<img src=https://other.test/i srcset="https://other.test/s 1x, https://blocked.test/t 2x">',
  '<script>',
  '</script>',
  '<style>',
  '</style>',
  '<svg>',
  '</svg>',
  '<textarea>',
  '</textarea>',
  '<div style="background:url(https://other.test/bg)">',
  '<link rel=stylesheet href=https://other.test/s.css integrity=x>',
  '<iframe srcdoc="<a href=&quot;https://other.test/in&quot;>">',
  '<script><!--<script>',
  '<meta http-equiv=refresh content="0;url=https://other.test/r">',
  "url('https://other.test/q')",
  '<p>',
  '<!-->',
  '<foreignObject>',
  '</foreignObject>',
];

describe('HtmlRewriteStream on random hostile documents', () => {
  it('gives the same bytes for random splits and one byte at a time', async () => {
    const random = mulberry32(20240611);
    const failures: string[] = [];
    for (let d = 0; d < 40; d++) {
      let text = '';
      const tokens = 20 + Math.floor(random() * 120);
      for (let k = 0; k < tokens; k++) text += VOCABULARY[Math.floor(random() * VOCABULARY.length)];
      const doc = Buffer.from(text, 'utf8');
      const whole = await stream([doc]);
      if (whole.toString('utf8') !== rewriteHtml(text, { mapUrl, snippet: SNIPPET })) failures.push(`rewriteHtml differs: ${text}`);
      const splits = Array.from({ length: 8 }, () => randomCuts(random, doc.length, 2 + Math.floor(random() * 4)));
      splits.push(Array.from({ length: doc.length - 1 }, (_, i) => i + 1));
      for (const cuts of splits) {
        if (!(await stream(splitAt(doc, cuts))).equals(whole)) {
          failures.push(`${JSON.stringify(cuts.length > 10 ? 'bytewise' : cuts)}: ${text}`);
          break;
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('HtmlRewriteStream limits and charsets', () => {
  it('passes a tag over 1 MB through unmodified and keeps going after it', async () => {
    const big = `<img alt="${'x'.repeat(1_100_000)}" src="https://other.test/big"><a title='y>z'>`;
    const doc = Buffer.from(`<head><a href="https://other.test/a">${big}<script>"<a href='https://other.test/s'>"</script><a href="https://other.test/b">`);
    const expected = `<head>${SNIP}<a href="${O2}a">${big}<script>"<a href='https://other.test/s'>"</script><a href="${O2}b">`;
    const whole = await stream([doc]);
    expect(whole.toString('latin1')).toBe(expected);
    const chunks: Buffer[] = [];
    for (let i = 0; i < doc.length; i += 16 * 1024) chunks.push(doc.subarray(i, i + 16 * 1024));
    expect((await stream(chunks)).equals(whole)).toBe(true);
    expect((await stream(splitAt(doc, [50, 1_048_600, 1_048_620]))).equals(whole)).toBe(true);
  });

  it('treats an over-long <script> start tag as a script all the same', async () => {
    const doc = Buffer.from(`<script data-x="${'x'.repeat(1_100_000)}">"<a href='https://other.test/s'>"</script><a href="https://other.test/b">`);
    const out = (await stream([doc], { snippet: Buffer.alloc(0) })).toString('latin1');
    expect(out.endsWith(`"<a href='https://other.test/s'>"</script><a href="${O2}b">`)).toBe(true);
  });

  it('decodes UTF-8 URLs before mapping and encodes the result as UTF-8', async () => {
    const seen: string[] = [];
    const map = (url: string): string | null => {
      seen.push(url);
      return mapUrl(url);
    };
    const doc = Buffer.from('<a href="https://other.test/café?q=日本">x</a>', 'utf8');
    const out = await stream(splitAt(doc, [30, 31, 40]), { map, snippet: Buffer.alloc(0) });
    expect(seen).toEqual(['https://other.test/café?q=日本']);
    expect(out.toString('utf8')).toBe(`<a href="${O2}café?q=日本">x</a>`);
  });

  it('decodes windows-1252 URLs and writes non-ASCII back as character references', async () => {
    const seen: string[] = [];
    const map = (url: string): string | null => {
      seen.push(url);
      return mapUrl(url);
    };
    const doc = Buffer.from('<a href="https://other.test/caf\xe9">\x80</a><div style="background:url(https://other.test/\xe9.png)">', 'latin1');
    const out = await stream([doc], { map, charset: 'windows-1252', snippet: Buffer.alloc(0) });
    expect(seen).toEqual(['https://other.test/café', 'https://other.test/é.png']);
    expect(out.toString('latin1')).toBe(`<a href="${O2}caf&#233;">\x80</a><div style="background:url(${O2}&#233;.png)">`);
  });

  it('escapes non-ASCII in <style> for a non-UTF-8 charset', async () => {
    const doc = Buffer.from('<style>a{b:url("https://other.test/\xe9")}</style>', 'latin1');
    const out = await stream([doc], { charset: 'iso-8859-1', snippet: Buffer.alloc(0) });
    expect(out.toString('latin1')).toBe(`<style>a{b:url("${O2}\\e9 ")}</style>`);
  });

  it('passes UTF-16 through untouched', async () => {
    const doc = Buffer.from('\ufeff<a href="https://other.test/a">', 'utf16le');
    expect((await stream([doc])).equals(doc)).toBe(true);
    expect((await stream([doc], { charset: 'utf-16le' })).equals(doc)).toBe(true);
  });
});

/** A mapper like proxy.ts's markupUrl: whatever is not absolute stays. */
function absoluteOnly(url: string): string | null {
  return /^([a-z][a-z0-9+.-]*:|\/\/|\\\\)/i.test(url.trim()) ? mapUrl(url.trim()) : null;
}

describe('HtmlRewriter with relativeUrlsStay', () => {
  const doc = Buffer.from(SAMPLE, 'utf8');

  it('gives the same bytes as asking mapUrl about every URL, for any split', async () => {
    const asked = await stream([doc], { map: absoluteOnly });
    const random = mulberry32(4242);
    for (let run = 0; run < 50; run++) {
      const chunks = splitAt(doc, randomCuts(random, doc.length, 2 + (run % 4)));
      const s = new HtmlRewriteStream({ mapUrl: absoluteOnly, snippet: SNIPPET, relativeUrlsStay: true });
      const out: Buffer[] = [];
      s.on('data', (chunk: Buffer) => out.push(chunk));
      const finished = new Promise<void>((resolve) => s.on('end', resolve));
      for (const chunk of chunks) s.write(chunk);
      s.end();
      await finished;
      expect(Buffer.concat(out).equals(asked)).toBe(true);
    }
  });

  it('gives the same bytes as asking about every URL on random hostile documents', () => {
    const random = mulberry32(777);
    const extra = ['https&#58;//other.test/e', '&#47;/other.test/p', '\v//other.test/v', '/rel?a=1&amp;b=2', 'x.png 1x, //other.test/y 2x', 'java\nscript:x'];
    const failures: string[] = [];
    for (let d = 0; d < 300; d++) {
      let text = '';
      const tokens = 20 + Math.floor(random() * 100);
      for (let k = 0; k < tokens; k++) {
        const pool = random() < 0.15 ? extra : VOCABULARY;
        text += pool[Math.floor(random() * pool.length)];
      }
      const asked = rewriteHtml(text, { mapUrl: absoluteOnly, snippet: SNIPPET });
      if (rewriteHtml(text, { mapUrl: absoluteOnly, snippet: SNIPPET, relativeUrlsStay: true }) !== asked) failures.push(text);
    }
    expect(failures).toEqual([]);
  });

  it('does not ask about URLs that cannot be absolute, and still asks about disguised ones', () => {
    const seen: string[] = [];
    const record = (url: string, context: HtmlUrlContext): string | null => {
      seen.push(`${context.tag}.${context.attr} ${url}`);
      return absoluteOnly(url);
    };
    const html = [
      '<a href="/x">1</a><img src="p.png" srcset="/a.png 1x, /b.png 2x"><a ping="/p /q" href="?x">2</a>',
      '<a href="https&#58;//other.test/e">3</a><img src="\vhttps://other.test/v"><img srcset="/a 1x, //other.test/b 2x">',
      '<link rel=stylesheet href="/s.css" integrity="x"><div style="b:url(/r.png);c:url(//other.test/c.png)"></div>',
    ].join('');
    const out = rewriteHtml(html, { mapUrl: record, relativeUrlsStay: true });
    expect(out).toBe(rewriteHtml(html, { mapUrl: absoluteOnly }));
    expect(out).toContain(`<link rel=stylesheet href="/s.css?__cobrowse_sri=x">`);
    expect(seen).toEqual([
      'a.href https://other.test/e',
      'img.src \vhttps://other.test/v',
      'img.srcset /a',
      'img.srcset //other.test/b',
      'link.href /s.css',
      'div.style //other.test/c.png',
    ]);
  });
});

describe('HtmlRewriter output', () => {
  it('hands on untouched bytes as slices of the input chunk', () => {
    const rewriter = new HtmlRewriter({ mapUrl, snippet: SNIPPET });
    const first = Buffer.from('<!DOCTYPE html><html><head><title>t</title>');
    const second = Buffer.from('<p>text</p><a href="/rel">r</a><img src="x.png">');
    const one = rewriter.write(first);
    expect(Buffer.concat(one).toString()).toBe(`<!DOCTYPE html><html><head>${SNIP}<title>t</title>`);
    expect(one[0]!.buffer).toBe(first.buffer);
    expect(one[2]!.buffer).toBe(first.buffer);
    const two = rewriter.write(second);
    expect(two).toHaveLength(1);
    expect(two[0]!.buffer).toBe(second.buffer);
    expect(rewriter.end()).toEqual([]);
  });

  it('holds back a tag cut by the chunk end and sends it with the next chunk', () => {
    const rewriter = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0) });
    expect(Buffer.concat(rewriter.write(Buffer.from('<p>a</p><a href="https://oth'))).toString()).toBe('<p>a</p>');
    expect(Buffer.concat(rewriter.write(Buffer.from('er.test/x">b</a>'))).toString()).toBe(`<a href="${O2}x">b</a>`);
    expect(rewriter.end()).toEqual([]);
  });

  it('joins many edits of one chunk into one Buffer', () => {
    const rewriter = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0) });
    const html = Array.from({ length: 20 }, (_, i) => `<a href="https://other.test/${i}">${i}</a>`).join('');
    const out = rewriter.write(Buffer.from(html));
    expect(out).toHaveLength(1);
    expect(out[0]!.toString()).toBe(rewriteHtml(html, { mapUrl }));
  });
});
