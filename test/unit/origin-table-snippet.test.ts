// The session's proxied-origin table as the injected tag carries it: the same frozen object (and
// serialized text) from page to page, a new one as soon as the session labels another origin.

import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../gateway/context.js';
import { injectionTag } from '../../gateway/html-inject.js';
import { proxiedOriginTable } from '../../gateway/proxy.js';
import type { Session } from '../../gateway/session.js';
import { OriginTable, UrlMapper } from '../../gateway/url-mapper.js';

const SID = 'abcdefghijklmnopqrstuvwxyz';

/** proxiedOriginTable reads only these two fields of each. */
function parts(): { gw: GatewayContext; session: Session; origins: OriginTable } {
  const origins = new OriginTable();
  const gw = { mapper: new UrlMapper('http://cobrowse.localhost:8080') } as unknown as GatewayContext;
  const session = { id: SID, origins } as unknown as Session;
  return { gw, session, origins };
}

function dataOrigins(tag: string): Record<string, string> {
  const m = /data-origins="([^"]*)"/.exec(tag);
  if (!m) throw new Error(`no data-origins in ${tag}`);
  return JSON.parse(m[1]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as Record<string, string>;
}

describe('proxiedOriginTable and the injected tag', () => {
  it('gives the same frozen table until the session labels another origin, and the tag follows each change', () => {
    const { gw, session, origins } = parts();
    origins.labelFor('https://shop.test');
    const first = proxiedOriginTable(gw, session);
    expect(Object.isFrozen(first)).toBe(true);
    expect(proxiedOriginTable(gw, session)).toBe(first);
    expect(dataOrigins(injectionTag({ origins: first }))).toEqual({ 'https://shop.test': `http://o1--${SID}.cobrowse.localhost:8080` });
    expect(injectionTag({ origins: first })).toBe(injectionTag({ origins: proxiedOriginTable(gw, session) }));

    origins.labelFor('https://cdn.test');
    const second = proxiedOriginTable(gw, session);
    expect(second).not.toBe(first);
    expect(dataOrigins(injectionTag({ origins: second }))).toEqual({
      'https://shop.test': `http://o1--${SID}.cobrowse.localhost:8080`,
      'https://cdn.test': `http://o2--${SID}.cobrowse.localhost:8080`,
    });
    // An origin met again changes nothing.
    origins.labelFor('https://shop.test');
    expect(proxiedOriginTable(gw, session)).toBe(second);
  });

  it('keeps each session to its own table', () => {
    const a = parts();
    const b = parts();
    a.origins.labelFor('https://a.test');
    b.origins.labelFor('https://b.test');
    expect(Object.keys(proxiedOriginTable(a.gw, a.session))).toEqual(['https://a.test']);
    expect(Object.keys(proxiedOriginTable(b.gw, b.session))).toEqual(['https://b.test']);
  });

  it('serializes values that are not frozen each time (a table changed in place shows its change)', () => {
    const table: Record<string, string> = { 'https://a.test': 'http://o1--x.localhost' };
    expect(dataOrigins(injectionTag({ origins: table }))).toEqual(table);
    table['https://b.test'] = 'http://o2--x.localhost';
    expect(dataOrigins(injectionTag({ origins: table }))).toEqual(table);
  });
});
