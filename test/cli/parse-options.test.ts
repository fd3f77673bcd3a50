import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.ts';
import {
  fraction,
  numberAtLeast,
  positiveInt,
  positiveNumber,
  wholeNumber,
} from '../../src/cli/parse-options.ts';

/** The CliError a check throws on `value`, or null when it accepts it. */
function refusal(check: () => unknown): CliError | null {
  try {
    check();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
}

describe('option value checks', () => {
  it('take what they promise', () => {
    expect(positiveInt('--calls', '40')).toBe(40);
    expect(positiveInt('--calls', ' 7 ')).toBe(7);
    expect(wholeNumber('--seed', '0')).toBe(0);
    expect(numberAtLeast('--duration', '3', 3)).toBe(3);
    expect(numberAtLeast('--evidence-s', '0.5', 0)).toBe(0.5);
    expect(positiveNumber('--seconds', '0.3')).toBe(0.3);
    expect(fraction('--loss', '0')).toBe(0);
    expect(fraction('--loss', '0.25')).toBe(0.25);
  });

  it('refuse the rest with one line naming the flag, the rule and the value, exit code 2', () => {
    const cases: [() => unknown, string][] = [
      [() => positiveInt('--calls', '0'), "--calls must be a whole number >= 1, got '0'"],
      [() => positiveInt('--calls', '2.5'), "--calls must be a whole number >= 1, got '2.5'"],
      [() => positiveInt('--calls', ''), "--calls must be a whole number >= 1, got ''"],
      [() => wholeNumber('--seed', '-1'), "--seed must be a whole number >= 0, got '-1'"],
      // Number.parseInt would have read 12 out of it.
      [() => wholeNumber('--seed', '12abc'), "--seed must be a whole number >= 0, got '12abc'"],
      [() => wholeNumber('--seed', ' '), "--seed must be a whole number >= 0, got ' '"],
      [() => numberAtLeast('--duration', '2.9', 3), "--duration must be a number >= 3, got '2.9'"],
      [() => numberAtLeast('--duration', 'Infinity', 3), "--duration must be a number >= 3, got 'Infinity'"],
      [() => positiveNumber('--seconds', '0'), "--seconds must be a number > 0, got '0'"],
      [() => positiveNumber('--seconds', 'abc'), "--seconds must be a number > 0, got 'abc'"],
      [() => fraction('--loss', '1'), "--loss must be a fraction from 0 up to (not including) 1, got '1'"],
      [() => fraction('--loss', ''), "--loss must be a fraction from 0 up to (not including) 1, got ''"],
      [
        () => fraction('--loss', '-0.1'),
        "--loss must be a fraction from 0 up to (not including) 1, got '-0.1'",
      ],
    ];
    for (const [check, message] of cases) {
      const err = refusal(check);
      expect(err?.message).toBe(message);
      expect(err?.exitCode).toBe(2);
    }
  });
});
