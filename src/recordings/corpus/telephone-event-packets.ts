import { buildRtpPacket } from '../rtp-packetizer.ts';
import type { KeyedDigit } from './signals.ts';

const EVENT_CODES: Record<string, number> = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };

/** RFC 4733 event code of a keypad digit. */
export function eventCode(digit: string): number {
  const code = digit >= '0' && digit <= '9' ? digit.charCodeAt(0) - 48 : EVENT_CODES[digit];
  if (code === undefined) throw new Error(`no RFC 4733 event for '${digit}'`);
  return code;
}

export interface TelephoneEventPacket {
  timeMs: number;
  /** RTP sequence offset: interleaved with the audio stream's numbering by the caller. */
  data: Uint8Array;
}

/**
 * The RTP packets a gateway sends for keyed digits (RFC 4733 §2.5): one packet every 50 ms while the key is
 * down, the same timestamp (the event start) with a growing duration, marker on the first, and the end packet
 * sent three times. `rtpTimestampAt(s)` maps call media time to the stream's RTP clock so events and audio
 * share one timeline; `sequenceAt(ms)` gives the sequence number in use at that time.
 */
export function telephoneEventPackets(
  digits: readonly KeyedDigit[],
  payloadType: number,
  ssrc: number,
  rtpTimestampAt: (s: number) => number,
  clockRate: number,
): TelephoneEventPacket[] {
  const out: TelephoneEventPacket[] = [];
  for (const key of digits) {
    const start = rtpTimestampAt(key.startS);
    const totalUnits = Math.max(1, Math.round(key.durS * clockRate));
    const volume = 10; // -10 dBm0
    const step = Math.round(0.05 * clockRate);
    let first = true;
    for (let units = Math.min(step, totalUnits); ; units = Math.min(units + step, totalUnits)) {
      const end = units >= totalUnits;
      const repeats = end ? 3 : 1;
      for (let r = 0; r < repeats; r++) {
        const payload = new Uint8Array(4);
        payload[0] = eventCode(key.digit);
        payload[1] = (end ? 0x80 : 0) | volume;
        payload[2] = (units >> 8) & 0xff;
        payload[3] = units & 0xff;
        out.push({
          timeMs: (key.startS + units / clockRate) * 1000 + r * 5,
          data: buildRtpPacket(payloadType, 0, start, ssrc, first, payload),
        });
        first = false;
      }
      if (end) break;
    }
  }
  return out;
}
