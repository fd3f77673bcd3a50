/**
 * Which calls one concurrency step sends, when and where.
 *
 * Every slot keeps one call going for the whole step: slot i starts i/N of a second in (so the N calls start
 * over the first second, at spread 20 ms phases) and plays recordings back to back, taking the next recording
 * of the selection each time. A call that is still playing when the step ends is cut there.
 *
 * Unannounced calls are named by their port pair (`udp:P`), and a session ends only after the service's idle
 * time, so consecutive calls of a slot alternate between two pairs (slot i uses pair i, then pair N_max + i):
 * when a pair is used again, a whole call has passed since its last packet, and the new call opens a new session.
 */
import type { BenchRecording } from './bench-corpus.ts';
import type { SenderCall } from './native-sender.ts';

/** Spread of the call starts at the beginning of a step. */
export const RAMP_MS = 1000;

export interface PlannedCall extends SenderCall {
  slot: number;
  /** Media actually sent (ms): the recording's length, or less when the step cut it. */
  playedMs: number;
  /** True when the whole recording (as loaded) was sent. */
  complete: boolean;
}

export interface StepPlan {
  concurrency: number;
  durationMs: number;
  calls: PlannedCall[];
}

/** Port pairs a run with at most `maxConcurrency` calls needs (two per slot). */
export function pairsNeeded(maxConcurrency: number): number {
  return 2 * maxConcurrency;
}

/**
 * Plans a step of `concurrency` calls for `durationMs`, using recordings from `cursor` on (wrapping), with
 * pairs numbered from `firstPort` for a run whose largest step is `maxConcurrency`. Returns the plan and the
 * cursor for the next step, so consecutive steps go on through the selection.
 */
export function planStep(options: {
  concurrency: number;
  maxConcurrency: number;
  durationMs: number;
  recordings: readonly BenchRecording[];
  firstPort: number;
  cursor: number;
}): { plan: StepPlan; cursor: number } {
  const { concurrency, durationMs, recordings } = options;
  if (recordings.length === 0) throw new Error('no recordings to replay');
  if (concurrency > options.maxConcurrency) throw new Error('step above the planned maximum');
  let cursor = options.cursor;
  // Every slot's first call, then every slot's second, ...: the order calls start in, so that the selection is
  // used evenly across slots rather than slot 0 taking the first recordings back to back.
  const next = new Array<number>(concurrency);
  const used = new Array<number>(concurrency).fill(0);
  for (let s = 0; s < concurrency; s++) next[s] = (s * RAMP_MS) / concurrency;
  const calls: PlannedCall[] = [];
  for (;;) {
    let slot = -1;
    for (let s = 0; s < concurrency; s++)
      if (next[s] < durationMs && (slot < 0 || next[s] < next[slot])) slot = s;
    if (slot < 0) break;
    const index = cursor % recordings.length;
    cursor++;
    const recording = recordings[index];
    const startMs = next[slot];
    const playedMs = Math.min(recording.durationMs, durationMs - startMs);
    const pair = slot + (used[slot] % 2) * options.maxConcurrency;
    calls.push({
      recording: index,
      startMs,
      stopMs: durationMs,
      rxPort: options.firstPort + 2 * pair,
      slot,
      playedMs,
      complete: playedMs >= recording.durationMs,
    });
    used[slot]++;
    next[slot] = startMs + recording.durationMs;
  }
  return { plan: { concurrency, durationMs, calls }, cursor };
}
