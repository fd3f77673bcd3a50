/**
 * The recordings a bench run replays: labelled calls from the corpus, chosen round-robin across labels so every
 * class is present even in a small selection, each read and encoded once into the datagrams it sends.
 */
import { readRecordedCall } from '../recordings/recorded-call.ts';
import { prepareCall, scheduleCall } from '../recordings/replay-schedule.ts';
import type { ReplayCodec } from '../recordings/rtp-packetizer.ts';
import { type CallLabel, findLabelledCalls, type LabelledCall } from '../score/training/labelled-calls.ts';
import type { SenderDatagram } from './native-sender.ts';

export interface BenchRecording {
  /** CONTRACTS §1 name of the call, relative to the corpus folder. */
  call: string;
  path: string;
  label: CallLabel;
  /** Media length sent (ms), after truncation to the step duration. */
  durationMs: number;
  datagrams: SenderDatagram[];
}

/** Up to `limit` calls, taking one of each label in turn (labels in name order, calls in name order). */
export function chooseStratified(calls: LabelledCall[], limit: number): LabelledCall[] {
  const byLabel = new Map<string, LabelledCall[]>();
  for (const c of calls) {
    const list = byLabel.get(c.label.label) ?? [];
    list.push(c);
    byLabel.set(c.label.label, list);
  }
  const queues = [...byLabel.keys()].sort().map((k) => byLabel.get(k) ?? []);
  const out: LabelledCall[] = [];
  for (let i = 0; out.length < limit && queues.some((q) => i < q.length); i++) {
    for (const q of queues) if (i < q.length && out.length < limit) out.push(q[i]);
  }
  return out;
}

/**
 * Reads and encodes the chosen recordings. Datagrams at or after `maxMs` are left out: no call plays longer
 * than a step. Unreadable files are reported through `onSkip` and left out.
 */
export async function loadBenchRecordings(options: {
  corpus: string;
  limit: number;
  maxMs: number;
  codec: ReplayCodec;
  onSkip?: (message: string) => void;
  onLoaded?: (done: number, total: number) => void;
}): Promise<BenchRecording[]> {
  const { calls, skipped } = await findLabelledCalls([options.corpus]);
  for (const s of skipped) options.onSkip?.(s);
  const chosen = chooseStratified(calls, options.limit);
  const out: BenchRecording[] = [];
  for (const c of chosen) {
    try {
      const schedule = scheduleCall(prepareCall(await readRecordedCall(c.path), options.codec));
      const datagrams: SenderDatagram[] = [];
      let last = 0;
      for (const d of schedule) {
        if (d.timeMs >= options.maxMs) continue;
        datagrams.push({ leg: d.leg, timeMs: d.timeMs, data: d.data });
        if (d.timeMs > last) last = d.timeMs;
      }
      if (datagrams.length > 0) {
        out.push({ call: c.call, path: c.path, label: c.label, durationMs: last + 20, datagrams });
      }
    } catch (err) {
      options.onSkip?.((err as Error).message);
    }
    options.onLoaded?.(out.length, chosen.length);
  }
  return out;
}
