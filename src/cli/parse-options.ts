/**
 * Checks of option values shared by the CLI's commands and the benchmark scripts: each returns the value or throws
 * a CliError whose one line names the flag, what it must be and what it got.
 */
import { CliError } from './cli-error.ts';

/** Number(text), where blank text is not a number (Number('') is 0). */
function numberOf(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}

/** Parses a flag that must be a whole number >= 1; the error names the flag. */
export function positiveInt(flag: string, value: string): number {
  const n = numberOf(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliError(`${flag} must be a whole number >= 1, got '${value}'`);
  return n;
}

/** Parses a flag that must be a whole number >= 0 (a seed, say). */
export function wholeNumber(flag: string, value: string): number {
  const n = numberOf(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliError(`${flag} must be a whole number >= 0, got '${value}'`);
  return n;
}

/** Parses a flag that must be a finite number >= min. */
export function numberAtLeast(flag: string, value: string, min: number): number {
  const n = numberOf(value);
  if (!Number.isFinite(n) || n < min)
    throw new CliError(`${flag} must be a number >= ${min}, got '${value}'`);
  return n;
}

/** Parses a flag that must be a finite number above zero (a duration, say). */
export function positiveNumber(flag: string, value: string): number {
  const n = numberOf(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag} must be a number > 0, got '${value}'`);
  return n;
}

/** Parses a flag that must be a fraction from 0 up to (not including) 1 (a probability, say). */
export function fraction(flag: string, value: string): number {
  const n = numberOf(value);
  if (!(n >= 0 && n < 1))
    throw new CliError(`${flag} must be a fraction from 0 up to (not including) 1, got '${value}'`);
  return n;
}
