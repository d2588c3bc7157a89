import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../gateway/errors.js';

/** The escape as written out: each of the five characters by its entity, everything else kept. */
function reference(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (ch) => entities[ch]!);
}

describe('escapeHtml', () => {
  it('escapes the five characters of markup and attribute values', () => {
    expect(escapeHtml(`<a href="x?a=1&b='2'">`)).toBe('&lt;a href=&quot;x?a=1&amp;b=&#39;2&#39;&quot;&gt;');
    expect(escapeHtml('{"http://a.test":"http://o1--s.localhost:8080"}')).toBe('{&quot;http://a.test&quot;:&quot;http://o1--s.localhost:8080&quot;}');
  });

  it('returns text without any of them as it is, and escapes them at either end', () => {
    expect(escapeHtml('')).toBe('');
    expect(escapeHtml('plain text, 100% = ok; é ü 日本')).toBe('plain text, 100% = ok; é ü 日本');
    expect(escapeHtml('"')).toBe('&quot;');
    expect(escapeHtml('&x')).toBe('&amp;x');
    expect(escapeHtml('x>')).toBe('x&gt;');
    expect(escapeHtml('&&<<')).toBe('&amp;&amp;&lt;&lt;');
  });

  it('answers as the reference on generated strings, characters near the five and beyond ASCII included', () => {
    const alphabet = ['&', '<', '>', '"', "'", '=', '?', '%', ';', '#', 'a', ' ', '\u00a0', 'é', '\u2028', '日', '\ud83d\ude00', '\0'];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const length = Math.floor(rnd() * 24);
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(escapeHtml(text)).toBe(reference(text));
    }
  });
});
