/** What the benchmark scripts share besides their measures: argument checks and a sink that keeps nothing. */
import type { MediaSink } from '../ingest/media-sink.ts';

/** The value of option `--name` as a positive integer; exits 2 naming the option when it is not one. */
export function positiveIntegerArg(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} must be a positive integer, got ${text}`);
    process.exit(2);
  }
  return value;
}

/** A sink that drops every frame and digit: the ingest path alone, without what a real sink does with its media. */
export class DiscardingSink implements MediaSink {
  pushFrame(): void {}
  pushDigit(): void {}
  end(): void {}
}
