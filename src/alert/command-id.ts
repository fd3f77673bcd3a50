import { createHash } from 'node:crypto';

/** Namespace of forkguard's name-based UUIDs (RFC 9562 version 5), fixed forever so ids stay stable. */
const FORKGUARD_NAMESPACE = Buffer.from('6f1d0c2e9b7a4d5e8c3f2a1b0e9d8c7b', 'hex');

/** RFC 9562 UUIDv5 of `name` in forkguard's namespace: the same name always gives the same id. */
export function uuidV5(name: string): string {
  const digest = createHash('sha1').update(FORKGUARD_NAMESPACE).update(name, 'utf8').digest();
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Telnyx ignores a repeated command with the same `command_id` on the same call, so deriving it from the alert
 * and the action makes every retry, redelivery or second worker harmless.
 */
export function actionCommandId(alertId: string, action: string): string {
  return uuidV5(`action|${alertId}|${action}`);
}
