import { describe, expect, it } from 'vitest';
import { tunneledMethod } from '../../inject/network-hooks.js';

describe('tunneledMethod (how the page runtime sends a method to its own host)', () => {
  it.each([
    // Taken as they are by the gateway's server (fetch upper-cases the first six itself).
    ['GET', null],
    ['get', null],
    ['delete', null],
    ['Post', null],
    ['PATCH', null],
    ['OPTIONS', null],
    // Refused by fetch and XMLHttpRequest themselves, and not tokens: left to them to throw.
    ['CONNECT', null],
    ['trace', null],
    ['Track', null],
    ['PROP FIND', null],
    ['', null],
    // Named in the header, case kept as the page wrote it (fetch keeps it too).
    ['PROPFIND', 'PROPFIND'],
    ['MKCOL', 'MKCOL'],
    ['patch', 'patch'],
    ['Report', 'Report'],
    ['QUERY', 'QUERY'],
  ])('%j -> %j', (method, expected) => {
    expect(tunneledMethod(method)).toBe(expected);
  });
});
