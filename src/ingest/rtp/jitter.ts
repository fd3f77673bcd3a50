/**
 * RFC 3550 §6.4.1 / A.8 interarrival jitter: J += (|D| - J) / 16, where D is the change in relative transit
 * time between consecutive packets in arrival order. Kept in milliseconds rather than timestamp units so legs
 * with different clock rates compare directly.
 */

/** Transit changes larger than this are a timestamp or clock reset, not jitter. */
const MAX_TRANSIT_STEP_MS = 10_000;

export class JitterEstimator {
  jitterMs = 0;
  private hasPrevious = false;
  private previousArrivalMs = 0;
  private previousTimestamp = 0;
  private previousClockRate = 0;

  update(arrivalMs: number, timestamp: number, clockRate: number): number {
    if (this.hasPrevious && clockRate === this.previousClockRate) {
      // Signed 32-bit difference handles timestamp wrap.
      const mediaMs = (((timestamp - this.previousTimestamp) | 0) * 1000) / clockRate;
      const d = arrivalMs - this.previousArrivalMs - mediaMs;
      const magnitude = d < 0 ? -d : d;
      if (magnitude < MAX_TRANSIT_STEP_MS) this.jitterMs += (magnitude - this.jitterMs) / 16;
    }
    this.hasPrevious = true;
    this.previousArrivalMs = arrivalMs;
    this.previousTimestamp = timestamp;
    this.previousClockRate = clockRate;
    return this.jitterMs;
  }

  /** A new RTP stream (SSRC change) starts its own transit baseline; the running estimate carries over. */
  restart(): void {
    this.hasPrevious = false;
  }
}
