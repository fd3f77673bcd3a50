import type { MediaSink } from '../ingest/media-sink.ts';

/** A sink that drops every frame and digit: the ingest path alone, without what a real sink does with its media. */
export class DiscardingSink implements MediaSink {
  pushFrame(): void {}
  pushDigit(): void {}
  end(): void {}
}
