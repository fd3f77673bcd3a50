/**
 * RFC 3550 §6.4.1 / A.8 interarrival jitter: J += (|D| - J) / 16, where D is the change in relative transit
 * time between consecutive packets in arrival order. Kept in milliseconds rather than timestamp units so legs
 * with different clock rates compare directly.
 *
 * The estimator's state is JITTER_FIELDS numbers at state[at...]: a leg keeps them in its pooled row (see
 * leg-state-pool.ts).
 */

/** Transit changes larger than this are a timestamp or clock reset, not jitter. */
const MAX_TRANSIT_STEP_MS = 10_000;

export const JITTER_MS = 0;
const HAS_PREVIOUS = 1;
const PREVIOUS_ARRIVAL_MS = 2;
const PREVIOUS_TIMESTAMP = 3;
const PREVIOUS_CLOCK_RATE = 4;
export const JITTER_FIELDS = 5;

/** Takes one packet's arrival and RTP timestamp; returns the jitter estimate, ms. */
export function updateJitter(
  state: Float64Array,
  at: number,
  arrivalMs: number,
  timestamp: number,
  clockRate: number,
): number {
  let jitterMs = state[at + JITTER_MS];
  if (state[at + HAS_PREVIOUS] !== 0 && clockRate === state[at + PREVIOUS_CLOCK_RATE]) {
    // Signed 32-bit difference handles timestamp wrap.
    const mediaMs = (((timestamp - state[at + PREVIOUS_TIMESTAMP]) | 0) * 1000) / clockRate;
    const d = arrivalMs - state[at + PREVIOUS_ARRIVAL_MS] - mediaMs;
    const magnitude = d < 0 ? -d : d;
    if (magnitude < MAX_TRANSIT_STEP_MS) {
      jitterMs += (magnitude - jitterMs) / 16;
      state[at + JITTER_MS] = jitterMs;
    }
  }
  state[at + HAS_PREVIOUS] = 1;
  state[at + PREVIOUS_ARRIVAL_MS] = arrivalMs;
  state[at + PREVIOUS_TIMESTAMP] = timestamp;
  state[at + PREVIOUS_CLOCK_RATE] = clockRate;
  return jitterMs;
}

/** A new RTP stream (SSRC change) starts its own transit baseline; the running estimate carries over. */
export function restartJitter(state: Float64Array, at: number): void {
  state[at + HAS_PREVIOUS] = 0;
}
