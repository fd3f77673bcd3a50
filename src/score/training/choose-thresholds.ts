import { judgeCall } from '../../alert/call-judge.ts';
import { NO_REPLAY } from '../../dsp/fingerprint/replay-index.ts';
import { quantile } from './evaluation.ts';

export interface ScoredCall {
  label: string;
  onsetS: number;
  windowTimes: number[];
  /** Probabilities of this call's windows, row-major [windows x classes]. */
  probs: Float32Array;
}

export interface ClassChoice {
  threshold: number;
  persistence: number;
  recall: number;
  /** Share of legit validation calls this class alone would alert. */
  legit_false_alarm: number;
  /** Share of other fraud classes' calls it would (wrongly) claim. */
  other_false_alarm: number;
  ttd_median_s: number;
}

const THRESHOLDS = Array.from({ length: 14 }, (_, i) => 0.3 + i * 0.05);
const PERSISTENCE = [1, 2, 3, 4, 5, 6];

/**
 * Picks, per fraud class, the threshold and persistence the policy will use, on validation calls and through the
 * real policy code. Settings that keep this class's legit false alarms within LEGIT_BUDGET are preferred; among
 * them the objective is call-level recall, with other-class confusion weighted 2x and a small preference for
 * speed. When no setting meets the budget, legit false alarms count 10x in the objective instead.
 */
const LEGIT_BUDGET = 0.005;

export function chooseThresholds(
  classes: readonly string[],
  calls: readonly ScoredCall[],
): Record<string, ClassChoice> {
  const out: Record<string, ClassChoice> = {};
  const emptyEvents: never[] = [];
  for (const cls of classes) {
    if (cls === 'legit') continue;
    let best: (ClassChoice & { objective: number }) | null = null;
    for (const threshold of THRESHOLDS) {
      for (const persistence of PERSISTENCE) {
        const manifest = { classes, thresholds: { [cls]: threshold }, persistence: { [cls]: persistence } };
        let hits = 0;
        let positives = 0;
        let legitAlarms = 0;
        let legitCalls = 0;
        let otherAlarms = 0;
        let otherCalls = 0;
        const ttd: number[] = [];
        for (const call of calls) {
          const replay = call.windowTimes.map(() => NO_REPLAY);
          const decisions = judgeCall(
            { windowTimes: call.windowTimes, replay, events: emptyEvents },
            call.probs,
            classes.length,
            manifest,
          );
          const fired = decisions.find((d) => d.kind === cls);
          if (call.label === cls) {
            positives++;
            if (fired) {
              hits++;
              ttd.push(Math.max(0, fired.mediaS - call.onsetS));
            }
          } else if (call.label === 'legit' || call.label === 'card_entry') {
            legitCalls++;
            if (fired) legitAlarms++;
          } else {
            otherCalls++;
            if (fired) otherAlarms++;
          }
        }
        const recall = positives > 0 ? hits / positives : 0;
        const legitRate = legitCalls > 0 ? legitAlarms / legitCalls : 0;
        const otherRate = otherCalls > 0 ? otherAlarms / otherCalls : 0;
        const median =
          ttd.length > 0
            ? quantile(
                ttd.sort((a, b) => a - b),
                0.5,
              )
            : 60;
        const withinBudget = legitRate <= LEGIT_BUDGET;
        const objective = (withinBudget ? 100 : 0) + recall - 10 * legitRate - 2 * otherRate - 0.002 * median;
        if (!best || objective > best.objective + 1e-9) {
          best = {
            threshold: round(threshold),
            persistence,
            recall: round(recall),
            legit_false_alarm: round(legitRate),
            other_false_alarm: round(otherRate),
            ttd_median_s: round(median),
            objective,
          };
        }
      }
    }
    if (best) {
      const { objective: _objective, ...choice } = best;
      out[cls] = choice;
    }
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
