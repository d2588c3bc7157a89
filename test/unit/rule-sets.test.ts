import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, type ToBrowserUrl } from '../../gateway/header-policy.js';
import { mappedJson, mapSpeculationRulesHeader } from '../../gateway/json-body.js';
import { NO_RULES } from '../../protocol/speculation-rules.js';

const BASE = new URL('https://real.test/dir/page');
/** real.test goes to its proxied host; anything else to the "not allowed" page. */
const toBrowser: ToBrowserUrl = (u) =>
  u.host === 'real.test' ? `http://o1--s.localhost${u.pathname}${u.search}` : `http://gw.localhost/blocked?url=${encodeURIComponent(u.href)}`;

const dataRules = (rules: unknown, type = 'application/speculationrules+json') => `data:${type},${encodeURIComponent(JSON.stringify(rules))}`;

describe('mapSpeculationRulesHeader', () => {
  it.each<[string, string]>([
    ['"https://real.test/rules.json"', '"http://o1--s.localhost/rules.json"'],
    ['"/rules.json", "rel.json"', '"/rules.json", "rel.json"'],
    [
      '"//real.test/a.json" , "https://other.test/b.json"',
      `"http://o1--s.localhost/a.json" , "http://gw.localhost/blocked?url=${encodeURIComponent('https://other.test/b.json')}"`,
    ],
    // Not strings, not URLs: kept (the browser skips them too).
    ['token, "https://[bad"', 'token, "https://[bad"'],
    // Other schemes hold no rules through the gateway.
    ['"blob:https://real.test/1234", "javascript:x"', '"about:blank", "about:blank"'],
    // Escapes in structured field strings.
    ['"https://real.test/a\\\\b.json"', '"http://o1--s.localhost/a/b.json"'],
  ])('%s', (value, expected) => {
    expect(mapSpeculationRulesHeader(value, BASE, toBrowser)).toBe(expected);
  });

  it('is null (the header is not relayed) when a string does not end, in one pass however long', () => {
    expect(mapSpeculationRulesHeader('"https://real.test/a.json", "/b', BASE, toBrowser)).toBeNull();
    expect(mapSpeculationRulesHeader('"\\', BASE, toBrowser)).toBeNull();
    // Escaped quotes, unterminated: a backtracking expression took a minute over this.
    expect(mapSpeculationRulesHeader(`"${'\\"'.repeat(125_000)}`, BASE, toBrowser)).toBeNull();
    expect(mapSpeculationRulesHeader(`${'"/r", '.repeat(40_000)}"https://real.test/last"`, BASE, toBrowser)).toMatch(/"http:\/\/o1--s\.localhost\/last"$/);
  });

  it('maps URLs that name a host in a data: rule set whose URLs are relative to the document', () => {
    const rules = { prefetch: [{ source: 'list', relative_to: 'document', urls: ['//real.test/a', '/\\real.test/b', '/same', '//other.test/c'] }] };
    const out = JSON.parse(mapSpeculationRulesHeader(`"${dataRules(rules)}"`, BASE, toBrowser) ?? 'null') as string;
    expect(JSON.parse(decodeURIComponent(out.slice(out.indexOf(',') + 1))).prefetch[0].urls).toEqual([
      'http://o1--s.localhost/a',
      'http://o1--s.localhost/b',
      '/same',
      `http://gw.localhost/blocked?url=${encodeURIComponent('https://other.test/c')}`,
    ]);
  });

  it('maps the URLs inside a data: rule set, keeping its type and its relative URLs', () => {
    const value = `"${dataRules({ prefetch: [{ source: 'list', urls: ['https://real.test/x', '/rel'] }] })}"`;
    const out = mapSpeculationRulesHeader(value, BASE, toBrowser);
    const url = JSON.parse(out ?? 'null') as string;
    expect(url.startsWith('data:application/speculationrules+json,')).toBe(true);
    expect(JSON.parse(decodeURIComponent(url.slice(url.indexOf(',') + 1)))).toEqual({
      prefetch: [{ source: 'list', urls: ['http://o1--s.localhost/x', '/rel'] }],
    });
    // Nothing to map: kept as written; unreadable: no rules.
    const plain = `"${dataRules({ prefetch: [{ source: 'list', urls: ['/rel'] }] })}"`;
    expect(mapSpeculationRulesHeader(plain, BASE, toBrowser)).toBe(plain);
    expect(mapSpeculationRulesHeader('"data:application/speculationrules+json;base64,!!"', BASE, toBrowser)).toBe('"about:blank"');
  });

  it('is applied to the Speculation-Rules header the browser gets', () => {
    expect(downstreamResponseHeaders({ 'Speculation-Rules': '"https://real.test/r.json"' }, BASE, toBrowser).headers).toEqual([
      ['speculation-rules', '"http://o1--s.localhost/r.json"'],
    ]);
  });
});

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe('mappedJson: rule sets', () => {
  const map = (url: string) => (url.startsWith('https://real.test/') ? `http://o1--s.localhost/${url.slice(18)}` : null);

  it('maps the URLs of a rule set that came in pieces, as UTF-8', async () => {
    const json = JSON.stringify({ prefetch: [{ source: 'list', urls: ['https://real.test/é'] }], tag: 'ü' });
    const out = await mappedJson('rules', chunks(json.slice(0, 10), json.slice(10)), map);
    expect(out.whole).toBe(true);
    expect(JSON.parse(out.body.toString('utf8'))).toEqual({ prefetch: [{ source: 'list', urls: ['http://o1--s.localhost/é'] }], tag: 'ü' });
  });

  it('passes on the bytes it did not change', async () => {
    const json = '\ufeff{"prefetch": [{"urls": ["/a"]}]}';
    const out = await mappedJson('rules', chunks(json), map);
    expect(out.body.toString('utf8')).toBe(json);
  });

  it('gives no rules for a rule set larger than it holds (never its real URLs)', async () => {
    const big = JSON.stringify({ prefetch: [{ urls: ['https://real.test/a'] }], pad: 'x'.repeat(64) });
    expect(await mappedJson('rules', chunks(big), map, 32)).toEqual({ body: Buffer.from(NO_RULES), whole: false });
  });
});
