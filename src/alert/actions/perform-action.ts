import type { ActionStartTranscriptionParams } from 'telnyx/resources/calls/actions';
import type { TelnyxClient } from '../../telnyx/telnyx-client.ts';
import type { ActionJobData } from './action-job.ts';

export interface TranscriptionSettings {
  /** Speech engine for `start_transcription` (default `Telnyx`). */
  engine: NonNullable<ActionStartTranscriptionParams['transcription_engine']>;
  /** Which legs to transcribe (default `both`: the scam is in what the far end says and what the victim answers). */
  tracks: 'inbound' | 'outbound' | 'both';
}

export const DEFAULT_TRANSCRIPTION: TranscriptionSettings = { engine: 'Telnyx', tracks: 'both' };

/** One Telnyx command for one action job; `command_id` makes a repeat of it a no-op at Telnyx. */
export async function performAction(
  telnyx: TelnyxClient,
  job: ActionJobData,
  transcription: TranscriptionSettings = DEFAULT_TRANSCRIPTION,
): Promise<void> {
  const actions = telnyx.calls.actions;
  const id = job.call_control_id;
  const command_id = job.command_id;
  switch (job.action) {
    case 'stop_forking':
      await actions.stopForking(id, { command_id });
      return;
    case 'start_transcription':
      await actions.startTranscription(id, {
        command_id,
        transcription_engine: transcription.engine,
        transcription_tracks: transcription.tracks,
      });
      return;
    case 'stop_transcription':
      await actions.stopTranscription(id, { command_id });
      return;
    case 'hangup':
      await actions.hangup(id, { command_id });
      return;
  }
}
