/**
 * A benchmark script's command line, read through commander as the CLI's commands are: `--help` lists the options
 * with their defaults, and an unknown option, a missing value or a value of the wrong kind exits 2 with one line
 * naming the option, never a stack trace (a benchmark that ran on a mistyped `--second 10` would report a figure
 * measured under its defaults).
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError } from '../cli/cli-error.ts';
import { fraction, positiveInt, positiveNumber } from '../cli/parse-options.ts';

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
  const declared = new Map<string, Option>();
  for (const name of Object.keys(options) as K[]) {
    const spec = options[name];
    const option = new Option(spec.flag ? `--${name}` : `--${name} <value>`, spec.description);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.internal) option.hideHelp();
    program.addOption(option);
    declared.set(name, option);
  }
  try {
    program.parse(argv);
  } catch (err) {
    // commander has printed the help text or its one-line message already.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  }
  // commander keys its results by each option's attribute name ('capacityOnly'); callers ask by the name declared.
  const opts = program.opts<Record<string, string | true | undefined>>();
  const values: Record<string, string | undefined> = {};
  for (const [name, option] of declared) {
    const value = opts[option.attributeName()];
    values[name] = value === true ? 'true' : value;
  }
  return values as BenchOptionValues<K>;
}

/**
 * The CLI's check of an option's value (src/cli/parse-options.ts), for a script: its one-line reason on stderr and
 * exit 2 where the CLI would print it and exit 2.
 */
function checked<T>(check: (flag: string, value: string) => T, name: string, text: string | undefined): T {
  try {
    return check(`--${name}`, text ?? '');
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

/** The value of option `--name` as a whole number >= 1. */
export function positiveIntegerArg(name: string, text: string | undefined): number {
  return checked(positiveInt, name, text);
}

/** The value of option `--name` as a number above zero (seconds, say). */
export function positiveNumberArg(name: string, text: string | undefined): number {
  return checked(positiveNumber, name, text);
}

/** The value of option `--name` as a fraction in [0, 1) (a probability). */
export function fractionArg(name: string, text: string | undefined): number {
  return checked(fraction, name, text);
}
