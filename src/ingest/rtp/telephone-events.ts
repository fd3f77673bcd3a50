/**
 * RFC 4733 telephone-events -> one DigitEvent per key press.
 *
 * A sender repeats an event's packets with the same RTP timestamp (the event start) and a growing duration,
 * then sends the end (E bit) three times. Those repeats, and reordered or retransmitted packets for an event that
 * is already closed, must not produce extra digits. An event whose end packets were all lost is closed by the
 * next event (different timestamp) or by `expire` after EVENT_TIMEOUT_MS without packets, with the longest
 * duration seen.
 *
 * Known limits: only the first event block of a packet is read (RFC 4733 §2.5.1.5 multi-event packets are rare
 * for DTMF), and an event longer than the 16-bit duration field (RFC 4733 §2.5.2.1 segments, > 8 s at 8 kHz)
 * is reported as consecutive digits.
 */
import type { DigitEvent, Leg, MediaSink } from '../media-sink.ts';

export const TELEPHONE_EVENT_BYTES = 4;
/** Updates come every ~50 ms; several missed in a row means the end packets are gone. */
export const EVENT_TIMEOUT_MS = 500;

const EVENT_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (let code = 0; code < 256; code++) names.push(`event-${code}`);
  const keys = '0123456789*#ABCD';
  for (let code = 0; code < keys.length; code++) names[code] = keys[code];
  names[16] = 'flash';
  // RFC 4734 modem and fax events.
  names[32] = 'ans';
  names[33] = '/ans';
  names[34] = 'ansam';
  names[35] = '/ansam';
  names[36] = 'cng';
  return names;
})();

export function telephoneEventName(code: number): string {
  return EVENT_NAMES[code & 0xff];
}

/** Maps an event's RTP timestamp to call media seconds; the leg's timeline owns the anchor. */
export interface EventClock {
  secondsOf(timestamp: number): number;
  readonly clockRate: number;
}

export class TelephoneEventTracker {
  /** Digits emitted. */
  events = 0;
  /** Packets of an event that was already closed (the E-bit repeats, late updates). */
  repeats = 0;
  /** Events closed without an end packet (by timeout or by the next event). */
  endsLost = 0;

  private isActive = false;

  /** An event is open: its end packets have not come yet, and `expire` may close it. */
  get active(): boolean {
    return this.isActive;
  }
  private timestamp = 0;
  private code = 0;
  private duration = 0;
  private volume = 0;
  private lastPacketMs = 0;
  private closedValid = false;
  private closedTimestamp = 0;
  private closedCode = 0;

  constructor(
    private readonly leg: Leg,
    private readonly sink: MediaSink,
  ) {}

  /** Handles one telephone-event payload (at least TELEPHONE_EVENT_BYTES at `offset`), in sequence order. */
  handle(payload: Uint8Array, offset: number, timestamp: number, arrivalMs: number, clock: EventClock): void {
    const code = payload[offset];
    const flags = payload[offset + 1];
    const ended = (flags & 0x80) !== 0;
    const volume = flags & 0x3f;
    const duration = (payload[offset + 2] << 8) | payload[offset + 3];
    if (this.active && timestamp === this.timestamp && code === this.code) {
      if (duration > this.duration) this.duration = duration;
      this.lastPacketMs = arrivalMs;
      if (ended) this.close(clock);
      return;
    }
    if (this.closedValid && timestamp === this.closedTimestamp && code === this.closedCode) {
      this.repeats++;
      return;
    }
    if (this.active) {
      this.endsLost++;
      this.close(clock);
    }
    this.isActive = true;
    this.timestamp = timestamp;
    this.code = code;
    this.duration = duration;
    this.volume = volume;
    this.lastPacketMs = arrivalMs;
    if (ended) this.close(clock);
  }

  /** Closes an event that has had no packet for EVENT_TIMEOUT_MS (its end packets were lost). */
  expire(nowMs: number, clock: EventClock): void {
    if (this.active && nowMs - this.lastPacketMs >= EVENT_TIMEOUT_MS) {
      this.endsLost++;
      this.close(clock);
    }
  }

  /** Closes an open event at end of stream or stream change. */
  finish(clock: EventClock): void {
    if (this.active) {
      this.endsLost++;
      this.close(clock);
    }
  }

  private close(clock: EventClock): void {
    this.isActive = false;
    this.closedValid = true;
    this.closedTimestamp = this.timestamp;
    this.closedCode = this.code;
    this.events++;
    const startS = clock.secondsOf(this.timestamp);
    const event: DigitEvent = {
      digit: telephoneEventName(this.code),
      startS: Math.max(startS, 0),
      durS: this.duration / clock.clockRate,
      volume: this.volume,
      source: 'rfc4733',
    };
    this.sink.pushDigit(this.leg, event);
  }
}
