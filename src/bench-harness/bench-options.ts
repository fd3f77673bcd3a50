/**
 * A benchmark script's command line, read through commander as the CLI's commands are: `--help` lists the options
 * with their defaults, and an unknown option, a missing value or a value of the wrong kind exits 2 with one line
 * naming the option, never a stack trace (a benchmark that ran on a mistyped `--second 10` would report a figure
 * measured under its defaults).
 */
import { Command, CommanderError, Option } from 'commander';

export interface BenchOption {
  /** What `--help` says it does. */
  description: string;
  /** Its value when not given, as it would be typed. */
  default?: string;
  /** Set by a benchmark for the child processes it starts itself: accepted, left out of `--help`. */
  internal?: boolean;
  /** A flag without a value (its presence sets it). */
  flag?: boolean;
}

/** What the command line gave, by option name as typed: its text ('true' for a flag given), undefined if absent. */
export type BenchOptionValues<K extends string> = Record<K, string | undefined>;

/** Reads `argv` (default: this process's) against `options`, keyed by option name as typed (`'capacity-only'`). */
export function parseBenchOptions<K extends string>(
  script: string,
  summary: string,
  options: Readonly<Record<K, BenchOption>>,
  argv: readonly string[] = process.argv,
): BenchOptionValues<K> {
  const program = new Command(script).description(summary).exitOverride().allowExcessArguments(false);
  for (const name of Object.keys(options) as K[]) {
    const spec = options[name];
    const option = new Option(spec.flag ? `--${name}` : `--${name} <value>`, spec.description);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.internal) option.hideHelp();
    program.addOption(option);
  }
  try {
    program.parse(argv);
  } catch (err) {
    // commander has printed the help text or its one-line message already.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
  // commander keys its results in camel case ('capacityOnly'); callers ask by the name they declared.
  const opts = program.opts<Record<string, string | true | undefined>>();
  const values: Record<string, string | undefined> = {};
  for (const name of Object.keys(options)) {
    const value = opts[camelCase(name)];
    values[name] = value === true ? 'true' : value;
  }
  return values as BenchOptionValues<K>;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Exits 2 naming `--name` and what it must be; `what` says it ("a positive integer"). */
function rejectOption(name: string, what: string, text: string | undefined): never {
  console.error(`--${name} must be ${what}, got ${text === undefined ? 'nothing' : `'${text}'`}`);
  process.exit(2);
}

/** The value of option `--name` as a positive integer; exits 2 naming the option when it is not one. */
export function positiveIntegerArg(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value <= 0)
    rejectOption(name, 'a positive integer', text);
  return value;
}

/** The value of option `--name` as a number above zero (seconds, say); exits 2 naming the option otherwise. */
export function positiveNumberArg(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !(value > 0) || !Number.isFinite(value))
    rejectOption(name, 'a number above zero', text);
  return value;
}

/** The value of option `--name` as a fraction in [0, 1); exits 2 naming the option otherwise. */
export function fractionArg(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !(value >= 0 && value < 1))
    rejectOption(name, 'a fraction from 0 up to (not including) 1', text);
  return value;
}
