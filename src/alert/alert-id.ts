import type { AlertKind } from './alert.ts';

/**
 * `<call key>:<kind>:<level>` (alert.ts). BullMQ accepts a custom job id with a colon only when it splits into
 * exactly three parts, and call keys (`udp:40000`, Telnyx `v3:…` call control ids) carry colons of their own,
 * so the call key is percent-escaped: `%` -> `%25`, `:` -> `%3A`. The mapping is reversible and stable.
 */
export function alertId(callKey: string, kind: AlertKind, level: number): string {
  return `${escapeCallKey(callKey)}:${kind}:${level}`;
}

export function escapeCallKey(callKey: string): string {
  return callKey.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/** The call an alert is about: the Telnyx call when known, else the media stream. */
export function callKeyOf(identity: { callControlId: string | null; stream: string }): string {
  return identity.callControlId ?? identity.stream;
}

/** Why `id` cannot be a BullMQ job id, or null when it can. */
export function jobIdProblem(id: string): string | null {
  if (id.length === 0) return 'empty id';
  if (`${Number.parseInt(id, 10)}` === id) return 'an integer id is not allowed by BullMQ';
  if (id.includes(':') && id.split(':').length !== 3)
    return 'a colon is allowed only as <key>:<kind>:<level>';
  return null;
}
