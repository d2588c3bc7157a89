import { describe, expect, it } from 'vitest';
import { mapSpeculationRules, NO_RULES } from '../../protocol/speculation-rules.js';

/** Absolute URLs of real.test go to the proxied host; everything else is left (null). */
const map = (url: string) => (/^https?:\/\/real\.test\//.test(url) ? url.replace(/^https?:\/\/real\.test/, 'http://o1--s.gw.localhost') : null);

describe('mapSpeculationRules', () => {
  it('maps the URLs of every kind of list rule, and nothing else', () => {
    const rules = {
      prefetch: [{ source: 'list', urls: ['https://real.test/a', '/b', 'https://other.test/c'], requires: ['anonymous-client-ip-when-cross-origin'] }],
      prerender: [{ urls: ['http://real.test/d?x=<y>'] }, { where: { href_matches: 'https://real.test/*' } }, 'not a rule'],
      prefetch_with_subresources: [{ urls: ['https://real.test/e', 5, null] }],
      tag: 'é',
    };
    const out = mapSpeculationRules(JSON.stringify(rules), map);
    expect(JSON.parse(out ?? 'null')).toEqual({
      prefetch: [{ source: 'list', urls: ['http://o1--s.gw.localhost/a', '/b', 'https://other.test/c'], requires: ['anonymous-client-ip-when-cross-origin'] }],
      prerender: [{ urls: ['http://o1--s.gw.localhost/d?x=<y>'] }, { where: { href_matches: 'https://real.test/*' } }, 'not a rule'],
      prefetch_with_subresources: [{ urls: ['http://o1--s.gw.localhost/e', 5, null] }],
      tag: 'é',
    });
    // Safe in a <script> of a page in any charset.
    expect(out).not.toMatch(/[<\u0080-\uffff]/);
  });

  it('is null when nothing changes, or when the text is no rule set (the browser ignores it as well)', () => {
    for (const text of [
      '{"prefetch":[{"urls":["/a","https://other.test/b"]}]}',
      '{"prefetch":[{"where":{"href_matches":"/*"}}]}',
      '{"prefetch":{"urls":["https://real.test/a"]}}',
      '{"prefetch":[{"urls":"https://real.test/a"}]}',
      '["https://real.test/a"]',
      '',
      ' \n',
    ])
      expect(mapSpeculationRules(text, map), text).toBeNull();
  });

  it('reads what Blink reads (the \\v escape, comments), and gives no rules for text it cannot read', () => {
    const vtab = mapSpeculationRules('{"prefetch":[{"urls":["https://real.test/a"]}],"tag":"x\\vy"}', map);
    expect(JSON.parse(vtab ?? 'null')).toEqual({ prefetch: [{ urls: ['http://o1--s.gw.localhost/a'] }], tag: 'x\u000by' });
    const commented = mapSpeculationRules('/* c */ {"prefetch":[{"urls":["https://real.test/a"]}]} // end', map);
    expect(JSON.parse(commented ?? 'null')).toEqual({ prefetch: [{ urls: ['http://o1--s.gw.localhost/a'] }] });
    for (const text of ['{"prefetch":[{"urls":["https://real.test/a"]}]', '{"prefetch":[{"urls":["https://real.test/a"]}]} /* open', "{'prefetch':1}"])
      expect(mapSpeculationRules(text, map), text).toBe(NO_RULES);
  });

  it('gives no rules (never the real URLs) when a URL cannot be mapped or the result cannot be written', () => {
    const throwing = () => {
      throw new Error('no');
    };
    expect(mapSpeculationRules('{"prefetch":[{"urls":["https://real.test/a"]}]}', throwing)).toBe(NO_RULES);
    const deep = `{"prefetch":[{"urls":["https://real.test/a"]}],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(mapSpeculationRules(deep, map)).toBe(NO_RULES);
  });
});
