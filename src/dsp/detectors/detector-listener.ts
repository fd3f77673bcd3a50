import type { Leg } from '../../ingest/media-sink.ts';
import type { ToneValue } from '../detector-event.ts';

/**
 * Receives what the in-band detectors of one leg heard. Times are call media time in seconds:
 * frameIndex * 0.02 + the sample offset inside the frame where the event began.
 */
export interface DetectorListener {
  onDigit(leg: Leg, digit: string, startS: number, durS: number): void;
  onTone(leg: Leg, tone: ToneValue, startS: number, durS: number): void;
}
