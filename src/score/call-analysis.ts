import { CallAnalyzer, type CallAnalyzerListener } from '../dsp/call-analyzer.ts';
import type { DetectorEvent } from '../dsp/detector-event.ts';
import { FEATURE_NAMES } from '../dsp/feature-names.ts';
import { NO_REPLAY, type ReplayIndex, type ReplayStatus } from '../dsp/fingerprint/replay-index.ts';
import { feedRecordedCall } from '../recordings/feed-recorded-call.ts';
import { type FoundCall, readRecordedCall } from '../recordings/recorded-call.ts';

/**
 * Everything the DSP stage said about one recorded call, kept so the model and the policy can be run over it
 * (once for `analyze`, many times while training chooses thresholds) without decoding the audio again.
 */
export interface CallAnalysis {
  call: string;
  path: string;
  durationS: number;
  /** Media time of each feature window. */
  windowTimes: number[];
  /** Feature windows, row-major [windows x FEATURE_NAMES.length]. */
  features: Float32Array;
  /** Cross-call replay status as it stood when each window was emitted. */
  replay: ReplayStatus[];
  /** Detector events (digits merged across in-band and RFC 4733, tones) in time order. */
  events: DetectorEvent[];
  warnings: string[];
}

class Collector implements CallAnalyzerListener {
  readonly windowTimes: number[] = [];
  readonly rows: Float32Array[] = [];
  readonly replay: ReplayStatus[] = [];
  readonly events: DetectorEvent[] = [];
  lastMediaS = 0;

  constructor(private readonly replayIndex: ReplayIndex | undefined) {}

  onWindow(call: CallAnalyzer, mediaS: number, features: Float32Array): void {
    this.windowTimes.push(mediaS);
    this.rows.push(features.slice());
    this.replay.push(this.replayIndex ? { ...this.replayIndex.status(call.key) } : NO_REPLAY);
    this.lastMediaS = mediaS;
  }

  onEvent(_call: CallAnalyzer, event: DetectorEvent): void {
    this.events.push(event);
  }

  onEnd(): void {}
}

/**
 * Runs one recorded call through exactly the code live ingest feeds: WAV frames or pcap packets go into the same
 * MediaSink (CallAnalyzer) that a UDP session drives. `replayIndex` lets calls analysed in one run see each other;
 * `windowHopS` is the model's window hop (its manifest's window_hop_s), as the live service uses it.
 */
export async function analyzeRecording(
  found: FoundCall,
  replayIndex?: ReplayIndex,
  windowHopS?: number,
): Promise<CallAnalysis> {
  const recording = await readRecordedCall(found.path);
  const collector = new Collector(replayIndex);
  const analyzer = new CallAnalyzer(found.call, collector, { replayIndex, windowHopS });
  const media = feedRecordedCall(recording, analyzer, { onMedia: (m) => analyzer.attachLegStats(m.stats) });
  if (replayIndex) await replayIndex.flush();
  const featureCount = FEATURE_NAMES.length;
  const features = new Float32Array(collector.rows.length * featureCount);
  collector.rows.forEach((row, i) => {
    features.set(row, i * featureCount);
  });
  const warnings = [...recording.warnings];
  if (media) for (const codec of media.unsupportedCodecs) warnings.push(`unsupported codec ${codec}`);
  collector.events.sort((a, b) => a.at_s - b.at_s);
  return {
    call: found.call,
    path: found.path,
    durationS: analyzer.mediaS,
    windowTimes: collector.windowTimes,
    features,
    replay: collector.replay,
    events: collector.events,
    warnings,
  };
}
