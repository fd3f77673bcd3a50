import { detectsLabel, judgeCall } from '../../alert/call-judge.ts';
import { NO_REPLAY, type ReplayStatus } from '../../dsp/fingerprint/replay-index.ts';
import { quantile } from './evaluation.ts';

export interface ScoredCall {
  label: string;
  onsetS: number;
  windowTimes: number[];
  /** Probabilities of this call's windows, row-major [windows x classes]. */
  probs: Float32Array;
  /**
   * Cross-call replay status as it stood at each window (CallAnalysis.replay). The replay rule raises alerts of
   * its own that count as robocall detections, so the chooser sees them as the evaluation does; absent = none.
   */
  replay?: readonly ReplayStatus[];
}

export interface ClassChoice {
  threshold: number;
  persistence: number;
  /** Probability at or above which one window alerts without persistence; null: no such tier. */
  instant_threshold: number | null;
  recall: number;
  /** Share of legit validation calls this class alone would alert. */
  legit_false_alarm: number;
  /**
   * The same share one grid step looser (next lower threshold, one window less persistence, or the next lower
   * instant threshold): legit calls that came that close to an alert. The budget applies to this figure, so a
   * setting that only just clears the validation calls is not preferred over one with room to spare.
   */
  legit_false_alarm_margin: number;
  /** Share of other fraud classes' calls it would (wrongly) claim. */
  other_false_alarm: number;
  ttd_median_s: number;
}

/** What the chooser aims at, per fraud class, on validation calls through the real policy. */
export interface ChooserTargets {
  /** Call-level recall. */
  recall: number;
  /** Share of legit calls one class may alert (looser neighbour included, see ClassChoice). */
  legitBudget: number;
  /** Median seconds from onset to the first right alert. */
  ttdMedianS: number;
  /** Classes whose median time to detect may be longer than ttdMedianS, with their own aim. */
  ttdMedianSByClass?: Readonly<Record<string, number>>;
}

/**
 * The service's targets: recall >= 0.95, legit calls with any alert <= 1 % (three model classes share it, so
 * about a third each), median time to the first right alert <= 3 s; for pumping 15 s.
 *
 * Pumping's harm is the minutes it bills, on calls that last minutes, so detecting it at 15 s instead of 3 s
 * costs little. Its evidence, a quiet open line, is also how some legit calls begin (nobody speaks for the first
 * seconds); an aim of 3 s would make the chooser take the fastest setting that still clears the validation calls,
 * which sits right at the edge of exactly those calls. With 15 s it prefers the setting with room to spare.
 */
export const DEFAULT_TARGETS: ChooserTargets = {
  recall: 0.95,
  legitBudget: 0.004,
  ttdMedianS: 3,
  ttdMedianSByClass: { pumping: 15 },
};

/** Calibrated probabilities crowd towards 1 for confident windows: the grid is finer there. */
export const THRESHOLDS: readonly number[] = [
  ...Array.from({ length: 14 }, (_, i) => round(0.3 + i * 0.05)),
  0.97,
  0.98,
  0.99,
  0.995,
  0.998,
  0.999,
];
/** Windows of evidence in a row; the long runs are for classes whose aim leaves time to wait (pumping). */
export const PERSISTENCE: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10];

interface Outcome {
  recall: number;
  legitRate: number;
  otherRate: number;
  median: number;
}

/** Media time of a class's first alert on each call at one (threshold, persistence), Infinity for none. */
interface FirstAlerts {
  /** First alert of the class itself (what a legit or another class's call is charged with). */
  fired: Float64Array;
  /** First alert that detects the call's own label (a replay alert counts for a robocall). */
  detected: Float64Array;
}

/**
 * Picks, per fraud class, the threshold and persistence the policy will use, and whether one near-certain
 * window may alert at once (the instant tier), on validation calls and through the real policy code (model
 * windows and the replay rule, as `analyze` and the live service judge a call).
 *
 * Every (threshold, persistence) of the grid is run through the policy once per call; a setting with an instant
 * tier alerts at the earlier of its persistent rule and (instant threshold, persistence 1), which is what the
 * policy does with both (the tiers count the same evidence run; the first alert of a kind is the one that counts).
 *
 * Settings whose legit false alarms, counted with a margin of one grid step, stay within the budget are
 * preferred (when none does, the one with the fewest wins). Among them, in order: recall up to the target (other
 * classes' calls wrongly claimed count against it twice), then the median time to detect down to the class's aim,
 * then more recall, fewer legit alarms, fewer legit calls one grid step looser would alert, more recall one grid
 * step stricter (fraud calls that only just reach a setting), a shorter median time, and no instant tier over one.
 */
export function chooseThresholds(
  classes: readonly string[],
  calls: readonly ScoredCall[],
  targets: ChooserTargets = DEFAULT_TARGETS,
): Record<string, ClassChoice> {
  const out: Record<string, ClassChoice> = {};
  for (const cls of classes) {
    if (cls === 'legit') continue;
    const ttdAim = targets.ttdMedianSByClass?.[cls] ?? targets.ttdMedianS;
    const first = THRESHOLDS.map((threshold) =>
      PERSISTENCE.map((persistence) => firstAlerts(classes, calls, cls, threshold, persistence)),
    );
    // Instant index -1: no instant tier; else an index into THRESHOLDS above the persistent threshold's.
    const grid = (ti: number, pi: number, ii: number): Outcome =>
      outcome(calls, cls, first[ti][pi], ii >= 0 ? first[ii][0] : null);
    let best: { key: number[]; choice: ClassChoice } | null = null;
    for (let ti = 0; ti < THRESHOLDS.length; ti++) {
      for (let pi = 0; pi < PERSISTENCE.length; pi++) {
        // With persistence 1 every evidence window alerts: an instant tier adds nothing.
        const instants = pi === 0 ? [-1] : [-1, ...THRESHOLDS.map((_, i) => i).filter((i) => i > ti)];
        for (const ii of instants) {
          const o = grid(ti, pi, ii);
          const looser = [
            ti > 0 && (ii < 0 || ii > ti - 1) ? grid(ti - 1, pi, ii).legitRate : o.legitRate,
            pi > 0 ? grid(ti, pi - 1, ii).legitRate : o.legitRate,
            // An instant threshold one step above the persistent one loosens to persistence 1 at the latter.
            ii < 0 ? o.legitRate : ii > ti + 1 ? grid(ti, pi, ii - 1).legitRate : grid(ti, 0, -1).legitRate,
          ];
          const margin = Math.max(o.legitRate, ...looser);
          // The same on the other side: recall one grid step stricter, so a setting whose fraud calls only just
          // reach it (and unseen ones may not) is not preferred over one with room to spare.
          const stricter = [
            // The instant tier, if any, moves up with the threshold so that it stays above it.
            ti + 1 < THRESHOLDS.length
              ? grid(ti + 1, pi, ii < 0 || ii + 1 >= THRESHOLDS.length ? -1 : ii + 1).recall
              : o.recall,
            pi + 1 < PERSISTENCE.length ? grid(ti, pi + 1, ii).recall : o.recall,
            ii >= 0 && ii + 1 < THRESHOLDS.length ? grid(ti, pi, ii + 1).recall : o.recall,
          ];
          const recallMargin = Math.min(o.recall, ...stricter);
          const key = [
            margin <= targets.legitBudget + 1e-12 ? 0 : -margin,
            Math.min(o.recall, targets.recall) - 2 * o.otherRate,
            -Math.max(o.median, ttdAim),
            o.recall - 2 * o.otherRate - 10 * o.legitRate,
            -margin,
            recallMargin,
            -o.median,
            ii < 0 ? 1 : 0,
          ];
          if (!best || better(key, best.key)) {
            best = {
              key,
              choice: {
                threshold: THRESHOLDS[ti],
                persistence: PERSISTENCE[pi],
                instant_threshold: ii >= 0 ? THRESHOLDS[ii] : null,
                recall: round(o.recall),
                legit_false_alarm: round(o.legitRate),
                legit_false_alarm_margin: round(margin),
                other_false_alarm: round(o.otherRate),
                ttd_median_s: round(o.median),
              },
            };
          }
        }
      }
    }
    if (best) out[cls] = best.choice;
  }
  return out;
}

/** Each call's first alerts of one class at one setting, through the real policy. */
function firstAlerts(
  classes: readonly string[],
  calls: readonly ScoredCall[],
  cls: string,
  threshold: number,
  persistence: number,
): FirstAlerts {
  const manifest = { classes, thresholds: { [cls]: threshold }, persistence: { [cls]: persistence } };
  const emptyEvents: never[] = [];
  const fired = new Float64Array(calls.length).fill(Number.POSITIVE_INFINITY);
  const detected = new Float64Array(calls.length).fill(Number.POSITIVE_INFINITY);
  calls.forEach((call, i) => {
    const replay = call.replay ?? call.windowTimes.map(() => NO_REPLAY);
    const decisions = judgeCall(
      { windowTimes: call.windowTimes, replay, events: emptyEvents },
      call.probs,
      classes.length,
      manifest,
    );
    fired[i] = decisions.find((d) => d.kind === cls)?.mediaS ?? Number.POSITIVE_INFINITY;
    // A replay alert is a robocall detection too (the call's verdict and its time to detect count it).
    detected[i] = decisions.find((d) => detectsLabel(d.kind, call.label))?.mediaS ?? Number.POSITIVE_INFINITY;
  });
  return { fired, detected };
}

/** One class at one setting over the validation calls: persistent tier, and the instant tier where given. */
function outcome(
  calls: readonly ScoredCall[],
  cls: string,
  persistent: FirstAlerts,
  instant: FirstAlerts | null,
): Outcome {
  let hits = 0;
  let positives = 0;
  let legitAlarms = 0;
  let legitCalls = 0;
  let otherAlarms = 0;
  let otherCalls = 0;
  const ttd: number[] = [];
  calls.forEach((call, i) => {
    if (call.label === cls) {
      positives++;
      const at = instant ? Math.min(persistent.detected[i], instant.detected[i]) : persistent.detected[i];
      if (at < Number.POSITIVE_INFINITY) {
        hits++;
        ttd.push(Math.max(0, at - call.onsetS));
      }
      return;
    }
    const fired =
      persistent.fired[i] < Number.POSITIVE_INFINITY ||
      (instant !== null && instant.fired[i] < Number.POSITIVE_INFINITY);
    if (call.label === 'legit' || call.label === 'card_entry') {
      legitCalls++;
      if (fired) legitAlarms++;
    } else {
      otherCalls++;
      if (fired) otherAlarms++;
    }
  });
  ttd.sort((a, b) => a - b);
  return {
    recall: positives > 0 ? hits / positives : 0,
    legitRate: legitCalls > 0 ? legitAlarms / legitCalls : 0,
    otherRate: otherCalls > 0 ? otherAlarms / otherCalls : 0,
    median: ttd.length > 0 ? quantile(ttd, 0.5) : 60,
  };
}

/** Lexicographic comparison: the first key that differs by more than rounding noise decides. */
function better(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i] + 1e-9) return true;
    if (a[i] < b[i] - 1e-9) return false;
  }
  return false;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
