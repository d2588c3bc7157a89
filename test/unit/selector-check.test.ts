import { describe, expect, it } from 'vitest';
import { selectorMistake } from '../../protocol/selector-check.js';

describe('selectorMistake (config selectors a browser would refuse)', () => {
  it.each([
    '.card-number',
    'input[type=password]',
    'ul > li + li ~ p',
    ':is(.a, .b) :not([data-x="a,b)"])',
    '#\\31 st-card',
    '[id="1st-card"]',
    '.a\\:b',
    'li:nth-child(2n+1 of .x)',
    "[data-label='x > y']",
    '#_x, .-y, .--z',
    'a[href$=".pdf" i]',
    '[title="a,,b"]',
    "[data-x=',a']",
  ])('accepts %j', (selector) => {
    expect(selectorMistake(selector)).toBeNull();
  });

  it.each([
    ['#1st-card', 'cannot start with a digit'],
    ['.2col', 'cannot start with a digit'],
    ['.-3x', 'cannot start with a digit'],
    ['##bad', 'needs a name'],
    ['.', 'needs a name'],
    ['a >', 'nothing after it'],
    ['a,', 'nothing after it'],
    [',a', 'nothing before it'],
    ['a,,b', 'nothing before it'],
    ['[data-x', 'is missing'],
    [':not(.a', 'is missing'],
    ['a)', 'closes nothing'],
    ['[a="b]', 'not closed'],
    // Valid alone, but they swallow the rules joined after them.
    ['.card /*', 'comment'],
    ['.card\\', 'ends with a backslash'],
  ])('refuses %j (%s)', (selector, why) => {
    expect(selectorMistake(selector)).toContain(why);
  });
});

describe('selectorMistake escape hints', () => {
  it.each([
    ['#1st-card', '#\\31 st-card'],
    ['#-1a', '#-\\31 a'],
  ])('%j -> %j', (selector, hint) => {
    expect(selectorMistake(selector)).toContain(`(${hint})`);
  });
});
