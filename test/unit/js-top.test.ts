import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext, Script } from 'node:vm';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { Edits } from '../../gateway/rewrite/edits.js';
import { bytesMayReferenceTop } from '../../gateway/rewrite/js-top.js';
import { firstTopCandidate, topReferenceEdits } from '../../protocol/top-references.js';
import { TOP_HOOK } from '../../protocol/top-window.js';

/** Rewrites UTF-8 source text as the gateway does (bytes held as latin1). */
function rw(source: string): string {
  const text = Buffer.from(source, 'utf8').toString('latin1');
  const found = topReferenceEdits(text);
  if (found === 'unparsed') return 'UNPARSED';
  const edits = new Edits();
  for (const f of found) edits.add(f.s, f.e, f.rep);
  return Buffer.from(edits.applyToString(text, 0, text.length), 'latin1').toString('utf8');
}

const H = TOP_HOOK;

describe('topReferenceEdits: what is wrapped', () => {
  it.each([
    ['top.location = u;', `${H}(top).location = u;`],
    ['top.location.href = u;', `${H}(top).location.href = u;`],
    ['top . location . replace(u)', `${H}(top) . location . replace(u)`],
    ['top\n.location.assign(u)', `${H}(top)\n.location.assign(u)`],
    ['top?.postMessage(m, o)', `${H}(top)?.postMessage(m, o)`],
    ['top["location"] = u', `${H}(top)["location"] = u`],
    ["top[ 'postMessage' ](m, o)", `${H}(top)[ 'postMessage' ](m, o)`],
    ['top?.[`location`].href = u', `${H}(top)?.[\`location\`].href = u`],
    ['window.top.location.replace(u)', `${H}(window.top).location.replace(u)`],
    ['top.window.location = u; top?.self.postMessage(1, o)', `${H}(top).window.location = u; ${H}(top)?.self.postMessage(1, o)`],
    ['self.top.self.window.location.href = u', `${H}(self.top).self.window.location.href = u`],
    ['self . top?.location', `${H}(self . top)?.location`],
    ['parent.top.postMessage(m, o)', `${H}(parent.top).postMessage(m, o)`],
    ['globalThis?.top.location = u', `${H}(globalThis?.top).location = u`],
    ['if (top !== self) top.location = self.location;', `if (top !== self) ${H}(top).location = self.location;`],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    ['x = `${top.location.href}`', `x = \`\${${H}(top).location.href}\``],
    ['f(() => top.location.reload())', `f(() => ${H}(top).location.reload())`],
    ['x = a / top.location / 2', `x = a / ${H}(top).location / 2`],
    ['x = {} / top.location', `x = {} / ${H}(top).location`],
    ['delete top.location.x; typeof top.postMessage', `delete ${H}(top).location.x; typeof ${H}(top).postMessage`],
    ['[top.location] = [u]', `[${H}(top).location] = [u]`],
    ['a = "}"; top.location = u', `a = "}"; ${H}(top).location = u`],
    ['/* a */ top.location = u // b', `/* a */ ${H}(top).location = u // b`],
    ['x = /re/g; top.location = u', `x = /re/g; ${H}(top).location = u`],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    ['x = `a${ "}" }b`; top.location = u', `x = \`a\${ "}" }b\`; ${H}(top).location = u`],
  ])('%s', (source, expected) => {
    expect(rw(source)).toBe(expected);
  });
});

describe('topReferenceEdits: what is left', () => {
  it.each([
    ['"top.location = u"'],
    ["'top.postMessage(m)'"],
    ['`top.location`'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    ['`a${b}top.location`'],
    ['// top.location = u'],
    ['/* top.location = u */'],
    ['x = /top.location/.test(s)'],
    ['if (x) /top.location/.test(s)'],
    ['async function f() { for await (const x of y) /top.location/.test(x); }'],
    ['{}\n/top.location/g.exec(s)'],
    ['<!-- top.location = u\n'],
    ['x\n--> top.location = u\n'],
    ['stop.location = u; desktop.postMessage(m)'],
    ['top.locations = 1; top.locationX = 2; top.postMessages'],
    ['top.windows.location = u; top.selfie.location = u; top.window = 1'],
    ['$top.location = u; top2.location = u; _top.location = u'],
    ['el.top.location = u; a.window.top.location = u'],
    ['rect.top = 5; style.top = "1px"; var top = 3; top += 1'],
    ['obj = { top: 1, location: 2 }'],
    ['#!/usr/bin/env node top.location\nx'],
  ])('%s', (source) => {
    expect(rw(source)).toBe(source);
  });

  it('leaves a script it cannot read unchanged', () => {
    expect(topReferenceEdits('x = "unterminated\ntop.location = u')).toBe('unparsed');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    expect(topReferenceEdits('x = `unterminated ${top.location}')).toBe('unparsed');
    expect(topReferenceEdits('/* open top.location')).toBe('unparsed');
  });
});

describe('topReferenceEdits: the script still means the same', () => {
  /** Runs `source` rewritten with a hook that wraps the context's top; returns what reached the wrapper. */
  function run(source: string, localTop = false): string[] {
    const seen: string[] = [];
    const realTop = {
      location: {
        href: 'http://real/',
        replace: (u: string) => seen.push(`raw replace ${u}`),
      },
      postMessage: (m: unknown, o: string) => seen.push(`raw post ${String(m)} ${o}`),
    };
    const wrapped = {
      set location(u: unknown) {
        seen.push(`location = ${u}`);
      },
      get location() {
        return {
          set href(u: string) {
            seen.push(`href = ${u}`);
          },
          replace: (u: string) => seen.push(`replace ${u}`),
        };
      },
      postMessage: (m: unknown, o: string) => seen.push(`post ${String(m)} ${o}`),
    };
    const context = createContext({ seen, [TOP_HOOK]: (v: unknown) => (v === realTop ? wrapped : v) });
    runInContext(`var window = this, self = this, top = ${localTop ? '{ location: {} }' : 'realTop'};`, Object.assign(context, { realTop }));
    const out = rw(source);
    new Script(out);
    runInContext(out, context);
    return seen;
  }

  it('assignments, calls and posts reach the wrapper; a local `top` is itself', () => {
    expect(run('top.location = "u1"; top.location.href = "u2"; top.location.replace("u3"); top.postMessage(1, "o")')).toEqual([
      'location = u1',
      'href = u2',
      'replace u3',
      'post 1 o',
    ]);
    expect(run('window.top.location = "u"; self.top["postMessage"](2, "o")')).toEqual(['location = u', 'post 2 o']);
    expect(run('(function () { var top = { location: {} }; top.location.href = "x"; seen.push(top.location.href); })()')).toEqual(['x']);
    expect(run('top.location.href = "y"; seen.push(top.location.href)', true)).toEqual(['y']);
  });

  it('a line without a semicolon before the reference still ends the statement before it', () => {
    expect(run('var a = 1\ntop.location = "u"\nseen.push(String(a))')).toEqual(['location = u', '1']);
    expect(run('var b = function () { return 1 }\ntop.postMessage(3, "o")')).toEqual(['post 3 o']);
  });
});

describe('candidates', () => {
  it('firstTopCandidate finds the start of the wrapped reference, window name included', () => {
    const s = 'var a = 1; window.top.location = u';
    expect(firstTopCandidate(s, 0, s.length)).toBe(s.indexOf('window'));
    expect(firstTopCandidate(s, 0, s.indexOf('window') + 5)).toBe(-1);
    expect(firstTopCandidate('stop.location; rect.top = 1', 0, 27)).toBe(-1);
    expect(bytesMayReferenceTop(Buffer.from('x = top ?. postMessage'))).toBe(true);
    expect(bytesMayReferenceTop(Buffer.from("top?.['location'].replace(u)"))).toBe(true);
    expect(firstTopCandidate('a; top?.[ "postMessage" ](1)', 0, 28)).toBe(3);
    expect(bytesMayReferenceTop(Buffer.from('x = top.document'))).toBe(false);
  });

  it('firstTopCandidate looks only inside [from, to), for every window of a text', () => {
    const s = 'a=top.x; stop.y; b = window.top.location; top [0]; c.top; parent.top?.z';
    // The reference: the same search over the text cut at `to` (searched to its end, unsliced).
    for (let from = 0; from <= s.length; from++) {
      for (let to = from; to <= s.length; to++) expect(firstTopCandidate(s, from, to), `${from}-${to}`).toBe(firstTopCandidate(s.slice(0, to), from, to));
    }
  });
});

/** JavaScript files of node_modules between 2 KB and 2 MB (real code of every style: minified, transpiled, hand-written). */
function realScripts(limit: number): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (out.length >= limit || depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (out.length >= limit) return;
      const path = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path, depth + 1);
      else if (/\.(c|m)?js$/.test(name) && st.size > 2048 && st.size < 2 << 20) out.push(path);
    }
  };
  walk(join(process.cwd(), 'node_modules'), 0);
  return out;
}

describe('real scripts', () => {
  it('the lexer reads real files to their end: a reference planted at the end of each is the one wrapped, and the result parses', () => {
    const files = realScripts(Number(process.env.JS_TOP_FILES ?? 400));
    expect(files.length).toBeGreaterThan(200);
    let read = 0;
    const misread: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, 'latin1');
      let parses = true;
      try {
        transformSync(source, { loader: 'js', logLevel: 'silent' });
      } catch {
        parses = false;
      }
      if (!parses) continue;
      read++;
      const planted = `${source}\n;top.location.href = "u";\n`;
      const found = topReferenceEdits(planted);
      const want = planted.lastIndexOf('top.location');
      if (found === 'unparsed' || !found.some((f) => f.s === want)) {
        misread.push(file);
        continue;
      }
      const out = new Edits();
      for (const f of found) out.add(f.s, f.e, f.rep);
      const rewritten = out.applyToString(planted, 0, planted.length);
      expect(() => transformSync(rewritten, { loader: 'js', logLevel: 'silent' }), file).not.toThrow();
    }
    expect(read).toBeGreaterThan(200);
    // The `/` heuristics of the lexer (es-module-lexer's) can misread a few files; none of these.
    expect(misread).toEqual([]);
    if (process.env.JS_TOP_FILES) console.log(`read ${read} of ${files.length}`);
  });
});
