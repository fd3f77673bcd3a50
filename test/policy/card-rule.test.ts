import { describe, expect, it } from 'vitest';
import { CardRule } from '../../src/alert/card-rule.ts';
import { luhnCheckDigit, luhnValid } from '../../src/alert/luhn.ts';

function key(rule: CardRule, leg: 0 | 1, digits: string, startS: number, stepS = 0.25) {
  const matches = [];
  for (let i = 0; i < digits.length; i++) {
    const m = rule.push(leg, digits[i], startS + i * stepS);
    if (m) matches.push({ at: i, ...m });
  }
  return matches;
}

describe('Luhn', () => {
  it('accepts published test card numbers and rejects a changed digit', () => {
    for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117']) {
      expect(luhnValid(n)).toBe(true);
      const broken = n.slice(0, -1) + String((Number(n.at(-1)) + 1) % 10);
      expect(luhnValid(broken)).toBe(false);
    }
    expect(luhnValid('12a4')).toBe(false);
  });

  it('completes any prefix with its check digit', () => {
    expect(luhnValid(`411111111111111${luhnCheckDigit('411111111111111')}`)).toBe(true);
  });
});

describe('card rule', () => {
  it('fires on the digit that completes a 16-digit number, keeping only the last four', () => {
    const matches = key(new CardRule(), 0, '4111111111111111', 10);
    expect(matches.at(-1)).toMatchObject({
      at: 15,
      length: 16,
      last4: '1111',
      scheme: 'visa',
      firstDigitS: 10,
    });
    expect(JSON.stringify(matches)).not.toContain('4111111111111111');
  });

  it('does not fire on a Luhn-valid prefix whose length the issuer never uses', () => {
    // 5555555555555 (13 digits) passes Luhn by chance, but Mastercard numbers are 16 digits long.
    const matches = key(new CardRule(), 0, '5555555555554444', 0);
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ at: 15, length: 16, last4: '4444', scheme: 'mastercard' });
  });

  it('keeps the generic 13-19 digits for prefixes no scheme claims', () => {
    const number = `900000000000${luhnCheckDigit('900000000000')}`; // 13 digits
    expect(key(new CardRule(), 0, number, 0).at(-1)).toMatchObject({ length: 13, scheme: 'other' });
  });

  it('fires for 15-digit Amex numbers', () => {
    expect(key(new CardRule(), 1, '378282246310005', 0).at(-1)).toMatchObject({ length: 15, scheme: 'amex' });
  });

  it('ignores short digit strings: menu choices, PINs and 10-digit phone numbers', () => {
    const rule = new CardRule();
    expect(key(rule, 0, '1', 0)).toEqual([]);
    expect(key(rule, 0, '4521', 10)).toEqual([]);
    expect(key(rule, 0, '2125550123', 20)).toEqual([]);
  });

  it('keeps legs apart: digits split over two legs are not one number', () => {
    const rule = new CardRule();
    const n = '4111111111111111';
    let fired = false;
    for (let i = 0; i < n.length; i++) fired ||= rule.push((i % 2) as 0 | 1, n[i], i * 0.2) !== null;
    expect(fired).toBe(false);
  });

  it('a long pause or a # ends the run', () => {
    const rule = new CardRule();
    expect(key(rule, 0, '41111111', 0)).toEqual([]);
    expect(key(rule, 0, '11111111', 30)).toEqual([]); // 28 s later: a new run of 8 digits
    const hashRule = new CardRule();
    expect(key(hashRule, 0, '41111111#11111111', 0)).toEqual([]);
  });
});
