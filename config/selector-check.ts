// A first check of the CSS selectors a config gives (mask, hostOnly), for the mistakes that make a
// browser refuse a selector: brackets, parentheses or quotes left open, a name after # or . that
// starts with a digit (it must be escaped: `#\31 st-card` for id="1st-card"), a combinator or a
// comma with nothing after it. The browser is the judge (the host's page fails closed on a rule it
// cannot read: inject/masking.ts, inject/remote-input.ts); this only says so at start instead.

/** Why a browser would refuse `selector`, or null when none of the checked mistakes is in it. */
export function selectorMistake(selector: string): string | null {
  const closers: string[] = [];
  let quote: string | null = null;
  let last = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\') {
      i++;
      last = 'x';
      continue;
    }
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[') closers.push(']');
    else if (ch === '(') closers.push(')');
    else if (ch === ']' || ch === ')') {
      if (closers.pop() !== ch) return `"${ch}" closes nothing`;
    } else if ((ch === '#' || ch === '.') && closers.at(-1) !== ']') {
      const name = selector.slice(i + 1);
      if (/^-?\d/.test(name))
        return `a name after "${ch}" cannot start with a digit: escape it (${ch}\\3${name.replace(/^-/, '')[0]} ${name.replace(/^-?\d/, '')})`;
      if (!/^(-?[_a-zA-Z\u0080-\uffff\\]|--)/.test(name)) return `"${ch}" needs a name after it`;
    }
    if (ch.trim() !== '') last = ch;
  }
  if (quote) return 'a quoted value is not closed';
  if (closers.length > 0) return `"${closers.at(-1)}" is missing`;
  if (last === '>' || last === '+' || last === '~' || last === ',') return `"${last}" has nothing after it`;
  if (/^\s*,|,\s*,/.test(selector)) return 'a comma has nothing before it';
  return null;
}
