import type { DetectorEvent } from '../dsp/detector-event.ts';
import type { ReplayStatus } from '../dsp/fingerprint/replay-index.ts';
import type { AlertDecision } from './alert.ts';
import { CallPolicy, type PolicyOptions, type PolicySettings } from './policy.ts';

/**
 * Feeds one call's scored windows and detector events to its policy, the same way live and offline: a window
 * brings model probabilities and the cross-call replay status; a digit event brings the card rule's input at
 * the moment the digit is known (its end).
 */
export class CallJudge {
  private readonly policy: CallPolicy;

  constructor(manifest: PolicySettings, options?: PolicyOptions) {
    this.policy = new CallPolicy(manifest, options);
  }

  window(
    mediaS: number,
    probs: Float32Array,
    offset: number,
    replay: ReplayStatus,
    out: AlertDecision[],
  ): void {
    for (const d of this.policy.scoreWindow(mediaS, probs, offset)) out.push(d);
    if (replay.matchedCalls > 0) {
      const d = this.policy.replay(
        mediaS,
        replay.matchedCalls,
        replay.bestOverlapS,
        replay.bestMatchedFrames,
        {
          best_match: replay.bestCallKey,
        },
      );
      if (d) out.push(d);
    }
  }

  event(event: DetectorEvent, out: AlertDecision[]): void {
    if (event.type !== 'dtmf') return;
    const d = this.policy.digit(event.leg, event.value, event.at_s + event.dur_s);
    if (d) out.push(d);
  }
}

export interface JudgeInput {
  windowTimes: readonly number[];
  replay: readonly ReplayStatus[];
  events: readonly DetectorEvent[];
}

/** Alerts for a whole analysed call, in time order: windows and digit events interleaved by media time. */
export function judgeCall(
  input: JudgeInput,
  probs: Float32Array,
  classCount: number,
  manifest: PolicySettings,
  options?: PolicyOptions,
): AlertDecision[] {
  const judge = new CallJudge(manifest, options);
  const out: AlertDecision[] = [];
  let e = 0;
  for (let w = 0; w < input.windowTimes.length; w++) {
    const t = input.windowTimes[w];
    while (e < input.events.length && input.events[e].at_s + input.events[e].dur_s <= t)
      judge.event(input.events[e++], out);
    judge.window(t, probs, w * classCount, input.replay[w], out);
  }
  while (e < input.events.length) judge.event(input.events[e++], out);
  return out;
}

/**
 * The call's verdict (a CONTRACTS §2 label). A card number keyed on the call decides it (`card_entry` is a
 * deterministic rule and the most urgent finding); otherwise the kind of its first alert that names a label;
 * a call flagged only as `replay` (its audio heard on other calls) is a `robocall`; no alert is `legit`.
 */
export function verdictOf(decisions: readonly AlertDecision[]): string {
  if (decisions.some((d) => d.kind === 'card_entry')) return 'card_entry';
  for (const d of decisions) {
    if (d.kind === 'robocall' || d.kind === 'pumping' || d.kind === 'fax_modem') return d.kind;
  }
  return decisions.some((d) => d.kind === 'replay') ? 'robocall' : 'legit';
}

/**
 * Whether an alert of `kind` detects a call labelled `label`: its own kind, and for a robocall also `replay` (the
 * recording heard on other calls), as verdictOf counts it. Time to detect runs to the first such alert.
 */
export function detectsLabel(kind: string, label: string): boolean {
  return kind === label || (label === 'robocall' && kind === 'replay');
}
