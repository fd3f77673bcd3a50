import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Leg } from '../../ingest/media-sink.ts';
import { writeStrepHeader } from '../../ingest/strep.ts';
import { type PcapDatagram, writePcap } from '../pcap-writer.ts';
import { packetize, type RtpDatagram } from '../rtp-packetizer.ts';
import { writeWav } from '../wav-writer.ts';
import type { CallPlan, Delivery } from './call-plan.ts';
import { toInt16, upsampleTo16k } from './channel.ts';
import { Prng } from './prng.ts';
import type { KeyedDigit } from './signals.ts';
import { telephoneEventPackets } from './telephone-event-packets.ts';

const TELEPHONE_EVENT_PT = 101;
const RX_PORT = 40000;
const STREP_PORT = 39000;

/** Writes one planned call and its label file: `<out>/<label>/<scenario>-<index>.{wav,pcap}` + `.json`. */
export async function writeCallPlan(out: string, index: number, plan: CallPlan): Promise<string> {
  const scenario = plan.scenario.split('/')[1] ?? plan.scenario;
  const base = join(out, plan.label, `${scenario}-${String(index).padStart(5, '0')}`);
  await mkdir(dirname(base), { recursive: true });
  const legs = plan.legs.filter((leg): leg is Float32Array => leg !== null);
  const delivery = plan.delivery;
  let path: string;
  if (delivery.format === 'wav') {
    path = `${base}.wav`;
    const pcm = legs.map((leg) =>
      delivery.sampleRate === 16000 ? upsampleTo16k(toInt16(leg)) : toInt16(leg),
    );
    await writeWav(path, pcm, delivery.sampleRate, delivery.encoding);
  } else {
    path = `${base}.pcap`;
    await writePcap(path, callPackets(index, plan, delivery));
  }
  const label = {
    label: plan.label,
    onset_s: round3(plan.onsetS),
    campaign: plan.campaign,
    scenario: plan.scenario,
    last_digit_s: plan.lastDigitS === undefined ? undefined : round3(plan.lastDigitS),
  };
  await writeFile(`${base}.json`, `${JSON.stringify(label)}\n`);
  return path;
}

/** Both legs as the fork would capture them: RTP per leg, network loss and jitter, optional STREP. */
function callPackets(
  index: number,
  plan: CallPlan,
  delivery: Extract<Delivery, { format: 'pcap' }>,
): PcapDatagram[] {
  const rng = new Prng(0x5eed ^ index);
  const callLegId = uuidFrom(rng);
  const datagrams: PcapDatagram[] = [];
  for (let leg = 0 as Leg; leg <= 1; leg++) {
    const audio = plan.legs[leg];
    if (!audio) continue;
    const ssrc = (rng.next() * 0xffffffff) >>> 0;
    const firstSequence = rng.int(0, 65535);
    const firstTimestamp = (rng.next() * 0xffffffff) >>> 0;
    const wideband = delivery.codec === 'g722';
    const pcm = wideband ? upsampleTo16k(toInt16(audio)) : toInt16(audio);
    let packets: RtpDatagram[] = packetize(pcm, wideband ? 16000 : 8000, delivery.codec, ssrc, {
      firstSequence,
      firstTimestamp,
    });
    const events = plan.telephoneEvents?.leg === leg ? plan.telephoneEvents.digits : [];
    if (events.length > 0) {
      // RFC 4733 §2.1: telephone-event uses the audio codec's RTP clock (48 kHz for Opus, 8 kHz for the others).
      const clockRate = delivery.codec === 'opus' ? 48000 : 8000;
      packets = interleaveEvents(packets, events, ssrc, firstSequence, firstTimestamp, clockRate);
    }
    const dstPort = delivery.strep ? STREP_PORT : RX_PORT + leg;
    for (const packet of packets) {
      if (rng.chance(delivery.lossRate)) continue;
      const delay = delivery.jitterMs > 0 ? Math.abs(rng.normal()) * delivery.jitterMs : 0;
      const data = delivery.strep ? withStrep(packet.data, leg, callLegId) : packet.data;
      datagrams.push({ timeMs: packet.timeMs + 5 + delay, srcPort: 20000 + leg * 2, dstPort, data });
      if (rng.chance(0.002))
        datagrams.push({ timeMs: packet.timeMs + 6 + delay, srcPort: 20000 + leg * 2, dstPort, data });
    }
  }
  datagrams.sort((a, b) => a.timeMs - b.timeMs);
  return datagrams;
}

/**
 * Adds RFC 4733 packets to a leg's audio packets. The clock rate of telephone-event follows the audio codec's
 * RTP clock; sequence numbers are renumbered so the merged stream counts up.
 */
function interleaveEvents(
  audio: RtpDatagram[],
  digits: readonly KeyedDigit[],
  ssrc: number,
  firstSequence: number,
  firstTimestamp: number,
  clockRate: number,
): RtpDatagram[] {
  const events = telephoneEventPackets(
    digits,
    TELEPHONE_EVENT_PT,
    ssrc,
    (s) => (firstTimestamp + Math.round(s * clockRate)) >>> 0,
    clockRate,
  );
  const merged = [...audio, ...events].sort((a, b) => a.timeMs - b.timeMs);
  for (let i = 0; i < merged.length; i++) {
    const view = new DataView(merged[i].data.buffer, merged[i].data.byteOffset);
    view.setUint16(2, (firstSequence + i) & 0xffff);
  }
  return merged;
}

function withStrep(rtp: Uint8Array, leg: Leg, callLegId: string): Uint8Array {
  const out = new Uint8Array(24 + rtp.length);
  writeStrepHeader(out, 0, { direction: leg, callLegId });
  out.set(rtp, 24);
  return out;
}

function uuidFrom(rng: Prng): string {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += Math.floor(rng.next() * 16).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
