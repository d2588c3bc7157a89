// A check of the CSS selectors a config gives (mask, hostOnly) for the mistakes that make a browser
// refuse a selector, or read it differently once the rules are joined into one list: brackets,
// parentheses or quotes left open (CSS closes them at the end of the text, so joined they swallow
// the rules after them), a comment, a backslash at the end, a name after # or . that starts with a
// digit (it must be escaped: `#\31 st-card` for id="1st-card"), a combinator or a comma with
// nothing after it. The config (config/schema.ts) refuses such a selector at start; the host's page (inject/
// masking.ts, inject/main.ts) treats one as unreadable and fails closed, as it does for any rule
// the browser refuses (the browser is the judge: an unknown pseudo-class passes this check).

/** Why a browser would refuse `selector`, or read it otherwise in a list, or null when none of the checked mistakes is in it. */
export function selectorMistake(selector: string): string | null {
  const closers: string[] = [];
  let quote: string | null = null;
  let last = '';
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (ch === '\\') {
      if (i === selector.length - 1) return 'it ends with a backslash';
      i++;
      last = 'x';
      continue;
    }
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '/' && selector[i + 1] === '*') return 'a comment has no place in a rule';
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[') closers.push(']');
    else if (ch === '(') closers.push(')');
    else if (ch === ']' || ch === ')') {
      if (closers.pop() !== ch) return `"${ch}" closes nothing`;
    } else if (ch === ',' && (last === '' || last === ',')) return 'a comma has nothing before it';
    else if ((ch === '#' || ch === '.') && closers.at(-1) !== ']') {
      const name = selector.slice(i + 1);
      const digit = /^(-?)(\d)(.*)$/s.exec(name);
      if (digit) return `a name after "${ch}" cannot start with a digit: escape it (${ch}${digit[1]}\\3${digit[2]} ${digit[3]})`;
      if (!/^(-?[_a-zA-Z\u0080-\uffff\\]|--)/.test(name)) return `"${ch}" needs a name after it`;
    }
    if (ch.trim() !== '') last = ch;
  }
  if (quote) return 'a quoted value is not closed';
  if (closers.length > 0) return `"${closers.at(-1)}" is missing`;
  if (last === '>' || last === '+' || last === '~' || last === ',') return `"${last}" has nothing after it`;
  return null;
}
