import type { ActionMap } from '../../alert/action-plan.ts';
import type { Alert } from '../../alert/alert.ts';
import { buildAlert } from '../../alert/build-alert.ts';
import { type TranscriptRiskOptions, TranscriptRiskTracker } from '../../alert/transcript-risk.ts';
import type { ForkController } from '../forks/fork-controller.ts';
import type { ForkSessionHooks } from '../forks/session-hooks.ts';
import type { Logger } from '../logger.ts';

/** The part of a Telnyx webhook envelope forkguard reads. */
export interface TelnyxWebhookEvent {
  data: {
    id: string;
    event_type: string;
    occurred_at?: string;
    payload?: {
      call_control_id?: string;
      call_leg_id?: string;
      call_session_id?: string;
      transcription_data?: {
        transcript?: string;
        is_final?: boolean;
        confidence?: number | null;
        transcription_track?: string;
      };
      [field: string]: unknown;
    };
  };
}

export const HANDLED_EVENT_TYPES = [
  'call.fork.started',
  'call.fork.stopped',
  'call.hangup',
  'call.transcription',
  'call.answered',
  'streaming.started',
  'streaming.stopped',
  'streaming.failed',
] as const;

/** Name and version of the transcript rule set, written into `transcript_risk` alerts' `model`. */
export const TRANSCRIPT_RULES_MODEL = 'transcript-rules@1';

export interface WebhookEventDeps {
  sessions: ForkSessionHooks;
  alerts: { publish(alert: Alert): void } | null;
  forks: ForkController | null;
  /** Fork calls on `call.answered` (needs `forks`). Default false. */
  autoForkOnAnswer?: boolean;
  /** Announce `strep:<call_leg_id>` with the call's ids on `call.fork.started` (nodes taking STREP forks). */
  announceStrep?: boolean;
  transcriptRisk?: TranscriptRiskOptions;
  actionMap?: ActionMap;
  logger: Logger;
  nowMs: () => number;
}

/** Acts on verified, deduplicated webhook events. Returns what it did, for metrics and tests. */
export function createWebhookEventProcessor(
  deps: WebhookEventDeps,
): (event: TelnyxWebhookEvent) => Promise<string> {
  const transcripts = new TranscriptRiskTracker(deps.transcriptRisk);
  const log = deps.logger;

  return async function processEvent(event: TelnyxWebhookEvent): Promise<string> {
    const type = event.data.event_type;
    const payload = event.data.payload ?? {};
    const callControlId = payload.call_control_id ?? null;
    const callLegId = payload.call_leg_id ?? null;
    const callSessionId = payload.call_session_id ?? null;

    switch (type) {
      case 'call.fork.started': {
        if (callControlId && deps.forks?.identify(callControlId, callLegId, callSessionId))
          return 'identified';
        if (deps.announceStrep && callLegId) {
          deps.sessions.announce({ stream: `strep:${callLegId}`, callControlId, callLegId, callSessionId });
          return 'announced';
        }
        return 'not_local';
      }
      case 'call.fork.stopped':
        return callControlId && (await deps.forks?.ended(callControlId)) ? 'ended' : 'not_local';
      case 'call.hangup': {
        if (!callControlId) return 'ignored';
        transcripts.end(callControlId);
        if (deps.announceStrep && callLegId) deps.sessions.end(`strep:${callLegId}`, 'request');
        return (await deps.forks?.ended(callControlId)) ? 'ended' : 'not_local';
      }
      case 'call.transcription':
        return onTranscription(callControlId, callLegId, callSessionId, payload.transcription_data);
      case 'call.answered': {
        if (!deps.autoForkOnAnswer || !deps.forks || !callControlId) return 'ignored';
        await deps.forks.start({ callControlId, callLegId, callSessionId });
        return 'forked';
      }
      default:
        if (type.startsWith('streaming.')) {
          log.info({ type, callControlId, payload }, 'telnyx streaming event');
          return 'logged';
        }
        return 'ignored';
    }
  };

  function onTranscription(
    callControlId: string | null,
    callLegId: string | null,
    callSessionId: string | null,
    data: NonNullable<TelnyxWebhookEvent['data']['payload']>['transcription_data'],
  ): string {
    if (!callControlId || typeof data?.transcript !== 'string') return 'ignored';
    const result = transcripts.addSegment(callControlId, data.transcript, data.is_final === true);
    if (!result) return 'interim';
    if (!result.raise) return 'scored';
    const fork = deps.forks?.get(callControlId);
    const alert = buildAlert(
      {
        kind: 'transcript_risk',
        score: Math.min(1, result.score),
        level: result.raise.level,
        mediaS: 0,
        // Category and rule names only: transcript text may hold card numbers or codes (CONTRACTS §3).
        evidence: {
          categories: result.categories,
          rules: result.rules,
          final_segments: result.finalSegments,
        },
      },
      {
        identity: {
          stream: fork?.stream ?? `transcription:${callControlId}`,
          callControlId,
          callLegId: callLegId ?? fork?.callLegId ?? null,
          callSessionId: callSessionId ?? fork?.callSessionId ?? null,
        },
        model: TRANSCRIPT_RULES_MODEL,
        nowMs: deps.nowMs(),
        actionMap: deps.actionMap,
      },
    );
    deps.alerts?.publish(alert);
    log.warn(
      { callControlId, score: result.score, level: result.raise.level, categories: result.categories },
      'transcript risk',
    );
    return 'alerted';
  }
}
