import { CliError } from './cli-error.ts';

/** Parses a flag that must be a whole number >= 1; the error names the flag. */
export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliError(`${flag} must be a whole number >= 1, got '${value}'`);
  return n;
}
