// The conditions the gateway sends upstream (document-sandbox.ts upstreamConditions): without Fetch
// Metadata, a browsing context's request keeps only the entity tags the gateway marked for such
// loads, and any other load only the rest, so that a 304 never updates a stored response of the
// other kind. Pure functions of headers.

import { describe, expect, it } from 'vitest';
import { entityTags, upstreamConditions } from '../../gateway/document-sandbox.js';

const NAVIGATION = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const FETCH = { accept: '*/*' };

function conditions(request: Record<string, string>, upstream: Record<string, string>): Record<string, string> {
  const out = { ...upstream };
  upstreamConditions(request, out);
  return out;
}

describe('entityTags', () => {
  it('reads lists of strong and weak tags, commas inside a tag included', () => {
    expect(entityTags('"a"')).toEqual([{ weak: false, opaque: 'a' }]);
    expect(entityTags('W/"a", "b,c" ,W/""')).toEqual([
      { weak: true, opaque: 'a' },
      { weak: false, opaque: 'b,c' },
      { weak: true, opaque: '' },
    ]);
  });

  it('gives null for what is not a list of tags', () => {
    for (const value of ['*', '', ' , ', 'Wed, 21 Oct 2015 07:28:00 GMT', '"a', 'a"', '"a"b', 'w/"a"', 'W/ "a"']) {
      expect(entityTags(value), value).toBeNull();
    }
  });
});

describe('upstreamConditions', () => {
  it('a browsing context without Fetch Metadata: only marked tags, unmarked, and no date', () => {
    expect(conditions(NAVIGATION, { 'if-none-match': 'W/"cb-nav:v1"', 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' })).toEqual({
      'if-none-match': 'W/"v1"',
    });
    expect(conditions(NAVIGATION, { 'if-none-match': '"cb-nav:a", W/"b", "cb-nav:c"' })).toEqual({ 'if-none-match': '"a", "c"' });
    for (const value of ['W/"v1"', '*', 'junk', '"cb-nav:a']) expect(conditions(NAVIGATION, { 'if-none-match': value }), value).toEqual({});
  });

  it('any other load without Fetch Metadata: marked tags dropped, the rest and dates as they came', () => {
    const since = { 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' };
    expect(conditions(FETCH, { 'if-none-match': 'W/"v1"', ...since })).toEqual({ 'if-none-match': 'W/"v1"', ...since });
    expect(conditions(FETCH, { 'if-none-match': '"cb-nav:a", W/"b"' })).toEqual({ 'if-none-match': 'W/"b"' });
    expect(conditions(FETCH, { 'if-none-match': 'W/"cb-nav:a"', ...since })).toEqual(since);
    expect(conditions(FETCH, { 'if-none-match': '*' })).toEqual({ 'if-none-match': '*' });
  });

  it('If-Match and If-Range go with their tags unmarked; a date stays', () => {
    expect(conditions(FETCH, { 'if-match': '"cb-nav:a", "b"', 'if-range': 'W/"cb-nav:c"' })).toEqual({ 'if-match': '"a", "b"', 'if-range': 'W/"c"' });
    const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
    expect(conditions(NAVIGATION, { 'if-range': date, 'if-match': '*' })).toEqual({ 'if-range': date, 'if-match': '*' });
  });

  it('with Fetch Metadata: a worker script goes unconditional, everything else as it came', () => {
    const both = { 'if-none-match': 'W/"cb-nav:v1"', 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' };
    for (const dest of ['worker', 'sharedworker', 'serviceworker']) expect(conditions({ ...FETCH, 'sec-fetch-dest': dest }, both), dest).toEqual({});
    for (const dest of ['document', 'iframe', 'script', 'empty']) expect(conditions({ ...NAVIGATION, 'sec-fetch-dest': dest }, both), dest).toEqual(both);
  });
});
