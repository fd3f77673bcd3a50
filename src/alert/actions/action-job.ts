import type { ActionName, AlertKind } from '../alert.ts';

/** Internal queue between the alert producer and the action worker (not part of the public contract). */
export const ACTION_QUEUE = 'forkguard-actions';

/** One Telnyx command to carry out; the BullMQ job id is `command_id`, so a repeat is a no-op. */
export interface ActionJobData {
  v: 1;
  action: ActionName;
  alert_id: string;
  kind: AlertKind;
  call_control_id: string;
  command_id: string;
  stream: string;
}
