import { describe, expect, it } from 'vitest';
import { find } from '../../gateway/rewrite/html-raw-text.js';

describe('find', () => {
  it('finds a needle wholly inside [from, end), for every window of a text', () => {
    const s = '<!-- a -- b --> x </script><p>--></p></SCRIPT>';
    for (const needle of ['--', '-->', '</', ']]>', 'x']) {
      for (let from = 0; from <= s.length; from++) {
        for (let end = from; end <= s.length; end++) {
          const k = s.indexOf(needle, from);
          const want = k !== -1 && k + needle.length <= end ? k : -1;
          expect(find(s, needle, from, end), `${needle} ${from}-${end}`).toBe(want);
        }
      }
    }
  });
});
