import { ACTION_NAMES, type ActionName, ALERT_KINDS, type AlertKind } from './alert.ts';

export type ActionMap = Record<AlertKind, readonly ActionName[]>;

/**
 * What forkguard does on Telnyx for each alert kind unless configured otherwise:
 * - card_entry, pumping, fax_modem: stop forking. Card digits are sensitive media forkguard should not keep
 *   receiving; a pumped or fax call has nothing more to tell and only costs bandwidth.
 * - robocall, replay: start transcription so the content can be judged (transcript_risk closes the loop).
 * - transcript_risk: nothing by default; it is a signal for people and downstream services.
 * hangup is never a default: ending a customer's call is the operator's decision (opt in per kind).
 */
export const DEFAULT_ACTION_MAP: ActionMap = {
  robocall: ['start_transcription'],
  pumping: ['stop_forking'],
  fax_modem: ['stop_forking'],
  card_entry: ['stop_forking'],
  replay: ['start_transcription'],
  transcript_risk: [],
};

/**
 * Parses `kind=action+action,kind=none` (e.g. `FORKGUARD_ACTIONS=pumping=stop_forking+hangup`) over the
 * defaults. Throws an Error naming the bad part.
 */
export function parseActionMap(text: string, base: ActionMap = DEFAULT_ACTION_MAP): ActionMap {
  const map: ActionMap = { ...base };
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const kind = item.slice(0, eq).trim();
    if (eq < 0 || !(ALERT_KINDS as readonly string[]).includes(kind)) {
      throw new Error(
        `action map: "${item}" must be <kind>=<action>[+<action>] with kind one of ${ALERT_KINDS.join(', ')}`,
      );
    }
    const actions = item
      .slice(eq + 1)
      .split('+')
      .map((a) => a.trim())
      .filter((a) => a !== '' && a !== 'none');
    for (const action of actions) {
      if (!(ACTION_NAMES as readonly string[]).includes(action)) {
        throw new Error(
          `action map: unknown action "${action}" for ${kind} (one of ${ACTION_NAMES.join(', ')}, none)`,
        );
      }
    }
    map[kind as AlertKind] = actions as ActionName[];
  }
  return map;
}

/** Actions for one alert. A stream no fork announced has no call to act on, so it plans nothing. */
export function planActions(
  kind: AlertKind,
  callControlId: string | null,
  map: ActionMap = DEFAULT_ACTION_MAP,
): ActionName[] {
  if (callControlId === null) return [];
  return [...map[kind]];
}
