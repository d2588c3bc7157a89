import { describe, expect, it } from 'vitest';
import { mappedJson } from '../../gateway/json-body.js';
import { mapManifest, NO_MANIFEST } from '../../gateway/web-manifest.js';

/** Absolute URLs of real.test go to the proxied host; everything else is left (null). */
const map = (url: string) => (/^https:\/\/real\.test\//.test(url) ? url.replace('https://real.test', 'http://o1--s.gw.localhost') : null);

describe('mapManifest', () => {
  it('maps every URL member Chromium reads, and nothing else', () => {
    const manifest = {
      name: 'https://real.test/ stays',
      start_url: 'https://real.test/app/?utm=1',
      scope: 'https://real.test/app/',
      id: 'https://real.test/app/id',
      icons: [{ src: 'https://real.test/i.png', sizes: '192x192' }, { src: '/rel.png' }, 'not an icon'],
      screenshots: [{ src: 'https://real.test/s.png' }],
      shortcuts: [{ name: 's', url: 'https://real.test/app/s', icons: [{ src: 'https://real.test/si.png' }] }],
      share_target: { action: 'https://real.test/app/share', method: 'POST' },
      protocol_handlers: [{ protocol: 'web+shop', url: 'https://real.test/app/p?u=%s' }],
      file_handlers: [{ action: 'https://real.test/app/open', accept: {}, icons: [{ src: 'https://real.test/f.png' }] }],
      note_taking: { new_note_url: 'https://real.test/app/note' },
      related_applications: [{ platform: 'webapp', url: 'https://real.test/manifest.json' }],
    };
    const out = JSON.parse(mapManifest(JSON.stringify(manifest), map) ?? 'null');
    const P = 'http://o1--s.gw.localhost';
    expect(out).toEqual({
      ...manifest,
      start_url: `${P}/app/?utm=1`,
      scope: `${P}/app/`,
      id: `${P}/app/id`,
      icons: [{ src: `${P}/i.png`, sizes: '192x192' }, { src: '/rel.png' }, 'not an icon'],
      screenshots: [{ src: `${P}/s.png` }],
      shortcuts: [{ name: 's', url: `${P}/app/s`, icons: [{ src: `${P}/si.png` }] }],
      share_target: { action: `${P}/app/share`, method: 'POST' },
      protocol_handlers: [{ protocol: 'web+shop', url: `${P}/app/p?u=%s` }],
      file_handlers: [{ action: `${P}/app/open`, accept: {}, icons: [{ src: `${P}/f.png` }] }],
      note_taking: { new_note_url: `${P}/app/note` },
    });
  });

  it('is null when nothing changes or the text is no manifest', () => {
    for (const text of ['{"start_url":"/app/","icons":[{"src":"i.png"}]}', '{"start_url":5,"icons":{"src":"https://real.test/i"}}', '[]', 'null', '', '\n'])
      expect(mapManifest(text, map), text).toBeNull();
  });

  it('reads comments as Blink does, and gives no manifest for one it cannot read or write back', () => {
    const commented = mapManifest('// app\n{ /* start */ "start_url": "https://real.test/a//b" }', map);
    expect(JSON.parse(commented ?? 'null')).toEqual({ start_url: 'http://o1--s.gw.localhost/a//b' });
    expect(mapManifest('{"start_url":"https://real.test/a"', map)).toBe(NO_MANIFEST);
    const deep = `{"start_url":"https://real.test/a","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect(mapManifest(deep, map)).toBe(NO_MANIFEST);
    // Images of images are not followed (the browser reads one level).
    const nested = JSON.stringify({ icons: [{ src: 'https://real.test/i', icons: [{ src: 'https://real.test/j' }] }] });
    expect(JSON.parse(mapManifest(nested, map) ?? 'null').icons[0].icons[0].src).toBe('https://real.test/j');
  });

  it('comes through mappedJson: pieces, UTF-8, and a manifest too large to hold gives an empty one', async () => {
    async function* pieces(...parts: string[]): AsyncGenerator<Buffer> {
      for (const part of parts) yield Buffer.from(part);
    }
    const json = JSON.stringify({ name: 'Café', start_url: 'https://real.test/é' });
    const out = await mappedJson('manifest', pieces(json.slice(0, 7), json.slice(7)), map);
    expect(JSON.parse(out.body.toString('utf8'))).toEqual({ name: 'Café', start_url: 'http://o1--s.gw.localhost/é' });
    expect(await mappedJson('manifest', pieces(json), map, 10)).toEqual({ body: Buffer.from('{}'), whole: false });
  });
});
