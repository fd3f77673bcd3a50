import type { AlertDecision } from '../alert/alert.ts';
import { judgeCall, verdictOf } from '../alert/call-judge.ts';
import type { DetectorEvent } from '../dsp/detector-event.ts';
import { FEATURE_NAMES } from '../dsp/feature-names.ts';
import { MemoryReplayIndex } from '../dsp/fingerprint/memory-replay-index.ts';
import type { FoundCall } from '../recordings/recorded-call.ts';
import { analyzeRecording } from './call-analysis.ts';
import { assertFeaturesMatch, modelId } from './model-manifest.ts';
import { OnnxScorer } from './onnx-scorer.ts';

/** One line of `analyze --json` (CONTRACTS §1); extra fields are allowed by the contract. */
export interface AnalyzeResult {
  call: string;
  verdict?: string;
  scores?: Record<string, number>;
  alerts?: { kind: string; at_s: number; score: number; level: number; evidence: Record<string, unknown> }[];
  duration_s?: number;
  model?: string;
  events?: DetectorEvent[];
  warnings?: string[];
  error?: string;
}

export interface AnalyzeOptions {
  manifestPath: string;
  /** Calls analysed in one run see each other through an in-memory replay index (campaigns in a folder). */
  crossCallReplay: boolean;
  includeEvents: boolean;
}

/**
 * `forkguard analyze`: each recorded call through the live pipeline (ingest entry, DSP, one batched model run,
 * the policy), one result per call in input order, including calls that could not be read.
 */
export async function* analyzeCalls(
  calls: FoundCall[],
  options: AnalyzeOptions,
): AsyncGenerator<AnalyzeResult> {
  const scorer = await OnnxScorer.load(options.manifestPath);
  const { manifest } = scorer;
  assertFeaturesMatch(manifest, FEATURE_NAMES);
  const index = options.crossCallReplay ? new MemoryReplayIndex() : undefined;
  const classCount = manifest.classes.length;
  try {
    for (const found of calls) {
      let analysis: Awaited<ReturnType<typeof analyzeRecording>>;
      try {
        analysis = await analyzeRecording(found, index, manifest.window_hop_s);
      } catch (err) {
        yield { call: found.call, error: err instanceof Error ? err.message : String(err) };
        continue;
      }
      const rows = analysis.windowTimes.length;
      for (let w = 0; w < rows; w++) {
        scorer.add(analysis.features.subarray(w * FEATURE_NAMES.length, (w + 1) * FEATURE_NAMES.length));
      }
      const probs = await scorer.run();
      const decisions = judgeCall(analysis, probs, classCount, manifest);
      const result: AnalyzeResult = {
        call: found.call,
        verdict: verdictOf(decisions),
        scores: callScores(manifest.classes, probs, rows, decisions),
        alerts: decisions.map((d) => ({
          kind: d.kind,
          at_s: d.mediaS,
          score: d.score,
          level: d.level,
          evidence: d.evidence,
        })),
        duration_s: round(analysis.durationS),
        model: modelId(manifest),
      };
      if (options.includeEvents) result.events = analysis.events;
      if (analysis.warnings.length > 0) result.warnings = analysis.warnings;
      yield result;
    }
  } finally {
    await scorer.close();
    await index?.close();
  }
}

/**
 * Per model class, the highest window probability seen in the call (how close it came); rule-based kinds
 * (card_entry, replay) carry their alert score, 0 when they did not fire.
 */
function callScores(
  classes: readonly string[],
  probs: Float32Array,
  rows: number,
  decisions: readonly AlertDecision[],
): Record<string, number> {
  const scores: Record<string, number> = {};
  classes.forEach((c, k) => {
    let max = 0;
    for (let w = 0; w < rows; w++) max = Math.max(max, probs[w * classes.length + k]);
    scores[c] = round(max);
  });
  for (const kind of ['card_entry', 'replay'] as const) {
    scores[kind] = round(Math.max(0, ...decisions.filter((d) => d.kind === kind).map((d) => d.score)));
  }
  return scores;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
