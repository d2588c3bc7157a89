import { describe, expect, it } from 'vitest';
import { realCookieDomain } from '../../protocol/cookie-domain.js';

const PROXIED = 'o1--abcdefghijklmnopqrstuvwxyz.cobrowse.example.net';

describe('realCookieDomain (a script cookie Domain seen from the real site)', () => {
  it.each([
    // The proxied host itself: the real host.
    [`a=1; domain=${PROXIED}; path=/`, 'www.shop.example.com', 'a=1; domain=www.shop.example.com; path=/'],
    [`a=1; Domain=.${PROXIED.toUpperCase()}`, 'www.shop.example.com', 'a=1; Domain=.www.shop.example.com'],
    // As many last labels as the script took of the proxied host.
    ['a=1; domain=.example.net', 'www.shop.example.com', 'a=1; domain=.example.com'],
    ['a=1; domain=cobrowse.example.net ', 'www.shop.example.com', 'a=1; domain=shop.example.com '],
    ['a=1; domain=net', 'www.shop.example.com', 'a=1; domain=com'],
    // More labels than the real host has: the real host.
    ['a=1; domain=cobrowse.example.net', 'shop', 'a=1; domain=shop'],
    // Anything else as written (the jar checks it against the real host).
    ['a=1; domain=.example.com', 'www.shop.example.com', 'a=1; domain=.example.com'],
    ['a=1; domain=other.net', 'www.shop.example.com', 'a=1; domain=other.net'],
    ['a=1; domain=', 'www.shop.example.com', 'a=1; domain='],
    ['domain=x.example.net', 'www.shop.example.com', 'domain=x.example.net'],
    ['a=1; path=/', 'www.shop.example.com', 'a=1; path=/'],
    // An IP address has no parent domains: only the proxied host itself maps.
    ['a=1; domain=example.net', '10.0.0.1', 'a=1; domain=example.net'],
    [`a=1; domain=${PROXIED}`, '10.0.0.1', 'a=1; domain=10.0.0.1'],
  ])('%j on %s -> %j', (assignment, real, expected) => {
    expect(realCookieDomain(assignment, PROXIED, real)).toBe(expected);
  });
});
