import type { LegName } from '../ingest/media-sink.ts';
import type { AlertDecision, AlertKind } from './alert.ts';
import { CardRule, type CardRuleOptions, DEFAULT_CARD_RULE } from './card-rule.ts';

/**
 * Turns one call's stream of model scores, digits and fingerprint matches into alert decisions. The same class
 * serves `analyze` and the live service, so offline verdicts are what production would have raised.
 *
 * Model classes: a window is evidence for class c when p(c) >= thresholds[c]; an alert needs persistence[c]
 * consecutive evidence windows, or one window at or above instant_thresholds[c] where the manifest sets one (all
 * chosen on validation data and stored in the model manifest). The second tier lets overwhelming evidence alert
 * at once while weaker evidence must persist: a short run of merely likely windows is what most legit calls that
 * come close look like, a single near-certain one is not. Its score is the mean probability over the run.
 *
 * At most one alert per call and kind, except escalation: a later run of evidence whose mean score is at least
 * ESCALATION_STEP above the last alert's score raises the same kind at the next level (up to MAX_LEVEL). The
 * alert id includes the level, so the queue treats each level as its own alert and a repeat as a no-op.
 */
export const ESCALATION_STEP = 0.1;
export const MAX_LEVEL = 3;

export interface ReplayRuleOptions {
  /** Other calls that must carry the same audio. */
  minOtherCalls: number;
  /** Seconds of consistent fingerprint overlap with the best matching call. */
  minOverlapS: number;
  /**
   * Identical fingerprint frames shared with the best matching call. The same recording shares most of its
   * frames (hundreds over a few seconds); different audio of a similar kind (two pieces of hold music, two
   * tones) at best a sparse handful, which overlap time alone does not tell apart.
   */
  minMatchedFrames: number;
}
export const DEFAULT_REPLAY_RULE: ReplayRuleOptions = {
  minOtherCalls: 1,
  minOverlapS: 4,
  minMatchedFrames: 25,
};

/** What the policy reads from a model manifest. */
export interface PolicySettings {
  classes: readonly string[];
  thresholds: Readonly<Record<string, number>>;
  persistence: Readonly<Record<string, number>>;
  /** Per class: probability at or above which one window alerts without persistence (absent: none). */
  instant_thresholds?: Readonly<Record<string, number>>;
}

export interface PolicyOptions {
  card?: CardRuleOptions;
  replay?: ReplayRuleOptions;
}

interface KindState {
  run: number;
  runSum: number;
  level: number;
  lastScore: number;
}

export class CallPolicy {
  private readonly classes: readonly string[];
  private readonly thresholds: Float64Array;
  private readonly persistence: Int32Array;
  private readonly instant: Float64Array;
  private readonly state = new Map<AlertKind, KindState>();
  private readonly card: CardRule;
  private readonly replayRule: ReplayRuleOptions;

  constructor(manifest: PolicySettings, options: PolicyOptions = {}) {
    this.classes = manifest.classes;
    this.thresholds = new Float64Array(this.classes.length).fill(2); // > 1: classes without a threshold never fire
    this.persistence = new Int32Array(this.classes.length).fill(1);
    this.instant = new Float64Array(this.classes.length).fill(2); // > 1: no instant tier
    this.classes.forEach((c, i) => {
      if (c === 'legit') return;
      const t = manifest.thresholds[c];
      if (t !== undefined) this.thresholds[i] = t;
      this.persistence[i] = manifest.persistence[c] ?? 1;
      const instant = manifest.instant_thresholds?.[c];
      if (instant !== undefined) this.instant[i] = instant;
    });
    this.card = new CardRule(options.card ?? DEFAULT_CARD_RULE);
    this.replayRule = options.replay ?? DEFAULT_REPLAY_RULE;
  }

  /** One scored window: `probs[offset + c]` is p(classes[c]). Returns the alerts it raises (usually none). */
  scoreWindow(mediaS: number, probs: Float32Array, offset: number): AlertDecision[] {
    let out: AlertDecision[] | null = null;
    for (let c = 0; c < this.classes.length; c++) {
      if (this.thresholds[c] > 1) continue;
      const kind = this.classes[c] as AlertKind;
      const st = this.kindState(kind);
      const p = probs[offset + c];
      if (p < this.thresholds[c]) {
        st.run = 0;
        st.runSum = 0;
        continue;
      }
      st.run++;
      st.runSum += p;
      if (st.run < this.persistence[c] && p < this.instant[c]) continue;
      const score = st.runSum / st.run;
      const evidence: Record<string, unknown> = { windows: st.run, threshold: this.thresholds[c] };
      if (st.run < this.persistence[c]) evidence.instant_threshold = this.instant[c];
      const decision = this.raise(kind, score, mediaS, evidence);
      if (decision) {
        out ??= [];
        out.push(decision);
      }
    }
    return out ?? NO_DECISIONS;
  }

  /** One digit from the merged (in-band + RFC 4733) digit stream of a leg. */
  digit(leg: LegName, digit: string, atS: number): AlertDecision | null {
    const match = this.card.push(leg === 'rx' ? 0 : 1, digit, atS);
    if (!match) return null;
    return this.raise('card_entry', 1, atS, {
      leg,
      digits: match.length,
      last4: match.last4,
      scheme: match.scheme,
      first_digit_s: round(match.firstDigitS),
    });
  }

  /** Cross-call fingerprint evidence: the call's audio is also heard on `otherCalls` other calls. */
  replay(
    mediaS: number,
    otherCalls: number,
    overlapS: number,
    matchedFrames: number,
    evidence: Record<string, unknown>,
  ): AlertDecision | null {
    const rule = this.replayRule;
    if (
      otherCalls < rule.minOtherCalls ||
      overlapS < rule.minOverlapS ||
      matchedFrames < rule.minMatchedFrames
    ) {
      return null;
    }
    // Rule score: saturates as more calls share the audio (1 other call -> 0.75, 3 -> 0.94).
    const score = 1 - 0.25 ** otherCalls;
    return this.raise('replay', score, mediaS, {
      other_calls: otherCalls,
      overlap_s: round(overlapS),
      matched_frames: matchedFrames,
      ...evidence,
    });
  }

  /** An externally scored signal (e.g. transcript risk) under the same one-alert-per-kind discipline. */
  external(
    kind: AlertKind,
    score: number,
    mediaS: number,
    evidence: Record<string, unknown>,
  ): AlertDecision | null {
    return this.raise(kind, score, mediaS, evidence);
  }

  private raise(
    kind: AlertKind,
    score: number,
    mediaS: number,
    evidence: Record<string, unknown>,
  ): AlertDecision | null {
    const st = this.kindState(kind);
    if (st.level >= 0 && (st.level >= MAX_LEVEL || score < st.lastScore + ESCALATION_STEP)) return null;
    st.level++;
    st.lastScore = score;
    return { kind, score: round(score), level: st.level, mediaS: round(mediaS), evidence };
  }

  private kindState(kind: AlertKind): KindState {
    let st = this.state.get(kind);
    if (!st) {
      st = { run: 0, runSum: 0, level: -1, lastScore: 0 };
      this.state.set(kind, st);
    }
    return st;
  }
}

const NO_DECISIONS: AlertDecision[] = [];

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
