// HeldScript (gateway/script-hold.ts): what of a streaming script goes on before it is complete,
// and that the bytes sent, for any way the script is cut into chunks, are those of the whole
// script rewritten at once.

import { describe, expect, it } from 'vitest';
import { rewriteScriptBytes, type ScriptRewrite, scriptByteEdits } from '../../gateway/script-body.js';
import { HeldScript } from '../../gateway/script-hold.js';

const rewrite = (module: boolean, top = false): ScriptRewrite => ({
  module,
  top,
  charset: undefined,
  mapSpecifier: (url) => (url.startsWith('https://cdn.test/') ? `http://o2--s.localhost/${url.slice(17)}` : null),
  url: 'https://page.test/app.js',
});

/** Feeds `chunks`; what went on before the end, and everything sent. */
function stream(chunks: string[], module: boolean, max = 1 << 20, top = false): { early: string; all: string; changed: boolean } {
  const hold = new HeldScript(module, max, top);
  let early = '';
  for (const c of chunks) early += Buffer.concat(hold.write(Buffer.from(c))).toString();
  const end = hold.end((whole) => scriptByteEdits(whole, rewrite(module, top)));
  return { early, all: early + Buffer.concat(end.pieces).toString(), changed: end.changed };
}

const whole = (text: string, module: boolean, top = false) => (rewriteScriptBytes(Buffer.from(text), rewrite(module, top)) ?? Buffer.from(text)).toString();

const CLASSIC = `${'var a = 1;\n'.repeat(50)}window.load = () => import("https://cdn.test/late.js");\n${'var b = 2;\n'.repeat(20)}`;
const MODULE = `// a module\nconst x = 1;\nexport { x };\nimport y from "https://cdn.test/y.js";\nconsole.log(y);\n`;

describe('HeldScript', () => {
  it('passes a classic script on up to its first `import`, and holds the rest until the end', () => {
    const at = CLASSIC.indexOf('import');
    const r = stream([CLASSIC.slice(0, 200), CLASSIC.slice(200, at + 20), CLASSIC.slice(at + 20)], false);
    expect(r.early).toBe(CLASSIC.slice(0, at));
    expect(r.changed).toBe(true);
    expect(r.all).toBe(whole(CLASSIC, false));
    expect(r.all).toContain('import("http://o2--s.localhost/late.js")');
  });

  it('finds a word split across chunks', () => {
    const at = CLASSIC.indexOf('import');
    const r = stream([CLASSIC.slice(0, at + 3), CLASSIC.slice(at + 3)], false);
    expect(r.early).toBe(CLASSIC.slice(0, at));
    expect(r.all).toContain('import("http://o2--s.localhost/late.js")');
  });

  it('holds a module from `export` on; a classic script is held only for `import`', () => {
    const mod = stream([MODULE.slice(0, 30), MODULE.slice(30)], true);
    expect(mod.early).toBe(MODULE.slice(0, MODULE.indexOf('export')));
    const classic = 'module.exports = {};\nexport_like();\n';
    const r = stream([classic.slice(0, 10), classic.slice(10)], false);
    expect(r.early).toBe(classic.slice(0, classic.length - 5));
    expect(r.all).toBe(classic);
    expect(r.changed).toBe(false);
  });

  it('sends the bytes of the whole rewrite for every cut into two and three chunks', () => {
    for (const [text, module] of [
      [CLASSIC, false],
      [MODULE, true],
    ] as const) {
      const expected = whole(text, module);
      for (let i = 0; i <= text.length; i += 7) {
        expect(stream([text.slice(0, i), text.slice(i)], module).all).toBe(expected);
        const j = Math.min(text.length, i + 13);
        expect(stream([text.slice(0, i), text.slice(i, j), text.slice(j)], module).all).toBe(expected);
      }
    }
  });

  it('passes everything on as it is past the limit, the held part first', () => {
    const at = CLASSIC.indexOf('import');
    const hold = new HeldScript(false, at + 100);
    const first = Buffer.concat(hold.write(Buffer.from(CLASSIC.slice(0, at + 50)))).toString();
    expect(first).toBe(CLASSIC.slice(0, at));
    const second = Buffer.concat(hold.write(Buffer.from(CLASSIC.slice(at + 50)))).toString();
    expect(hold.overLimit).toBe(true);
    expect(first + second).toBe(CLASSIC);
    expect(hold.end(() => null).pieces).toEqual([]);
  });

  it("a window's script is held from its first reference to the top window (window name included), and edited the same for every cut", () => {
    const text = `${'var a = 1;\n'.repeat(30)}if (top !== self) window.top.location.href = "https://real.test/x";\n${'var b = 2;\n'.repeat(10)}top.postMessage(1, "*")\n`;
    const expected = whole(text, false, true);
    expect(expected).toContain('__cobrowseTop(window.top).location.href');
    expect(expected).toContain('__cobrowseTop(top).postMessage');
    const at = text.indexOf('window.top');
    const r = stream([text.slice(0, at + 8), text.slice(at + 8)], false, 1 << 20, true);
    expect(r.early).toBe(text.slice(0, at));
    expect(r.all).toBe(expected);
    for (let i = 0; i <= text.length; i++) expect(stream([text.slice(0, i), text.slice(i)], false, 1 << 20, true).all).toBe(expected);
    // A worker's script (no top window) is not edited and holds back 5 bytes, not 64.
    expect(stream([text], false).all).toBe(text);
    expect(stream([text.slice(0, 100)], false).early).toBe(text.slice(0, 95));
  });

  it("a reference the search did not see (a comment after the window name) is left out, and the script's other edits still apply", () => {
    const text = `var a = window /* c */ .top.location.href;\n${'var b = 2;\n'.repeat(20)}import("https://cdn.test/mod.js");\n`;
    const r = stream([text.slice(0, 60), text.slice(60)], false, 1 << 20, true);
    expect(r.all).toContain('import("http://o2--s.localhost/mod.js")');
    expect(r.all.startsWith('var a = window /* c */ .top.location.href;')).toBe(true);
    expect(r.changed).toBe(true);
  });
});
