import type { Leg } from '../../ingest/media-sink.ts';
import type { KeyedDigit } from './signals.ts';

/** Labels of CONTRACTS §2. */
export const LABELS = ['legit', 'robocall', 'pumping', 'fax_modem', 'card_entry'] as const;
export type Label = (typeof LABELS)[number];

export type Delivery =
  | { format: 'wav'; encoding: 'pcm16' | 'mulaw' | 'alaw'; sampleRate: 8000 | 16000 }
  | {
      format: 'pcap';
      codec: 'pcmu' | 'pcma' | 'g722' | 'opus';
      /** Fraction of packets lost (independent losses plus short bursts). */
      lossRate: number;
      /** Standard deviation of network delay, ms (causes reordering when large). */
      jitterMs: number;
      /** Encapsulate in STREP on one target instead of a plain rx/tx port pair. */
      strep: boolean;
    };

/** One synthetic call before it is written: audio of both legs at 8 kHz plus its ground truth. */
export interface CallPlan {
  label: Label;
  /** Sub-scenario, e.g. `legit/ivr_pin`; recorded in the label file for error analysis. */
  scenario: string;
  onsetS: number;
  campaign?: string;
  /** rx (far end) and tx (Telnyx side); null tx = mono recording. */
  legs: [Float32Array, Float32Array | null];
  delivery: Delivery;
  /** card_entry: media time the last card digit ends (the card rule's deadline runs from here). */
  lastDigitS?: number;
  /** Digits to send as RFC 4733 telephone-events instead of audio (pcap delivery only). */
  telephoneEvents?: { leg: Leg; digits: KeyedDigit[] };
}
