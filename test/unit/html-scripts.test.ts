import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InlineScriptPolicy } from '../../gateway/csp-inline-scripts.js';
import { type HtmlRewriteOptions, HtmlRewriter, rewriteHtml } from '../../gateway/rewrite/html-rewriter.js';
import { MAX_INLINE_SCRIPT } from '../../gateway/rewrite/html-script-text.js';
import { rewriteImportMap } from '../../gateway/rewrite/import-map.js';

const O2 = 'http://o2--sess.localhost';
const BLOCKED = (url: string) => `http://localhost/blocked?url=${encodeURIComponent(url)}`;
const HOOK = '(globalThis.__cobrowseImport||(s=>s))(';

/** Like the proxy's markupUrl: the scheme and authority replaced, the rest kept as written. */
function mapUrl(url: string): string | null {
  const m = /^(?:https?:)?\/\/([^/?#]*)/i.exec(url.trim());
  if (!m) return null;
  if (m[1] === 'cdn.test') return `${O2}${url.trim().slice(m[0].length)}`;
  return BLOCKED(new URL(url, 'https://page.test/').href);
}

const rw = (html: string) => rewriteHtml(html, { mapUrl, relativeUrlsStay: true });

/** The import map the gateway puts before an element that fetches a module with an integrity marker. */
const integrityMap = (url: string, marked: string, nonce = '') =>
  `<script type="importmap" data-cobrowse=""${nonce ? ` nonce="${nonce}"` : ''}>${JSON.stringify({ imports: { [url]: marked } })}</script>`;

/** The document rewritten in pieces cut at `cuts` (`options`: more of the rewriter's options). */
function chunked(html: string, cuts: number[], options: Partial<HtmlRewriteOptions> = {}): string {
  const bytes = Buffer.from(html, 'utf8');
  const r = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0), relativeUrlsStay: true, ...options });
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...r.write(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...r.end());
  return Buffer.concat(out).toString('utf8');
}

const PAGE = [
  '<!doctype html><html><head>',
  '<script type="importmap">{"imports":{"lib":"https://cdn.test/lib.js","https://cdn.test/x/":"./local/x/","app":"./app.js"},',
  '"scopes":{"https://cdn.test/":{"dep":"https://evil.test/dep.js"}}}</script>',
  '<script type="module">import a from "https://cdn.test/a.js"; import("https://cdn.test/b.js"); import(name); // import("https://cdn.test/no.js")\n</script>',
  '<script>window.x = 1; import("https://cdn.test/c.js").then(() => import(u));</script>',
  '<script type="text/javascript">var s = "no import here";</script>',
  '<script type="text/template">import("https://cdn.test/tpl.js")</script>',
  '<script type="module" src="https://cdn.test/ext.js">import("https://cdn.test/ignored.js")</script>',
  '<script type="module">export * from "https://cdn.test/re.js"; </script>',
  '<script type=" SpeculationRules ">{"prefetch": [{"source": "list", "urls": ["https://cdn.test/next", "/rel", "https://evil.test/x", 7]}],',
  ' "prerender": [{"where": {"href_matches": "https://cdn.test/*"}}]}</script>',
  '<script type="speculationrules">{"prefetch": [{"urls": ["/only-relative"]}]}</script>',
  '</head><body><p>import("https://cdn.test/text.js")</p></body></html>',
].join('\n');

const EXPECTED = [
  '<!doctype html><html><head>',
  `<script type="importmap">{"imports":{"lib":"${O2}/lib.js","${O2}/x/":"./local/x/","app":"./app.js"},"scopes":{"${O2}/":{"dep":"${BLOCKED('https://evil.test/dep.js')}"}}}</script>`,
  `<script type="module">import a from "${O2}/a.js"; import("${O2}/b.js"); import(${HOOK}name,import.meta.url)); // import("https://cdn.test/no.js")\n</script>`,
  `<script>window.x = 1; import("${O2}/c.js").then(() => import(${HOOK}u,document.baseURI)));</script>`,
  '<script type="text/javascript">var s = "no import here";</script>',
  '<script type="text/template">import("https://cdn.test/tpl.js")</script>',
  `<script type="module" src="${O2}/ext.js">import("https://cdn.test/ignored.js")</script>`,
  `<script type="module">export * from "${O2}/re.js"; </script>`,
  // The URLs of list rules (the browser fetches them itself, outside CSP); document rules stay.
  `<script type=" SpeculationRules ">{"prefetch":[{"source":"list","urls":["${O2}/next","/rel","${BLOCKED('https://evil.test/x')}",7]}],"prerender":[{"where":{"href_matches":"https://cdn.test/*"}}]}</script>`,
  '<script type="speculationrules">{"prefetch": [{"urls": ["/only-relative"]}]}</script>',
  '</head><body><p>import("https://cdn.test/text.js")</p></body></html>',
].join('\n');

describe('inline scripts in HTML', () => {
  it('rewrites module scripts, classic scripts with import(), import maps and speculation rules; leaves data blocks and external scripts’ text', () => {
    expect(rw(PAGE)).toBe(EXPECTED);
  });

  it('gives the same bytes for every way of cutting the document into chunks', () => {
    const bytes = Buffer.byteLength(PAGE);
    for (let cut = 1; cut < bytes; cut++) expect(chunked(PAGE, [cut]), `cut at ${cut}`).toBe(EXPECTED);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let n = 0; n < 200; n++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * (bytes - 1))).sort((a, b) => a - b);
      expect(chunked(PAGE, [...new Set(cuts)]), `cuts ${cuts}`).toBe(EXPECTED);
    }
  });

  it('wraps references to the top window in classic and module scripts, the same for every cut; leaves data blocks and text', () => {
    const page = [
      '<!doctype html><html><head>',
      `<script>${'var a = 1;\n'.repeat(20)}if (top !== self) window.top.location.href = "https://real.test/x"; var s = "top.location";</script>`,
      '<script type="module">import a from "https://cdn.test/a.js"; top?.postMessage(a, "https://real.test")</script>',
      '<script type="text/template">top.location = 1</script>',
      '</head><body><p>top.location = 2</p><script>top["location"].replace(u)</script></body></html>',
    ].join('\n');
    const expected = [
      '<!doctype html><html><head>',
      `<script>${'var a = 1;\n'.repeat(20)}if (top !== self) __cobrowseTop(window.top).location.href = "https://real.test/x"; var s = "top.location";</script>`,
      `<script type="module">import a from "${O2}/a.js"; __cobrowseTop(top)?.postMessage(a, "https://real.test")</script>`,
      '<script type="text/template">top.location = 1</script>',
      '</head><body><p>top.location = 2</p><script>__cobrowseTop(top)["location"].replace(u)</script></body></html>',
    ].join('\n');
    expect(rw(page)).toBe(expected);
    const bytes = Buffer.byteLength(page);
    for (let cut = 1; cut < bytes; cut++) expect(chunked(page, [cut]), `cut at ${cut}`).toBe(expected);
    for (let cut = 1; cut + 9 < bytes; cut += 3) expect(chunked(page, [cut, cut + 9]), `cuts at ${cut}, ${cut + 9}`).toBe(expected);
  });

  it("leaves the top references of a Shift_JIS page's script whose bytes it cannot lex one by one (a trail byte may be a backslash)", () => {
    // 表 is 0x95 0x5C in Shift_JIS: read as bytes, its 0x5C would escape the closing quote.
    const sjis = Buffer.concat([
      Buffer.from('<script>var lab = "', 'latin1'),
      Buffer.from([0x95, 0x5c]),
      Buffer.from('", code = "top.location=1", x = 2; top.location = u</script>', 'latin1'),
    ]);
    const r = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0), relativeUrlsStay: true, charset: 'shift_jis' });
    const out = Buffer.concat([...r.write(sjis), ...r.end()]);
    expect(out.equals(sjis)).toBe(true);
    // ASCII-only text of the same page is read.
    const ascii = Buffer.from('<script>top.location = u</script>', 'latin1');
    const r2 = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0), relativeUrlsStay: true, charset: 'shift_jis' });
    expect(Buffer.concat([...r2.write(ascii), ...r2.end()]).toString('latin1')).toBe('<script>__cobrowseTop(top).location = u</script>');
  });

  it('sends a classic script on as it arrives until an import word appears', () => {
    const head = `<script>${'var a = 1;\n'.repeat(2000)}`;
    const html = `${head}import("https://cdn.test/late.js")</script>`;
    const r = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0), relativeUrlsStay: true });
    const first = Buffer.concat(r.write(Buffer.from(head))).toString();
    expect(first.length).toBeGreaterThan(head.length - 16);
    const rest = Buffer.concat([...r.write(Buffer.from(html.slice(head.length))), ...r.end()]).toString();
    expect(first + rest).toBe(`${head}import("${O2}/late.js")</script>`);
  });

  it('keeps the script escape states: a </script> inside <!-- <script> does not end it', () => {
    const html = '<script type="module"><!-- <script> </script> import("https://cdn.test/a.js") --></script><p>x</p>';
    expect(rw(html)).toBe(`<script type="module"><!-- <script> </script> import("https://cdn.test/a.js") --></script><p>x</p>`);
    const plain = '<script type="module">import("https://cdn.test/a.js") </script><script>import(u)</script>';
    expect(rw(plain)).toBe(`<script type="module">import("${O2}/a.js") </script><script>import(${HOOK}u,document.baseURI))</script>`);
  });

  it('rewrites a script the document ends in (no </script>), whole', () => {
    const html = '<p>x</p><script type="module">import "https://cdn.test/a.js"; import(u)';
    const expected = `<p>x</p><script type="module">import "${O2}/a.js"; import(${HOOK}u,import.meta.url))`;
    expect(rw(html)).toBe(expected);
    for (let cut = 1; cut < html.length; cut++) expect(chunked(html, [cut])).toBe(expected);
    expect(chunked('<script>import(', [10])).toBe('<script>import(');
  });

  it('copies a script longer than the limit through as it is', () => {
    const long = `<script type="module">import "https://cdn.test/a.js";${' '.repeat(MAX_INLINE_SCRIPT + 100_000)}</script><img src="https://cdn.test/i.png">`;
    const cuts = Array.from({ length: 18 }, (_, i) => (i + 1) * 64 * 1024);
    const out = chunked(long, cuts);
    // (compared as booleans: a diff of megabytes would take the reporter minutes)
    expect(out.length).toBe(long.length - 'https://cdn.test'.length + O2.length);
    expect(out === long.replace('https://cdn.test/i.png', `${O2}/i.png`)).toBe(true);
    // Within the limit, the same script is rewritten.
    const short = long.replace(' '.repeat(200_000), '');
    expect(chunked(short, cuts).startsWith(`<script type="module">import "${O2}/a.js";`)).toBe(true);
  });

  it('leaves out speculation rules longer than the limit (unmapped, the browser would fetch their real URLs), and nothing after them', () => {
    const rules = `{"prefetch":[{"urls":["https://cdn.test/a"]}],"pad":"${' '.repeat(MAX_INLINE_SCRIPT + 100_000)}"}`;
    const long = `<script type="speculationrules">${rules}</script><img src="https://cdn.test/i.png"><script>1</script>`;
    const cuts = Array.from({ length: 18 }, (_, i) => (i + 1) * 64 * 1024);
    const out = chunked(long, cuts);
    expect(out).toBe(`<script type="speculationrules"></script><img src="${O2}/i.png"><script>1</script>`);
    // A script after them whose start tag is itself too long to hold keeps its text.
    const after = `<script type="speculationrules">${rules}</script><p>hi</p><script data-x="${'x'.repeat(MAX_INLINE_SCRIPT + 1000)}">window.keep = 1;</script>`;
    const kept = chunked(
      after,
      Array.from({ length: 40 }, (_, i) => (i + 1) * 64 * 1024),
    );
    expect(kept.startsWith('<script type="speculationrules"></script><p>hi</p><script data-x=')).toBe(true);
    expect(kept.endsWith('">window.keep = 1;</script>')).toBe(true);
    // Whole in one chunk, the same rules are mapped.
    expect(rw(long).startsWith(`<script type="speculationrules">{"prefetch":[{"urls":["${O2}/a"]}]`)).toBe(true);
  });

  it('decodes the script with the page charset', () => {
    const html = '<meta charset="windows-1252"><script type="module">import "https://cdn.test/caf\xe9.js"; const \xe9 = 1;</script>';
    const bytes = Buffer.from(html, 'latin1');
    const r = new HtmlRewriter({ mapUrl, snippet: Buffer.alloc(0), relativeUrlsStay: true, charset: 'windows-1252' });
    const out = Buffer.concat([...r.write(bytes), ...r.end()]).toString('latin1');
    expect(out).toBe(`<meta charset="windows-1252"><script type="module">import "${O2}/caf\\u00e9.js"; const \xe9 = 1;</script>`);
  });
});

describe('rewriteImportMap', () => {
  it('maps URL keys, scope prefixes and addresses; keeps bare names and relative URLs', () => {
    const map = JSON.stringify({
      imports: { react: 'https://cdn.test/react.js', 'https://cdn.test/old/': 'https://cdn.test/new/', '/rel/': './rel/' },
      scopes: { '//cdn.test/scope/': { react: '//cdn.test/react2.js' } },
    });
    expect(JSON.parse(rewriteImportMap(map, mapUrl)!)).toEqual({
      imports: { react: `${O2}/react.js`, [`${O2}/old/`]: `${O2}/new/`, '/rel/': './rel/' },
      scopes: { [`${O2}/scope/`]: { react: `${O2}/react2.js` } },
    });
    expect(rewriteImportMap(JSON.stringify({ imports: { a: './a.js' } }), mapUrl)).toBeNull();
    expect(rewriteImportMap('{not json', mapUrl)).toBeNull();
    expect(rewriteImportMap('[1]', mapUrl)).toBeNull();
  });

  it('moves integrity entries into the marked addresses, for the gateway to check', () => {
    const map = JSON.stringify({
      imports: { a: 'https://cdn.test/a.js' },
      integrity: { 'https://cdn.test/a.js': 'sha384-AAA', 'https://cdn.test/b.js': 'sha384-BBB', bare: 'sha384-CCC' },
    });
    expect(JSON.parse(rewriteImportMap(map, mapUrl)!)).toEqual({
      imports: {
        a: `${O2}/a.js?__cobrowse_sri=sha384-AAA`,
        [`${O2}/a.js`]: `${O2}/a.js?__cobrowse_sri=sha384-AAA`,
        [`${O2}/b.js`]: `${O2}/b.js?__cobrowse_sri=sha384-BBB`,
      },
    });
  });

  it('writes ASCII JSON with no "<"', () => {
    const out = rewriteImportMap(JSON.stringify({ imports: { 'é</script>': 'https://cdn.test/é.js' } }), mapUrl)!;
    expect(out).toMatch(/^[\x20-\x7e]*$/);
    expect(out).not.toContain('<');
    expect(JSON.parse(out)).toEqual({ imports: { 'é</script>': `${O2}/é.js` } });
  });
});

describe('integrity of scripts the gateway may rewrite', () => {
  it('moves integrity into the URL of scripts, module preloads and script preloads (relative ones too)', () => {
    const html = [
      '<script type="module" src="https://cdn.test/m.js" integrity="sha384-M" crossorigin="anonymous"></script>',
      '<script src="/local.js" integrity="sha256-L"></script>',
      '<link rel="modulepreload" href="https://cdn.test/p.js" integrity="sha384-P">',
      '<link rel="preload" as="script" href="https://cdn.test/s.js" integrity="sha384-S" crossorigin>',
      '<link rel="preload" as="image" href="https://cdn.test/i.png" integrity="sha384-I">',
      '<script src="https://cdn.test/plain.js"></script>',
    ].join('\n');
    expect(rw(html)).toBe(
      [
        `${integrityMap(`${O2}/m.js`, `${O2}/m.js?__cobrowse_sri=sha384-M`)}<script type="module" src="${O2}/m.js?__cobrowse_sri=sha384-M" crossorigin="anonymous"></script>`,
        '<script src="/local.js?__cobrowse_sri=sha256-L"></script>',
        `${integrityMap(`${O2}/p.js`, `${O2}/p.js?__cobrowse_sri=sha384-P`)}<link rel="modulepreload" href="${O2}/p.js?__cobrowse_sri=sha384-P">`,
        `<link rel="preload" as="script" href="${O2}/s.js?__cobrowse_sri=sha384-S" crossorigin>`,
        `<link rel="preload" as="image" href="${O2}/i.png" integrity="sha384-I">`,
        `<script src="${O2}/plain.js"></script>`,
      ].join('\n'),
    );
  });
});

describe('inline scripts under a policy with hashes', () => {
  const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const MODULE = '\nimport a from "https://cdn.test/a.js";\r\nwindow.a = a;\n';
  const OTHER = 'import("https://cdn.test/other.js");';
  const MAP = '{"imports":{"lib":"https://cdn.test/lib.js"}}';
  const page = `<!doctype html><html><head><script type="module">${MODULE}</script><script>${OTHER}</script><script type="importmap" id="m">${MAP}</script></head><body></body></html>`;
  const policy = (value: string, reportOnly = false) => InlineScriptPolicy.fromHeaders([{ value, reportOnly }], 'GWNONCE');
  const rewritten = (inlineScripts: InlineScriptPolicy | null, cuts: number[] = []) =>
    chunked(page, cuts, { scripts: { inlineScripts, nonce: 'GWNONCE', baseUrl: null } });
  // The hash is over the text as the parser gives it: CR LF becomes LF.
  const allowed = `script-src 'self' ${sha256(MODULE.replace('\r\n', '\n'))} ${sha256(MAP)}`;

  it('gives a rewritten element the gateway’s nonce only when the site’s policy allows its original text', () => {
    const out = rewritten(policy(allowed));
    expect(out).toContain(`<script type="module" nonce="GWNONCE">\nimport a from "${O2}/a.js";`);
    expect(out).toContain(`<script type="importmap" id="m" nonce="GWNONCE">{"imports":{"lib":"${O2}/lib.js"}}</script>`);
    // Not allowed by the policy: rewritten, no nonce (blocked, as on the real site).
    expect(out).toContain(`<script>import("${O2}/other.js");</script>`);
    // Without a policy nothing gets a nonce.
    expect(rewritten(null)).not.toContain('nonce=');
  });

  it('holds the start tag with the text: the same bytes for any cut', () => {
    const whole = rewritten(policy(allowed));
    for (let cut = 1; cut < page.length; cut++) expect(rewritten(policy(allowed), [cut])).toBe(whole);
    const cuts = Array.from({ length: Math.floor(page.length / 3) }, (_, k) => 3 * (k + 1));
    expect(rewritten(policy(allowed), cuts)).toBe(whole);
  });

  it('follows every policy: an enforced one that blocks wins; report-only ones count when none enforced takes the nonce', () => {
    const blocked = InlineScriptPolicy.fromHeaders(
      [
        { value: allowed, reportOnly: false },
        { value: "script-src 'self'", reportOnly: false },
      ],
      'N',
    )!;
    expect(blocked.nonceFor(MODULE.replace('\r\n', '\n'), false)).toBeNull();
    expect(policy(allowed)!.nonceFor('other text', false)).toBeNull();
    expect(policy(allowed, true)!.nonceFor(MAP, false)).toBe('GWNONCE');
    expect(policy(allowed, true)!.nonceFor('other text', false)).toBeNull();
    // 'unsafe-inline' does not count next to a hash; it does alone (then no nonce is needed).
    expect(policy(`script-src 'unsafe-inline' ${sha256('x')}`)!.nonceFor('y', false)).toBeNull();
    expect(policy("default-src 'unsafe-inline'")).toBeNull();
    // script-src-elem rules script elements before script-src.
    expect(policy(`script-src-elem 'self'; script-src ${sha256(MAP)}`)).toBeNull();
    expect(policy(`script-src-elem ${sha256(MAP)}; script-src 'none'`)!.nonceFor(MAP, false)).toBe('GWNONCE');
    // An element with a nonce of its own keeps it.
    expect(policy(allowed)!.nonceFor(MAP, true)).toBeNull();
  });
});

describe('modules fetched with an integrity marker', () => {
  it('maps the plain URL to the marked one in an import map before the element (relative URLs as URL-like keys, the nonce of a page with a policy)', () => {
    const html = [
      '<link rel="modulepreload" href="x.js" integrity="sha384-X">',
      '<link rel="modulepreload" href="/abs/y.js?v=1#f" integrity="sha384-Y">',
      '<script type="module" src=" https://cdn.test/z.js " integrity="sha384-Z"></script>',
      '<link rel="modulepreload" href="?q" integrity="sha384-Q">',
    ].join('');
    const out = rewriteHtml(html, {
      mapUrl,
      relativeUrlsStay: true,
      scripts: { inlineScripts: null, nonce: 'N', baseUrl: 'http://o1--sess.localhost/dir/page' },
    });
    expect(out).toBe(
      [
        `${integrityMap('./x.js', './x.js?__cobrowse_sri=sha384-X', 'N')}<link rel="modulepreload" href="x.js?__cobrowse_sri=sha384-X">`,
        `${integrityMap('/abs/y.js?v=1#f', '/abs/y.js?v=1&__cobrowse_sri=sha384-Y#f', 'N')}<link rel="modulepreload" href="/abs/y.js?v=1&amp;__cobrowse_sri=sha384-Y#f">`,
        `${integrityMap(`${O2}/z.js`, `${O2}/z.js?__cobrowse_sri=sha384-Z`, 'N')}<script type="module" src="${O2}/z.js?__cobrowse_sri=sha384-Z"></script>`,
        // A query alone cannot be a key: no map.
        '<link rel="modulepreload" href="?q&amp;__cobrowse_sri=sha384-Q">',
      ].join(''),
    );
  });

  it('adds nothing for a classic script or a stylesheet, and leaves a URL the page’s own import map already maps to the page', () => {
    expect(rw('<script src="https://cdn.test/c.js" integrity="sha384-C"></script>')).toBe(`<script src="${O2}/c.js?__cobrowse_sri=sha384-C"></script>`);
    expect(rw('<link rel=stylesheet href="https://cdn.test/s.css" integrity="sha384-S">')).toBe(
      `<link rel=stylesheet href="${O2}/s.css?__cobrowse_sri=sha384-S">`,
    );
    const scripts = { inlineScripts: null, nonce: null, baseUrl: `${O2}/page` };
    const own = `<script type="importmap">{"imports":{"/lib/":"/lib2/"}}</script>`;
    const out = rewriteHtml(
      `${own}<link rel=modulepreload href="https://cdn.test/lib/a.js" integrity="sha384-A"><link rel=modulepreload href="/other/b.js" integrity="sha384-B">`,
      {
        mapUrl,
        relativeUrlsStay: true,
        scripts,
      },
    );
    expect(out).toBe(
      `${own}<link rel=modulepreload href="${O2}/lib/a.js?__cobrowse_sri=sha384-A">${integrityMap('/other/b.js', '/other/b.js?__cobrowse_sri=sha384-B')}<link rel=modulepreload href="/other/b.js?__cobrowse_sri=sha384-B">`,
    );
  });

  it('gives the same bytes for any cut', () => {
    const html = `<p>x</p><link rel="modulepreload" href="https://cdn.test/p.js" integrity="sha384-P"><script type="module" src="/m.js" integrity="sha384-M"></script>`;
    const whole = rw(html);
    for (let cut = 1; cut < html.length; cut++) expect(chunked(html, [cut])).toBe(whole);
  });
});
