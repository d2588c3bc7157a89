// The import specifiers of a script, rewritten as edits: static `import ... from "x"`,
// `export ... from "x"`, `import "x"` and `import("x")` whose string names a URL of its own go to
// the mapper (another allowed origin's proxied host, or the "not allowed" page); an `import(expr)`
// whose argument is not a literal is wrapped in the page runtime's hook, which maps it when it
// runs. The lexer (es-module-lexer) tells code from comments, strings, template literals and
// regular expressions. Scripts are held as latin1 strings (one character per byte) like the
// HTML scanner's text: offsets are byte offsets, and the lexer reads only ASCII structure.

import { init, parse } from 'es-module-lexer/minimal';
import { absoluteSpecifier, IMPORT_HOOK } from '../../protocol/module-specifier.js';
import type { Edits } from './edits.js';
import type { TextCodec } from './text-codec.js';

/** JavaScript MIME type essences (MIME Sniffing standard): a script element with one of these as its type is a classic script, a response with one is JavaScript. */
export const JAVASCRIPT_ESSENCES: ReadonlySet<string> = new Set([
  'application/ecmascript',
  'application/javascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
]);

// The lexer is WebAssembly, compiled once before any script is rewritten (the rewriters are synchronous).
await init();

/** What a script's imports are rewritten with. */
export interface ScriptImportOptions {
  /** Maps a specifier that names a URL (absolute, or `//host/...`) to its replacement; null keeps it. */
  mapSpecifier(url: string): string | null;
  /** Decodes the script's bytes (its charset) for the specifiers. */
  codec: TextCodec;
  /** A JS expression for the script's base URL, handed to the hook: `import.meta.url`, `document.baseURI` or a string literal. */
  base: string;
}

const QUOTE_SQ = 0x27;
const QUOTE_DQ = 0x22;
const BACKTICK = 0x60;
const NON_ASCII = /[^\x00-\x7f]/;

/** Whether text[from, to) may hold an import: the word `import` (or `export`, in a module) appears in it. */
export function mayHaveImports(text: string, from: number, to: number, module: boolean): boolean {
  const i = text.indexOf('import', from);
  if (i !== -1 && i + 6 <= to) return true;
  if (!module) return false;
  const e = text.indexOf('export', from);
  return e !== -1 && e + 6 <= to;
}

/** The same check on bytes (decoded, ASCII-compatible charset). */
export function bytesMayHaveImports(bytes: Buffer, module: boolean): boolean {
  return bytes.indexOf('import', 0, 'latin1') !== -1 || (module && bytes.indexOf('export', 0, 'latin1') !== -1);
}

/** The text of a JS string or template literal holding `value`, in ASCII (so in any ASCII-compatible charset), for quote `quote`. */
export function jsLiteralText(value: string, quote: number): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === quote || c === 0x5c || (quote === BACKTICK && c === 0x24)) out += `\\${value[i]}`;
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += value[i];
  }
  return out;
}

/** The value of the literal text raw (between its quotes), or null when it does not decode. */
function literalValue(raw: string, quote: number, codec: TextCodec): string | null {
  const text = NON_ASCII.test(raw) ? codec.decode(raw) : raw;
  if (text.indexOf('\\') === -1) return quote === BACKTICK ? text.replace(/\r\n?/g, '\n') : text;
  const q = String.fromCharCode(quote);
  try {
    const [imports] = parse(`import(${q}${text}${q})`);
    return imports[0]?.n ?? null;
  } catch {
    return null;
  }
}

/** The replacement of a literal's text (between quotes), or null to keep it. */
function mappedLiteral(source: string, s: number, e: number, quote: number, options: ScriptImportOptions): string | null {
  const value = literalValue(source.slice(s, e), quote, options.codec);
  if (value === null) return null;
  const url = absoluteSpecifier(value);
  if (url === null) return null;
  let mapped: string | null;
  try {
    mapped = options.mapSpecifier(url);
  } catch {
    return null;
  }
  return mapped === null || mapped === value ? null : jsLiteralText(mapped, quote);
}

function isQuote(c: number): boolean {
  return c === QUOTE_DQ || c === QUOTE_SQ || c === BACKTICK;
}

/** One replacement in a script: its text [s, e) becomes `rep`. */
export interface ScriptEdit {
  s: number;
  e: number;
  rep: string;
}

/**
 * The replacements for the imports of `source` (latin1-held bytes), in order; 'unparsed' when the
 * lexer rejects the script (it is then left as it is).
 */
export function scriptImportEdits(source: string, options: ScriptImportOptions): ScriptEdit[] | 'unparsed' {
  let imports: ReturnType<typeof parse>[0];
  try {
    [imports] = parse(source);
  } catch {
    return 'unparsed';
  }
  const found: ScriptEdit[] = [];
  for (const imp of imports) {
    if (imp.d === -2) continue;
    if (imp.d === -1) {
      const rep = mappedLiteral(source, imp.s, imp.e, source.charCodeAt(imp.s - 1), options);
      if (rep !== null) found.push({ s: imp.s, e: imp.e, rep });
      continue;
    }
    const q = source.charCodeAt(imp.s);
    if (imp.n !== undefined && isQuote(q) && imp.e - imp.s >= 2 && source.charCodeAt(imp.e - 1) === q) {
      const rep = mappedLiteral(source, imp.s + 1, imp.e - 1, q, options);
      if (rep !== null) found.push({ s: imp.s + 1, e: imp.e - 1, rep });
      continue;
    }
    if (imp.e <= imp.s) continue;
    // import(expr): the hook maps what expr gives when it runs (a stand-in where the runtime is missing).
    found.push({ s: imp.s, e: imp.s, rep: `(globalThis.${IMPORT_HOOK}||(s=>s))(` });
    found.push({ s: imp.e, e: imp.e, rep: `,${options.base})` });
  }
  // Nested import() calls come out of order; an insertion goes before a replacement at the same place.
  found.sort((a, b) => a.s - b.s || a.e - a.s - (b.e - b.s));
  return found;
}

/** Adds `found` to `edits`, each moved by `offset` (edits must hold nothing past the first). */
export function addScriptEdits(found: readonly ScriptEdit[], offset: number, edits: Edits): void {
  for (const f of found) edits.add(offset + f.s, offset + f.e, f.rep);
}
