import { describe, expect, it } from 'vitest';
import { looksLikeCardNumber, maskCardNumbers } from '../../inject/masking.js';

// Which digit runs of page text the host's page sends as dots (inject/masking.ts).
describe('maskCardNumbers', () => {
  it.each([
    ['Card 4111 1111 1111 1111, expires 12/29', 'Card •••• •••• •••• ••••, expires 12/29'],
    ['New card 5555-5555-5555-4444', 'New card ••••-••••-••••-••••'],
    ['Amex 3782 822463 10005', 'Amex •••• •••••• •••••'],
    ['Diners 3056 930902 5904', 'Diners •••• •••••• ••••'],
    ['one group 4111111111111111.', 'one group ••••••••••••••••.'],
    ['Amex in one 378282246310005', 'Amex in one •••••••••••••••'],
  ])('masks %j', (text, masked) => {
    expect(maskCardNumbers(text)).toBe(masked);
    expect(maskCardNumbers(text)).toHaveLength(text.length);
  });

  it.each([
    // 13-digit millisecond timestamps, EAN-13 and ISBN-13 in one group (these pass the Luhn check)
    '@@sync=1:0:1764621667120.456',
    'EAN 4006381333924',
    'ISBN 9780306406164',
    'Order 1234 5678, ref 2024',
    'no digits here',
    '4111 1111 1111 1112',
  ])('leaves %j alone', (text) => {
    expect(maskCardNumbers(text)).toBe(text);
  });

  it('the single-group numbers left alone are ones the Luhn check would pass (so the rule is what spares them)', () => {
    for (const n of ['1764621667120', '4006381333924', '9780306406164']) expect(looksLikeCardNumber(n)).toBe(true);
  });
});
