import type { LegName } from '../ingest/media-sink.ts';

/**
 * What a detector heard on one leg (CONTRACTS §1 `analyze --events`).
 * type 'dtmf': value is the digit; 'tone': value is one of TONE_VALUES; at_s/dur_s in call media time.
 */
export interface DetectorEvent {
  leg: LegName;
  type: 'dtmf' | 'tone';
  value: string;
  at_s: number;
  dur_s: number;
  /** For dtmf: where it was heard ('inband' or 'rfc4733'); both sources merge into one stream. */
  source?: 'inband' | 'rfc4733';
}

/** Tone values reported in events; `--help` of `analyze` documents each. */
export const TONE_VALUES = {
  cng: 'fax calling tone, 1100 Hz, 0.5 s on / 3 s off',
  ced: 'fax/modem answer tone ANS/CED, 2100 Hz (with or without phase reversals)',
  ansam: 'V.8 answer tone ANSam, 2100 Hz amplitude-modulated at 15 Hz',
  bell: 'Bell 103 answer tone, 2225 Hz',
  v21: 'V.21 FSK signalling (fax T.30 preamble), 1650/1850 Hz',
  sit: 'special information tone, 913.8/1370.6/1776.7 Hz sequence',
  busy: 'busy tone (call progress), 480+620 Hz, or 425, 400+450 or 400 Hz, 0.35-0.75 s on and off',
  ringback: 'ringback tone (call progress), 440+480 Hz, or 425, 400+450 (double ring) or 400 Hz, cadenced',
  dialtone: 'dial tone (call progress), 350+440 Hz continuous, or 425, 400+450 or 400 Hz held past 3 s',
} as const;
export type ToneValue = keyof typeof TONE_VALUES;
