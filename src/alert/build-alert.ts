import type { CallIdentity } from '../ingest/media-sink.ts';
import { type ActionMap, planActions } from './action-plan.ts';
import { ALERT_VERSION, type Alert, type AlertDecision, alertSchema } from './alert.ts';
import { alertId, callKeyOf } from './alert-id.ts';

export interface BuildAlertContext {
  identity: CallIdentity;
  /** `name@version` of the model or rule set that decided. */
  model: string;
  /** Wall-clock time of the decision, ms since the epoch. */
  nowMs: number;
  actionMap?: ActionMap;
  /**
   * Overrides the call key of the alert id. An unannounced stream (`udp:P`) is reused by many calls over time,
   * so its caller passes a key unique to the session; otherwise a later call's alert would be taken for a repeat.
   */
  callKey?: string;
}

/** The queue payload for a policy decision on a known call (validated: a bad decision throws here, not in Redis). */
export function buildAlert(decision: AlertDecision, context: BuildAlertContext): Alert {
  const { identity } = context;
  return alertSchema.parse({
    v: ALERT_VERSION,
    id: alertId(context.callKey ?? callKeyOf(identity), decision.kind, decision.level),
    kind: decision.kind,
    score: decision.score,
    level: decision.level,
    call_control_id: identity.callControlId,
    call_leg_id: identity.callLegId,
    call_session_id: identity.callSessionId,
    stream: identity.stream,
    media_s: decision.mediaS,
    at: new Date(context.nowMs).toISOString(),
    model: context.model,
    evidence: decision.evidence,
    actions: planActions(decision.kind, identity.callControlId, context.actionMap),
  });
}
