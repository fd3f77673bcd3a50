import { z } from 'zod';

/**
 * The alert as other services consume it from the BullMQ queue (CONTRACTS §3). Fields are only ever added:
 * consumers of version 1 keep working.
 */
export const ALERT_VERSION = 1;
export const ALERT_QUEUE = 'forkguard-alerts';

export const ALERT_KINDS = [
  'robocall',
  'pumping',
  'fax_modem',
  'card_entry',
  'replay',
  'transcript_risk',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ACTION_NAMES = ['stop_forking', 'start_transcription', 'stop_transcription', 'hangup'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export const alertSchema = z.object({
  v: z.literal(ALERT_VERSION),
  /** Deterministic: `<call key>:<kind>:<level>`, also the BullMQ job id, so a repeat is a no-op. */
  id: z.string().min(1),
  kind: z.enum(ALERT_KINDS),
  score: z.number().min(0).max(1),
  /** Escalation level: 0 for the first alert of a kind on a call, +1 for each documented step up. */
  level: z.number().int().min(0),
  call_control_id: z.string().nullable(),
  call_leg_id: z.string().nullable(),
  call_session_id: z.string().nullable(),
  /** Media stream the alert is about (`udp:P`, `strep:<leg id>`); always present. */
  stream: z.string(),
  media_s: z.number().min(0),
  at: z.string().datetime(),
  model: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  actions: z.array(z.enum(ACTION_NAMES)),
});
export type Alert = z.infer<typeof alertSchema>;

/** What the policy decides before the service knows the call's ids and the wall clock. */
export interface AlertDecision {
  kind: AlertKind;
  score: number;
  level: number;
  mediaS: number;
  evidence: Record<string, unknown>;
}
