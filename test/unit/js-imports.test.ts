import { describe, expect, it } from 'vitest';
import { Edits } from '../../gateway/rewrite/edits.js';
import { jsLiteralText, type ScriptImportOptions, scriptImportEdits } from '../../gateway/rewrite/js-imports.js';
import { UTF8_CODEC } from '../../gateway/rewrite/text-codec.js';
import { absoluteSpecifier } from '../../protocol/module-specifier.js';

const O2 = 'http://o2--sess.localhost';
const BLOCKED = (url: string) => `http://localhost/blocked?url=${encodeURIComponent(url)}`;
const HOOK = '(globalThis.__cobrowseImport||(s=>s))(';

/** A mapper like the proxy's: cdn.test is allowed, everything else absolute is blocked. */
function mapSpecifier(url: string): string | null {
  const real = new URL(url, 'https://page.test/');
  if (real.protocol !== 'http:' && real.protocol !== 'https:') return null;
  if (real.host === 'cdn.test') return `${O2}${real.pathname}${real.search}`;
  return BLOCKED(real.href);
}

const options: ScriptImportOptions = { mapSpecifier, codec: UTF8_CODEC, base: 'import.meta.url' };

/** Rewrites UTF-8 source text as the gateway does (bytes held as latin1). */
function rw(source: string, opts: ScriptImportOptions = options): string {
  const text = Buffer.from(source, 'utf8').toString('latin1');
  const found = scriptImportEdits(text, opts);
  if (found === 'unparsed') return 'UNPARSED';
  const edits = new Edits();
  for (const f of found) edits.add(f.s, f.e, f.rep);
  return Buffer.from(edits.applyToString(text, 0, text.length), 'latin1').toString('utf8');
}

describe('absoluteSpecifier (HTML "resolve a module specifier")', () => {
  it.each([
    ['https://cdn.test/a.js', 'https://cdn.test/a.js'],
    [' https://cdn.test/a.js', ' https://cdn.test/a.js'],
    ['http:cdn.test/a.js', 'http://cdn.test/a.js'],
    ['HTTPS:/cdn.test/a.js', 'https://cdn.test/a.js'],
    ['//cdn.test/a.js', '//cdn.test/a.js'],
    ['/\\cdn.test/a.js', '//cdn.test/a.js'],
    ['/\t/cdn.test/a.js', '//cdn.test/a.js'],
    ['data:text/javascript,1', 'data:text/javascript,1'],
    ['/a.js', null],
    ['./a.js', null],
    ['../a.js', null],
    ['.//cdn.test/a.js', null],
    ['lodash', null],
    ['@scope/pkg', null],
    [' //cdn.test/a.js', null],
  ])('%j -> %j', (specifier, expected) => {
    expect(absoluteSpecifier(specifier)).toBe(expected);
  });
});

describe('scriptImportEdits', () => {
  it('maps static imports, re-exports and side-effect imports to the proxied host or the blocked page', () => {
    const src = [
      `import a from "https://cdn.test/a.js";`,
      `import { b } from 'https://cdn.test/b.js?v=1';`,
      `import * as c from "//cdn.test/c.js";`,
      `import "https://cdn.test/d.js";`,
      `export * from "https://cdn.test/e.js";`,
      `export { f } from 'https://evil.test/f.js';`,
      `import g from "./g.js"; import h from "/h.js"; import i from "lodash";`,
    ].join('\n');
    expect(rw(src)).toBe(
      [
        `import a from "${O2}/a.js";`,
        `import { b } from '${O2}/b.js?v=1';`,
        `import * as c from "${O2}/c.js";`,
        `import "${O2}/d.js";`,
        `export * from "${O2}/e.js";`,
        `export { f } from '${BLOCKED('https://evil.test/f.js')}';`,
        `import g from "./g.js"; import h from "/h.js"; import i from "lodash";`,
      ].join('\n'),
    );
  });

  it('maps literal dynamic imports (also with comments, options and line breaks) and wraps computed ones in the hook', () => {
    expect(rw(`import("https://cdn.test/a.js")`)).toBe(`import("${O2}/a.js")`);
    expect(rw(`import(/* webpackChunkName: "x" */ 'https://cdn.test/a.js', { with: { type: 'json' } })`)).toBe(
      `import(/* webpackChunkName: "x" */ '${O2}/a.js', { with: { type: 'json' } })`,
    );
    expect(rw('import\n(\n  `https://cdn.test/t.js`\n)')).toBe(`import\n(\n  \`${O2}/t.js\`\n)`);
    expect(rw(`const m = await import(base + "/x.js");`)).toBe(`const m = await import(${HOOK}base + "/x.js",import.meta.url));`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    expect(rw('import(`https://cdn.test/${name}.js`)')).toBe(`import(${HOOK}\`https://cdn.test/\${name}.js\`,import.meta.url))`);
    expect(rw(`import(url, { with: { type: "json" } })`)).toBe(`import(${HOOK}url,import.meta.url), { with: { type: "json" } })`);
    expect(rw(`import("./local.js"); import("lodash")`)).toBe(`import("./local.js"); import("lodash")`);
  });

  it('wraps nested computed imports inside out, in order', () => {
    expect(rw(`import(cond ? import("https://cdn.test/a.js") : b)`)).toBe(`import(${HOOK}cond ? import("${O2}/a.js") : b,import.meta.url))`);
    expect(rw(`import(import(x))`)).toBe(`import(${HOOK}import(${HOOK}x,import.meta.url)),import.meta.url))`);
  });

  it('uses the base expression it is given (classic scripts have no import.meta)', () => {
    expect(rw(`import(u)`, { ...options, base: 'document.baseURI' })).toBe(`import(${HOOK}u,document.baseURI))`);
    expect(rw(`import(u)`, { ...options, base: '"https://cdn.test/lib.js"' })).toBe(`import(${HOOK}u,"https://cdn.test/lib.js"))`);
  });

  it('leaves specifiers in comments, strings, template literals and regular expressions alone, and import.meta and .import properties', () => {
    const src = [
      `// import("https://cdn.test/a.js")`,
      `/* import x from "https://cdn.test/b.js" */`,
      `const s = "import('https://cdn.test/c.js')";`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
      'const t = `import("https://cdn.test/d.js") ${1 + 1}`;',
      `const r = /import\\("https:\\/\\/cdn.test\\/e.js"\\)/g;`,
      `const q = a / 2 / import.meta.url.length;`,
      `obj.import("https://cdn.test/f.js"); obj.import(x); const o = { import: 1, export: 2 };`,
      `new URL("https://cdn.test/g.js", import.meta.url);`,
    ].join('\n');
    expect(rw(src)).toBe(src);
  });

  it('decodes escapes in specifiers and writes the mapped one as an ASCII literal for its quote', () => {
    expect(rw(`import "https:\\/\\/cdn.test/a.js";`)).toBe(`import "${O2}/a.js";`);
    expect(rw(`import('\\x68ttps://cdn.test/b.js')`)).toBe(`import('${O2}/b.js')`);
    // The mapper here normalizes (percent-encodes) the path; what it hands back is written in ASCII.
    expect(rw(`import "https://cdn.test/\\u00e9.js";`)).toBe(`import "${O2}/%C3%A9.js";`);
    expect(rw(`import "https://cdn.test/é.js";`, { ...options, mapSpecifier: (url) => url.replace('https://cdn.test', O2) })).toBe(
      `import "${O2}/\\u00e9.js";`,
    );
    expect(jsLiteralText(`a'b"c\`$\\`, 0x27)).toBe(`a\\'b"c\`$\\\\`);
    expect(jsLiteralText(`a'b"c\`\${x}`, 0x60)).toBe(`a'b"c\\\`\\\${x}`);
  });

  it('reads non-ASCII UTF-8 text around imports by bytes', () => {
    const src = `const café = "naïve ☃"; /* ünïcode */ import("https://cdn.test/a.js"); const 変数 = 1 / 2; import(変数)`;
    expect(rw(src)).toBe(`const café = "naïve ☃"; /* ünïcode */ import("${O2}/a.js"); const 変数 = 1 / 2; import(${HOOK}変数,import.meta.url))`);
  });

  it('leaves a script it cannot lex as it is', () => {
    expect(rw(`import("https://cdn.test/a.js"); const s = "unterminated`)).toBe('UNPARSED');
  });

  it('rewrites a large module in one pass', () => {
    const line = `export const v%d = "import(\\"https://cdn.test/no.js\\")"; // import "https://cdn.test/no.js"\n`;
    const body = Array.from({ length: 45_000 }, (_, i) => line.replace('%d', String(i))).join('');
    const src = `import a from "https://cdn.test/first.js";\n${body}import("https://cdn.test/last.js");\n`;
    expect(src.length).toBeGreaterThan(4_000_000);
    const started = performance.now();
    const out = rw(src);
    const ms = performance.now() - started;
    expect(out).toBe(`import a from "${O2}/first.js";\n${body}import("${O2}/last.js");\n`);
    expect(ms).toBeLessThan(2000);
  });
});
