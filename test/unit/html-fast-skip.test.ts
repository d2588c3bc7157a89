// The scanner's fast path (gateway/rewrite/html-fast-skip.ts) against the reference: the same
// rewriter with the fast path off tokenizes every tag. On generated hostile markup both must give
// the same bytes, whole and at every chunk split; and the fast path must really skip plain markup
// (otherwise this file would compare the slow path with itself). The fast path is a WebAssembly
// scanner (wasm/fast-skip.ts); it must also answer exactly as the regular expression that writes
// its grammar out (test/helpers/fast-skip-reference.ts).

import { describe, expect, it } from 'vitest';
import { skipPlainMarkup, textTicket } from '../../gateway/rewrite/html-fast-skip.js';
import { HtmlRewriter, rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';
import { absoluteUrlForm } from '../../gateway/rewrite/relative-url.js';
import { referenceSkipPlainMarkup } from '../helpers/fast-skip-reference.js';
import { mulberry32 } from '../helpers/random.js';

const SNIPPET = Buffer.from('<script src="/__cobrowse/inject.js" data-cobrowse></script>');

/** A mapper that keeps every relative URL (what relativeUrlsStay promises) and marks the absolute ones, as the browser's URL parser reads them (markupUrl's rule). */
function mapUrl(url: string): string | null {
  const form = absoluteUrlForm(url);
  return form === null ? null : `http://mapped.test/${encodeURIComponent(form)}`;
}

const TAGS = [
  'a',
  'A',
  'img',
  'IMG',
  'div',
  'li',
  'p',
  'br',
  'span',
  'x-card',
  'image',
  'form',
  'button',
  'input',
  'object',
  'video',
  'table',
  'td',
  'font',
  'area',
  'source',
  'embed',
  'track',
  'frame',
  'body',
  'html',
  'head',
  'template',
  'script',
  'SCRIPT',
  'style',
  'StYlE',
  'textarea',
  'title',
  'xmp',
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
  'svg',
  'math',
  'link',
  'LINK',
  'meta',
  'base',
  'foreignObject',
  'desc',
  'annotation-xml',
  'mi',
  'scriptx',
  'a"b',
  "a'b",
  'a<b',
  'a=b',
  'img/',
  // Names the module's (first letter, length) tables judge: a stop element's letter at another
  // length, and longer than the tables' 15.
  'metadata',
  'x-very-long-custom-element',
];
const ATTRS = [
  'href',
  'HREF',
  'src',
  'srcset',
  'imagesrcset',
  'style',
  'STYLE',
  'class',
  'alt',
  'data',
  'data-id',
  'action',
  'formaction',
  'poster',
  'ping',
  'background',
  'xlink:href',
  'srcdoc',
  'content',
  'http-equiv',
  'rel',
  'as',
  'integrity',
  'encoding',
  'color',
  'hrefx',
  'x-href',
  'on',
  'onclick',
  'ONLOAD',
  'onmouseover',
  '"q',
  "'q",
  '<x',
  '=y',
  'a:b',
  'style-x',
  // As above, for attributes: style's letter and length, a handler over 15 letters, a long other name.
  'sizes',
  'onbeforeunload',
  'onanimationiteration',
  'abcdefghijklmnopq',
];
const VALUES = [
  '/a',
  'a.png',
  '?q=1',
  '#top',
  '',
  ' ',
  '/products/7',
  'img.png 1x, img@2x.png 2x',
  '../up',
  'a b c',
  'https://allowed.test/x',
  '//evil.test/y',
  ' //evil.test',
  '\\\\evil.test',
  '/\\evil.test',
  'http:x',
  'javascript:alert(1)',
  'java\tscript:x',
  '/\t/evil.test',
  '&#47;&#47;evil.test',
  'https&colon;//x',
  '&amp;',
  'x&y',
  'a > b',
  'a<b',
  "it's",
  'say "hi"',
  'color: red',
  'background:url(https://allowed.test/bg.png)',
  'background:url(/bg.png)',
  '@import "x"',
  'u\\72l(x)',
  '<p>srcdoc <img src=https://allowed.test/i.png></p>',
  '0; url=https://allowed.test/r',
  'refresh',
  'stylesheet',
  'preload',
  'style',
  'sha256-abc',
  'text/html',
  'caf\u00e9',
  '\u00e9:x',
  'a\u000bb',
  'x/',
  'x//',
  'a//b',
  'md:flex hover:bg',
  'data:image/png;base64,AAAA',
  '\u00ff',
  'ht\ntps://allowed.test/x',
  'h\tttps://x',
  '/\n/evil.test',
  '/\t\\evil.test',
  '\u0001https://allowed.test/',
  '\u0001//evil.test',
  '\u001f/x',
  '/a?x=1&amp;y=2',
  'a&b',
  'A:b',
  'a+b.c-d:x',
  'a1+:x',
  'x_y:z',
  '/&#47;x',
  'p&#58;x',
  '1http://x',
  '\u00a0https://x',
  ' \t\nhttps://x',
  '/\u00e9',
  '?a=b:c',
  '#x:y',
  'a\\b',
  'a/b:c',
  'top.location = "https://allowed.test/x"',
  'window.top.location.href=u',
  'if (top !== self) top.location = self.location',
  't&#111;p.location = u',
  'top&period;postMessage(1, "*")',
  'javascript:top.location="https://allowed.test/x"',
  'javascript:top%2Elocation=u',
  'stop()',
];
const TEXTS = ['hello', ' ', '\n', 'a < b', '3<4', '<', '>', '&lt;', '&', '"', "'", 'x=y', '\u00e9', '<3', '< a', '<-', '</', '</3', '</ >', '</>'];
const MARKUP = [
  '<!-- c -->',
  '<!-->',
  '<!--->',
  '<!-- <a href=//evil.test> -->',
  '<!-- a --!>',
  '<!x>',
  '<!DOCTYPE html>',
  '<?php x ?>',
  '<![CDATA[ <a href=//evil.test> ]]>',
  '<!--',
  '-->',
  ']]>',
  '</script>',
  '<!--<script>',
  '</style>',
  '</svg>',
  '</math>',
  '</foreignObject>',
  '</p>',
  '</br>',
  '</a title=">">',
  "</a title='>'>",
  '</div >',
  '</DIV/>',
];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function attribute(random: () => number): string {
  const name = pick(random, ATTRS);
  const r = random();
  if (r < 0.15) return name;
  const value = pick(random, VALUES);
  const eq = pick(random, ['=', '=', '=', ' = ', '\n=', '= ']);
  if (r < 0.5) return `${name}${eq}"${value.replace(/"/g, '&quot;')}"`;
  if (r < 0.75) return `${name}${eq}'${value.replace(/'/g, '&#39;')}'`;
  if (r < 0.9) return `${name}${eq}${value.replace(/[\s>]/g, '')}`;
  return `${name}${eq}"${value}"`;
}

/** What goes between attributes: mostly a space, sometimes indentation as formatted markup has it. */
function separator(random: () => number): string {
  const r = random();
  if (r < 0.6) return pick(random, [' ', ' ', '\n', '\t', '/', ' / ', '']);
  return `\n${' '.repeat(1 + Math.floor(random() * 12))}`;
}

function tag(random: () => number): string {
  const name = pick(random, TAGS);
  let out = `<${name}`;
  const n = Math.floor(random() * 4);
  for (let k = 0; k < n; k++) out += separator(random) + attribute(random);
  return out + pick(random, ['>', '>', '>', ' >', '/>', ' />', '\n>', '', `${separator(random)}>`]);
}

function document(random: () => number, parts: number): string {
  let out = random() < 0.5 ? '<!DOCTYPE html><html><head>' : '';
  for (let k = 0; k < parts; k++) {
    const r = random();
    if (r < 0.45) out += tag(random);
    else if (r < 0.6) out += `</${pick(random, TAGS)}${random() < 0.2 ? ` ${attribute(random)}` : ''}>`;
    else if (r < 0.85) out += pick(random, TEXTS);
    else out += pick(random, MARKUP);
  }
  return out;
}

function rewriteChunks(bytes: Buffer, cuts: number[], fastPath: boolean): Buffer {
  const rewriter = new HtmlRewriter({ mapUrl, snippet: SNIPPET, relativeUrlsStay: true, fastPath });
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...rewriter.write(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...rewriter.end());
  return Buffer.concat(out);
}

describe('the HTML scanner fast path', () => {
  it('skips text and plain tags, and stops before everything it must not judge', () => {
    const plain = '<li class="card" data-id="7"><a href="/p/7"><img src="p.png" alt="x: y" width=120></a></li>\nText ';
    expect(skipPlainMarkup(plain, 0)).toBe(plain.length);
    for (const stop of [
      '<a href="https://x.test/">',
      '<a href="//x.test/">',
      '<a href=" //x.test/">',
      '<a href="java&#115;cript:x">',
      '<img srcset="a.png 1x, //x.test/b.png 2x">',
      '<div style="background:url(x.png)">',
      '<div style="a&#40;">',
      '<a HREF=http:x>',
      '<script>',
      '<STYLE>',
      '<svg>',
      '<link rel=stylesheet href=a.css>',
      '<meta http-equiv=refresh content="0;url=/x">',
      '<!-- c -->',
      '<a b="c"d>',
      '<a b=>',
      '<a href="/x"',
      '<a xlink:href="//x.test/">',
      '<a a:b=c>',
      '<a href="\u00e9:x">',
      '<a href="ht\ntps://x.test/">',
      '<a href="/\t/x.test/">',
      '<a href="\u0001//x.test/">',
      '<a onclick="top.location=u">',
      "<a ONCLICK='t&#111;p.location=u'>",
      '<x-y onload=top.postMessage(1)>',
      '<a href="javascript:top.location=u">',
      "<x-y alt=a/b = '<img src=//x.test/>'>",
    ]) {
      expect(skipPlainMarkup(`ab${stop}`, 0), stop).toBe(2);
    }
    expect(skipPlainMarkup('<p class="md:flex" title=\'a > b\' data-x=a/b>z</p><br/>', 0)).toBe(54);
    // An unquoted value runs to the `>`: no href here, and no handler that references top.
    expect(skipPlainMarkup('<a title=x/href=//x.test/>', 0)).toBe(26);
    expect(skipPlainMarkup('<a onclick="go()" onload=go() data-top="top.location">', 0)).toBe(54);
  });

  it('gives the bytes of the reference on generated hostile markup, whole and cut into random chunks', () => {
    // FAST_SKIP_SEED=<n> runs the same check on another set of documents.
    const random = mulberry32(Number(process.env.FAST_SKIP_SEED ?? 20261201));
    let skipped = 0;
    for (let d = 0; d < 3000; d++) {
      const html = document(random, 4 + Math.floor(random() * 40));
      const bytes = Buffer.from(html, 'utf8');
      const reference = rewriteChunks(bytes, [], false);
      expect(rewriteChunks(bytes, [], true).toString('latin1'), html).toBe(reference.toString('latin1'));
      const cuts: number[] = [];
      for (let k = 0; k < 3; k++) cuts.push(Math.floor(random() * (bytes.length + 1)));
      cuts.sort((a, b) => a - b);
      expect(rewriteChunks(bytes, cuts, true).toString('latin1'), `${html} cut at ${cuts}`).toBe(reference.toString('latin1'));
      // Without the snippet too (srcdoc documents and rewriteHtml take this way).
      expect(rewriteHtml(html, { mapUrl, relativeUrlsStay: true }), html).toBe(rewriteHtml(html, { mapUrl, relativeUrlsStay: true, fastPath: false }));
      if (skipPlainMarkup(bytes.toString('latin1'), 0) > 0) skipped++;
    }
    // The generator is not so hostile that the fast path never runs.
    expect(skipped).toBeGreaterThan(300);
  });

  it('answers as the reference expression on generated hostile markup, from every offset', () => {
    const random = mulberry32(Number(process.env.FAST_SKIP_SEED ?? 20261201) + 1);
    let compared = 0;
    let skipped = 0;
    for (let d = 0; d < 4000; d++) {
      const text = Buffer.from(document(random, 1 + Math.floor(random() * 16)), 'utf8').toString('latin1');
      for (let i = 0; i < text.length; i++) {
        const expected = referenceSkipPlainMarkup(text, i);
        const got = skipPlainMarkup(text, i);
        if (got !== expected) expect({ text, i, got }).toEqual({ text, i, got: expected });
        compared++;
        if (expected > i) skipped++;
      }
    }
    expect(compared).toBeGreaterThan(100_000);
    expect(skipped).toBeGreaterThan(compared / 4);
  });

  it('reads each text it is given: texts of one length in turn, and a text of the same bytes as the last', () => {
    const a = '<p class="x">text</p><a href="/a">';
    const b = '<p class="x">text</p><a href="//a">';
    const c = '<p class="x">text</p><a href=//ab>';
    for (let k = 0; k < 3; k++) {
      expect(skipPlainMarkup(a, 0)).toBe(a.length);
      expect(skipPlainMarkup(b, 0)).toBe(21);
      expect(skipPlainMarkup(c, 4)).toBe(21);
      expect(skipPlainMarkup(Buffer.from(b, 'latin1').toString('latin1'), 0)).toBe(21);
    }
    expect(skipPlainMarkup(a, a.length)).toBe(a.length);
    expect(skipPlainMarkup('', 0)).toBe(0);
    // A ticket names one text: another ticket loads its own text, whatever was scanned between.
    const ta = textTicket();
    const tb = textTicket();
    expect(ta).not.toBe(tb);
    expect(skipPlainMarkup(a, 0, ta)).toBe(a.length);
    expect(skipPlainMarkup(b, 0, tb)).toBe(21);
    expect(skipPlainMarkup(a, 4, ta)).toBe(a.length);
    expect(skipPlainMarkup(c, 0, textTicket())).toBe(21);
  });

  it('scans a text longer than its input (1 MiB) a window at a time, leaving a tag cut by a window to the slow path', () => {
    const card = '<li class="card"><a href="/p"><img src="p.png" alt="a b"></a><p>text text text</p></li>\n';
    const text = card.repeat(Math.ceil((3 << 20) / card.length));
    expect(referenceSkipPlainMarkup(text, 0)).toBe(text.length);
    let at = 0;
    const stops: number[] = [];
    // As the scanner calls it: one ticket for its text, so the module's input is a window of it.
    const ticket = textTicket();
    while (at < text.length) {
      const end = skipPlainMarkup(text, at, ticket);
      expect(end).toBeGreaterThanOrEqual(at);
      if (end === at) {
        // What the scanner's slow path does here: it reads the tag and goes on after it.
        expect(text[at]).toBe('<');
        stops.push(at);
        at = text.indexOf('>', at) + 1;
      } else at = end;
    }
    expect(at).toBe(text.length);
    // One stop at most per window, at the tag its end cut (here the windows end in tags).
    expect(stops.length).toBeGreaterThan(0);
    expect(stops.length).toBeLessThanOrEqual(3);
    for (const stop of stops) expect(text.indexOf('>', stop) % (1 << 20)).toBeLessThan(100);
  });

  it('gives the bytes of the reference at every split of a document mixing plain and stopping markup', () => {
    const random = mulberry32(7);
    for (let d = 0; d < 12; d++) {
      const html = document(random, 30);
      const bytes = Buffer.from(html, 'utf8');
      const reference = rewriteChunks(bytes, [], false).toString('latin1');
      for (let cut = 0; cut <= bytes.length; cut++) expect(rewriteChunks(bytes, [cut], true).toString('latin1'), `${html} cut at ${cut}`).toBe(reference);
    }
  });

  it('gives the bytes of the reference on documents longer than its windows, with constructs longer than a window, whole and cut', () => {
    // HtmlRewriter feeds a chunk in windows (4 KB first, doubling) and crosses the plain markup
    // between them on the bytes: long plain runs, and constructs the scanner reads itself that are
    // longer than one window or several (a script, a comment, a style sheet, an attribute, SVG).
    const random = mulberry32(Number(process.env.FAST_SKIP_SEED ?? 20261201) + 2);
    const plain = (k: number) => `<li class="card" data-id="${k}"><a href="/p/${k}"><img src="/i/${k}.png" alt="x"></a><p>text ${k}</p></li>\n`;
    const long = [
      () => `<script>var s = "${'<a href=//evil.test>'.repeat(300 + Math.floor(random() * 400))}";</script>`,
      () => `<!-- ${'<img src=//evil.test/c> '.repeat(200 + Math.floor(random() * 500))} -->`,
      () => `<style>${'.a { background: url(https://allowed.test/bg.png) } '.repeat(100 + Math.floor(random() * 200))}</style>`,
      () => `<div title="${'x'.repeat(5000 + Math.floor(random() * 9000))}" style="background: url(//evil.test/s)">`,
      () => `<svg>${'<a href="https://allowed.test/s"><text>t</text></a>'.repeat(100 + Math.floor(random() * 150))}</svg>`,
      () => `<textarea>${'<a href=//x>'.repeat(500)}</textarea>`,
    ];
    for (let d = 0; d < 8; d++) {
      let html = d % 2 === 0 ? '<!DOCTYPE html><html><head><title>t</title></head><body>' : '';
      for (let k = 0; k < 12; k++) {
        const run = Math.floor(random() * 120);
        for (let j = 0; j < run; j++) html += plain(j);
        html += random() < 0.5 ? pick(random, long)() : document(random, 40);
      }
      const bytes = Buffer.from(html, 'utf8');
      expect(bytes.length).toBeGreaterThan(8192);
      const reference = rewriteChunks(bytes, [], false).toString('latin1');
      expect(rewriteChunks(bytes, [], true).toString('latin1'), `document ${d} whole`).toBe(reference);
      for (let c = 0; c < 40; c++) {
        const cuts = [Math.floor(random() * bytes.length), Math.floor(random() * bytes.length)].sort((a, b) => a - b);
        expect(rewriteChunks(bytes, cuts, true).toString('latin1'), `document ${d} cut at ${cuts.join(', ')}`).toBe(reference);
      }
    }
  });

  it('stays linear on tags that fail to match after long runs of whitespace (no backtracking blow-up)', () => {
    // With an optional attribute after each separator, a run of N spaces could be split 2^N ways,
    // all retried when the tag failed: the 113-byte <img> below took about two minutes.
    const inputs: string[] = [];
    for (const indent of [7, 40, 5000]) {
      const sp = `\n${' '.repeat(indent)}`;
      inputs.push(`<img${sp}class="hero"${sp}alt="A picture"${sp}loading="lazy"${sp}src="https://cdn.example.com/x.png">`);
      inputs.push(`<div${sp}id="a"${sp}:class="{a: b}"${sp}x-on:click="go()">`);
      inputs.push(`</div${sp}a${sp}b${sp}:c>`);
    }
    inputs.push(`<a${' '.repeat(100_000)}"`, `<a${' b=c'.repeat(20_000)}`, `<a${' / b / c'.repeat(20_000)}`, `</a${' b=c  '.repeat(20_000)}`);
    // Values with a long run of spaces inside: trimming them with /[\x00-\x20]+$/ was quadratic
    // (an 80 KB href took 5 s), in URLs, javascript: URLs, a script's type and an integrity URL.
    const run = ' '.repeat(100_000);
    inputs.push(
      `<a href="http://x/${run}a">`,
      `<a href="javascript:top.location='/x';${run}void 0">`,
      `<script type="${run}x${run}"></script>`,
      `<link rel=modulepreload href="/m.js${run}x" integrity="sha256-abc">`,
    );
    for (const input of inputs) {
      const started = performance.now();
      expect(skipPlainMarkup(input, 0)).toBe(0);
      rewriteHtml(input, { mapUrl, relativeUrlsStay: true });
      // Generous: each takes well under 10 ms here; an exponential case takes minutes.
      expect(performance.now() - started, JSON.stringify(input.slice(0, 60))).toBeLessThan(2000);
    }
  });

  it('handles pages far larger than one run of the expression (a 20 MB page)', () => {
    const card = '<li class="card"><a href="/p"><img src="p.png" alt="a b"></a><p>text text text</p></li>\n';
    const page = `<html><head></head><body>${card.repeat(Math.ceil(20e6 / card.length))}<a href="https://x.test/">x</a></body></html>`;
    const out = rewriteChunks(Buffer.from(page, 'latin1'), [], true).toString('latin1');
    expect(out.endsWith(`<a href="${mapUrl('https://x.test/')}">x</a></body></html>`)).toBe(true);
    expect(out.length).toBe(page.length + SNIPPET.length + mapUrl('https://x.test/')!.length - 'https://x.test/'.length);
  });
});
