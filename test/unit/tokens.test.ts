import { describe, expect, it } from 'vitest';
import { newParticipantId, newSecret, newSessionId } from '../../gateway/tokens.js';
import { SESSION_ID_PATTERN } from '../../gateway/url-mapper.js';

const DRAWS = 10_000;

describe('newSessionId', () => {
  const ids = Array.from({ length: DRAWS }, () => newSessionId());

  it('always matches SESSION_ID_PATTERN', () => {
    expect(ids.filter((id) => !SESSION_ID_PATTERN.test(id))).toEqual([]);
  });

  it(`is unique over ${DRAWS} draws`, () => {
    expect(new Set(ids).size).toBe(DRAWS);
  });

  it('uses the whole base32 alphabet at every position', () => {
    for (let pos = 0; pos < 26; pos++) {
      const seen = new Set(ids.map((id) => id[pos]));
      expect(seen.size, `position ${pos}`).toBe(32);
    }
  });

  it('fits in a DNS label after a short origin label', () => {
    expect(`o200--${ids[0]}`.length).toBeLessThanOrEqual(63);
  });
});

describe('newSecret', () => {
  const secrets = Array.from({ length: DRAWS }, () => newSecret());

  it('carries at least 128 bits in URL-safe characters', () => {
    for (const secret of secrets.slice(0, 100)) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(secret.length * 6).toBeGreaterThanOrEqual(128);
      expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it('has a fixed length of 32 characters (192 bits)', () => {
    expect(new Set(secrets.map((s) => s.length))).toEqual(new Set([32]));
  });

  it(`is unique over ${DRAWS} draws`, () => {
    expect(new Set(secrets).size).toBe(DRAWS);
  });

  it('uses the whole base64url alphabet', () => {
    expect(new Set(secrets.join('')).size).toBe(64);
  });
});

describe('newParticipantId', () => {
  it('is a p followed by 12 hex digits, unique over many draws', () => {
    const ids = Array.from({ length: DRAWS }, () => newParticipantId());
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^p[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(DRAWS);
  });
});
