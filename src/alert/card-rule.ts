import { luhnValid } from './luhn.ts';

/**
 * `card_entry` is a rule, not a model: a payment card number keyed on one leg is a Luhn-valid run of 13-19
 * digits (ISO/IEC 7812 lengths). The rule checks every run ending at the newest digit, so it fires on the
 * digit that completes the number: within the detector's latency of the last key press.
 */
export interface CardRuleOptions {
  minDigits: number;
  maxDigits: number;
  /** A pause longer than this (seconds) ends a run: people pause between groups, not for many seconds. */
  maxGapS: number;
}

export const DEFAULT_CARD_RULE: CardRuleOptions = { minDigits: 13, maxDigits: 19, maxGapS: 4 };

export interface CardMatch {
  length: number;
  /** Last four digits only: evidence must never hold a full card number. */
  last4: string;
  /** Issuer family from the leading digits (no more of the number is kept). */
  scheme: string;
  firstDigitS: number;
}

export class CardRule {
  private digits = ['', ''];
  private startTimes: number[][] = [[], []];
  private lastAt = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];

  constructor(private readonly options: CardRuleOptions = DEFAULT_CARD_RULE) {}

  /** Feeds one digit heard on `leg` at `atS`; returns a match when a card number just completed. */
  push(leg: 0 | 1, digit: string, atS: number): CardMatch | null {
    if (digit < '0' || digit > '9') {
      // '*', '#' and A-D end a run: a card number is digits only.
      this.reset(leg);
      return null;
    }
    if (atS - this.lastAt[leg] > this.options.maxGapS) this.reset(leg);
    this.lastAt[leg] = atS;
    const max = this.options.maxDigits;
    this.digits[leg] = (this.digits[leg] + digit).slice(-max);
    const times = this.startTimes[leg];
    times.push(atS);
    if (times.length > max) times.shift();
    const run = this.digits[leg];
    for (let length = Math.min(run.length, max); length >= this.options.minDigits; length--) {
      const candidate = run.slice(run.length - length);
      if (plausibleLength(candidate) && luhnValid(candidate)) {
        return {
          length,
          last4: candidate.slice(-4),
          scheme: schemeOf(candidate),
          firstDigitS: times[times.length - length],
        };
      }
    }
    return null;
  }

  private reset(leg: 0 | 1): void {
    this.digits[leg] = '';
    this.startTimes[leg] = [];
  }
}

/**
 * Card lengths by issuer prefix (ISO/IEC 7812 IIN ranges of the large schemes). Checking them keeps the rule
 * from firing on a Luhn-valid prefix of a longer number (one in ten prefixes passes Luhn by chance), e.g. 13
 * digits of a 16-digit Mastercard. Prefixes no scheme here claims keep the generic 13-19.
 */
const SCHEME_LENGTHS: ReadonlyArray<[RegExp, readonly number[]]> = [
  [/^3[47]/, [15]], // American Express
  [/^3(0[0-5]|[68])/, [14, 16]], // Diners Club
  [/^35(2[89]|[3-8])/, [16, 17, 18, 19]], // JCB
  [/^4/, [13, 16, 19]], // Visa
  [/^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/, [16]], // Mastercard
  [/^(6011|64[4-9]|65)/, [16, 17, 18, 19]], // Discover
  [/^62/, [16, 17, 18, 19]], // UnionPay
];

function plausibleLength(number: string): boolean {
  for (const [prefix, lengths] of SCHEME_LENGTHS)
    if (prefix.test(number)) return lengths.includes(number.length);
  return true;
}

function schemeOf(number: string): string {
  if (number.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^6(011|5)/.test(number)) return 'discover';
  return 'other';
}
