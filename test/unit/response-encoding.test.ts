import { describe, expect, it } from 'vitest';
import { encodedBodyHeaders, reencodingFor } from '../../gateway/response-encoding.js';

describe('reencodingFor', () => {
  it.each<[string, string | undefined, string | null]>([
    ['gzip', 'gzip, deflate, br, zstd', 'br'],
    ['br', 'gzip', 'gzip'],
    ['deflate', 'deflate', 'deflate'],
    ['x-gzip', 'br;q=0, gzip', 'gzip'],
    ['gzip', 'zstd', null],
    ['gzip', undefined, null],
    ['', 'gzip, br', null],
    ['identity', 'gzip, br', null],
  ])('site coding %j, client accepting %j: %j', (site, accept, expected) => {
    expect(reencodingFor(site, accept)).toBe(expected);
  });
});

describe('encodedBodyHeaders', () => {
  it('sets the coding, drops a length and adds Accept-Encoding to Vary', () => {
    expect(
      encodedBodyHeaders(
        [
          ['content-type', 'text/html'],
          ['content-length', '10'],
          ['vary', 'Sec-Fetch-Dest'],
        ],
        'br',
      ),
    ).toEqual([
      ['content-type', 'text/html'],
      ['vary', 'Sec-Fetch-Dest, Accept-Encoding'],
      ['content-encoding', 'br'],
    ]);
  });

  it.each(['accept-encoding', 'Accept-Encoding, Origin', '*'])('keeps a Vary of %j as it is', (vary) => {
    expect(encodedBodyHeaders([['vary', vary]], 'gzip')).toEqual([
      ['vary', vary],
      ['content-encoding', 'gzip'],
    ]);
  });

  it('adds Vary when there is none', () => {
    expect(encodedBodyHeaders([], 'deflate')).toEqual([
      ['content-encoding', 'deflate'],
      ['vary', 'Accept-Encoding'],
    ]);
  });
});
