/**
 * RFC 3550 §6.4.1 / A.8 interarrival jitter: J += (|D| - J) / 16, where D is the change in relative transit
 * time between consecutive packets in arrival order. Kept in milliseconds rather than timestamp units so legs
 * with different clock rates compare directly.
 *
 * The estimator's state is JITTER_DOUBLES doubles at state[at...] and JITTER_WORDS 32-bit words at
 * words[wordAt...]: a leg keeps them in its pooled row (see leg-state-pool.ts), where the words take a quarter of
 * the room doubles would.
 */

/** Transit changes larger than this are a timestamp or clock reset, not jitter. */
const MAX_TRANSIT_STEP_MS = 10_000;

// Doubles.
export const JITTER_MS = 0;
const PREVIOUS_ARRIVAL_MS = 1;
export const JITTER_DOUBLES = 2;
// Words. The previous packet's clock rate is 0 when there is none (a clock rate never is).
const PREVIOUS_TIMESTAMP = 0;
const PREVIOUS_CLOCK_RATE = 1;
export const JITTER_WORDS = 2;

/** Takes one packet's arrival and RTP timestamp; returns the jitter estimate, ms. */
export function updateJitter(
  state: Float64Array,
  at: number,
  words: Int32Array,
  wordAt: number,
  arrivalMs: number,
  timestamp: number,
  clockRate: number,
): number {
  let jitterMs = state[at + JITTER_MS];
  if (clockRate === words[wordAt + PREVIOUS_CLOCK_RATE]) {
    // Signed 32-bit difference handles timestamp wrap (the previous timestamp is kept as a signed word: the same
    // difference modulo 2^32).
    const mediaMs = (((timestamp - words[wordAt + PREVIOUS_TIMESTAMP]) | 0) * 1000) / clockRate;
    const d = arrivalMs - state[at + PREVIOUS_ARRIVAL_MS] - mediaMs;
    const magnitude = d < 0 ? -d : d;
    if (magnitude < MAX_TRANSIT_STEP_MS) {
      jitterMs += (magnitude - jitterMs) / 16;
      state[at + JITTER_MS] = jitterMs;
    }
  }
  state[at + PREVIOUS_ARRIVAL_MS] = arrivalMs;
  words[wordAt + PREVIOUS_TIMESTAMP] = timestamp;
  words[wordAt + PREVIOUS_CLOCK_RATE] = clockRate;
  return jitterMs;
}

/** A new RTP stream (SSRC change) starts its own transit baseline; the running estimate carries over. */
export function restartJitter(words: Int32Array, wordAt: number): void {
  words[wordAt + PREVIOUS_CLOCK_RATE] = 0;
}
