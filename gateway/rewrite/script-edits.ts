// All the edits of a script's text: its imports (js-imports.ts) and its references to the top
// window (js-top.ts), merged in order; used for external scripts (script-body.ts) and inline ones
// (html-script-text.ts).

import { topReferenceEdits } from '../../protocol/top-references.js';
import { type ScriptEdit, type ScriptImportOptions, scriptImportEdits } from './js-imports.js';

/**
 * The edits of a script's text (latin1-held bytes): its imports (none when the import lexer
 * rejects it) and, with `top`, its references to the top window (none when that lexer cannot read
 * it), in order.
 */
export function scriptTextEdits(text: string, imports: ScriptImportOptions | null, top: boolean): ScriptEdit[] {
  const found = imports === null ? [] : scriptImportEdits(text, imports);
  const topEdits = top ? topReferenceEdits(text) : [];
  const a = found === 'unparsed' ? [] : found;
  const b = topEdits === 'unparsed' ? [] : topEdits;
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  // An insertion of the import hook at the start of a reference goes before the reference's replacement.
  return [...a, ...b].sort((x, y) => x.s - y.s || x.e - x.s - (y.e - y.s));
}
