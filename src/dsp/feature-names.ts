import { TONE_VALUES } from './detector-event.ts';

/**
 * The feature vector a call's window carries to the model: names and order. This list is the single source of
 * truth; the model manifest is checked against it and the window aggregator writes by these names.
 *
 * Naming: `<leg>_<scope>_<stat>` for per-leg frame statistics, scope `recent` (the last few seconds) or `call`
 * (since the call began). Units are in the name (`_db`, `_khz`, `_s`, `_st` semitones); counts and durations that
 * grow without bound are `_log1p` (natural log of 1 + value) so every feature stays within a few tens.
 */
export const LEG_PREFIXES = ['rx', 'tx'] as const;
export const SCOPES = ['recent', 'call'] as const;

/** Per-leg frame statistics, in the order the aggregator writes them for each leg and scope. */
export const LEG_STATS = [
  'level_db_mean',
  'level_db_std',
  'centroid_khz_mean',
  'centroid_khz_std',
  'flatness_mean',
  'flatness_std',
  'zcr_khz_mean',
  'voicing_mean',
  'voiced_frac',
  'pitch_st_std',
  'pitch_jump_st',
  'tilt_db_mean',
  'band_mod_db',
  'clip_frac',
  'speech_frac',
  'speech_prob_mean',
  'tonality_mean',
  'snr_db_mean',
  'fingerprint_frac',
] as const;

export const CONVERSATION_FEATURES = [
  'rx_talk_frac_recent',
  'tx_talk_frac_recent',
  'double_talk_frac_recent',
  'mutual_silence_frac_recent',
  'turns_recent_log1p',
  'rx_talk_frac',
  'tx_talk_frac',
  'double_talk_frac',
  'mutual_silence_frac',
  'talk_balance',
  'turns_log1p',
  'turns_per_min',
  'turn_gap_median_s',
  'turn_gap_p90_s',
  'rx_response_median_s',
  'rx_responses_log1p',
  'tx_response_median_s',
  'tx_responses_log1p',
  'rx_yield_rate',
  'rx_talkovers_log1p',
  'tx_yield_rate',
  'tx_talkovers_log1p',
  'rx_longest_monologue_log1p_s',
  'tx_longest_monologue_log1p_s',
] as const;

export const TONE_NAMES = Object.keys(TONE_VALUES) as (keyof typeof TONE_VALUES)[];

/** Per-leg detector, loop and transport features, in the order written for each leg. */
export const LEG_EVENT_FEATURES = [
  'digits_log1p',
  'digits_recent_log1p',
  ...TONE_NAMES.map((t) => `tone_${t}_log1p`),
  'tone_time_frac',
  'loop_score',
  'loop_period_s',
  'loop_max_score',
  'loss_frac',
  'late_frac',
  'jitter_log1p_ms',
  'present_frac',
] as const;

export const CALL_FEATURES = ['replay_calls_log1p', 'replay_overlap_log1p_s', 'elapsed_log1p_s'] as const;

function buildNames(): string[] {
  const names: string[] = [];
  for (const leg of LEG_PREFIXES) {
    for (const scope of SCOPES) for (const stat of LEG_STATS) names.push(`${leg}_${scope}_${stat}`);
  }
  names.push(...CONVERSATION_FEATURES);
  for (const leg of LEG_PREFIXES) for (const f of LEG_EVENT_FEATURES) names.push(`${leg}_${f}`);
  names.push(...CALL_FEATURES);
  return names;
}

export const FEATURE_NAMES: readonly string[] = Object.freeze(buildNames());

const INDEX = new Map(FEATURE_NAMES.map((name, i) => [name, i]));

/** Position of a feature in the vector; throws for an unknown name so a typo fails at construction, not silently. */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature name: ${name}`);
  return i;
}
