import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  INTEGRITY_PARAM,
  matchesIntegrity,
  parseIntegrity,
  readChecked,
  takeIntegrityMarker,
  withIntegrityMarker,
} from '../../gateway/subresource-integrity.js';

const body = Buffer.from('body{color:red}');
const digest = (alg: string) => createHash(alg).update(body).digest('base64');

describe('integrity marker in stylesheet URLs', () => {
  it.each([
    ['/s.css', 'sha384-x', `/s.css?${INTEGRITY_PARAM}=sha384-x`],
    ['/s.css?v=2', 'sha384-x', `/s.css?v=2&${INTEGRITY_PARAM}=sha384-x`],
    ['/s.css?', 'a', `/s.css?${INTEGRITY_PARAM}=a`],
    ['s.css#top', 'sha256-a+b/c=', `s.css?${INTEGRITY_PARAM}=sha256-a%2Bb%2Fc%3D#top`],
    ['http://o2--s.localhost/s.css?a=1&b', 'x y', `http://o2--s.localhost/s.css?a=1&b&${INTEGRITY_PARAM}=x%20y`],
  ])('%s + %s', (url, integrity, expected) => {
    expect(withIntegrityMarker(url, integrity)).toBe(expected);
  });

  it.each([
    ['/s.css', '/s.css', null],
    ['/s.css?v=2', '/s.css?v=2', null],
    [`/s.css?${INTEGRITY_PARAM}=sha384-x`, '/s.css', 'sha384-x'],
    [`/s.css?v=%20a&${INTEGRITY_PARAM}=sha256-a%2Bb%2Fc%3D&w=b+c`, '/s.css?v=%20a&w=b+c', 'sha256-a+b/c='],
    [`/s.css?${INTEGRITY_PARAM}=%E0%A4%A`, '/s.css', ''],
  ])('takes the marker off %s', (target, rest, integrity) => {
    expect(takeIntegrityMarker(target)).toEqual({ target: rest, integrity });
  });

  it('gives back the URL as written when the marker is taken off again', () => {
    for (const url of ['/a.css', '/a.css?x=1&y=%2F', '/a.css?q=a%26b']) expect(takeIntegrityMarker(withIntegrityMarker(url, 'sha512-z')).target).toBe(url);
  });
});

describe('integrity check (SRI 3.3.5)', () => {
  it('matches any hash of the strongest algorithm listed, ignoring weaker ones', () => {
    expect(matchesIntegrity(body, `sha256-${digest('sha256')}`)).toBe(true);
    expect(matchesIntegrity(body, `sha384-${digest('sha384')}`)).toBe(true);
    expect(matchesIntegrity(body, `sha512-${digest('sha512')}?ct=text/css`)).toBe(true);
    expect(matchesIntegrity(body, `sha256-wrong sha384-${digest('sha384')}`)).toBe(true);
    expect(matchesIntegrity(body, `sha256-${digest('sha256')} sha384-wrong`)).toBe(false);
    expect(matchesIntegrity(body, `sha384-other sha384-${digest('sha384')}`)).toBe(true);
    expect(matchesIntegrity(body, 'sha384-bm90IHRoZSBoYXNo')).toBe(false);
    expect(matchesIntegrity(body, `sha256-${digest('sha256').replace(/\+/g, '-').replace(/\//g, '_')}`)).toBe(true);
  });

  it('reads the dashed spellings Chromium takes (sha-256-, sha-384-, sha-512-)', () => {
    expect(matchesIntegrity(body, `sha-256-${digest('sha256')}`)).toBe(true);
    expect(matchesIntegrity(body, 'sha-256-bm90IHRoZSBoYXNo')).toBe(false);
    expect(matchesIntegrity(body, 'sha-384-bm90IHRoZSBoYXNo')).toBe(false);
    // The strongest listed wins, whatever the spelling: a wrong sha-512 refuses a right sha256.
    expect(matchesIntegrity(body, `sha256-${digest('sha256')} sha-512-bm90IHRoZSBoYXNo`)).toBe(false);
    expect(parseIntegrity('SHA256-abc sha-1-abc')).toEqual([]);
  });

  it('has nothing to check without a valid hash (unknown algorithms, junk)', () => {
    expect(parseIntegrity('md5-abc sha1-def junk')).toEqual([]);
    expect(matchesIntegrity(body, 'md5-abc')).toBe(true);
    expect(matchesIntegrity(body, '')).toBe(true);
  });

  it('reads the body whole when it matches and refuses it otherwise', async () => {
    expect(await readChecked(Readable.from([body.subarray(0, 4), body.subarray(4)]), `sha384-${digest('sha384')}`)).toEqual(body);
    await expect(readChecked(Readable.from([body]), 'sha384-bm90IHRoZSBoYXNo')).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH', status: 502 });
    await expect(readChecked(null, 'sha384-x')).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
    await expect(readChecked(Readable.from([body]), `sha384-${digest('sha384')}`, 4)).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
  });
});
