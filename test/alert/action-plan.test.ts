import { describe, expect, it } from 'vitest';
import { DEFAULT_ACTION_MAP, parseActionMap, planActions } from '../../src/alert/action-plan.ts';
import { alertId, jobIdProblem } from '../../src/alert/alert-id.ts';
import { buildAlert } from '../../src/alert/build-alert.ts';
import { actionCommandId, uuidV5 } from '../../src/alert/command-id.ts';

describe('action planning and ids', () => {
  it('plans defaults per kind, nothing for streams without a call, and parses overrides', () => {
    expect(planActions('card_entry', 'v3:a')).toEqual(['stop_forking']);
    expect(planActions('robocall', 'v3:a')).toEqual(['start_transcription']);
    expect(planActions('transcript_risk', 'v3:a')).toEqual([]);
    expect(planActions('pumping', null)).toEqual([]);
    const map = parseActionMap('pumping=stop_forking+hangup, robocall=none');
    expect(map.pumping).toEqual(['stop_forking', 'hangup']);
    expect(map.robocall).toEqual([]);
    expect(map.card_entry).toEqual(DEFAULT_ACTION_MAP.card_entry);
    expect(() => parseActionMap('pumping=explode')).toThrow(/unknown action "explode"/);
    expect(() => parseActionMap('spam=hangup')).toThrow(/kind one of/);
  });

  it('derives ids BullMQ accepts and command ids that are stable UUIDv5s', () => {
    const id = alertId('udp:40000', 'pumping', 2);
    expect(id).toBe('udp%3A40000:pumping:2');
    expect(jobIdProblem(id)).toBeNull();
    expect(jobIdProblem('udp:40000:pumping:2')).not.toBeNull();
    expect(alertId('a%3Ab', 'robocall', 0)).not.toBe(alertId('a:b', 'robocall', 0));
    const commandId = actionCommandId(id, 'stop_forking');
    expect(commandId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(actionCommandId(id, 'stop_forking')).toBe(commandId);
    expect(actionCommandId(id, 'hangup')).not.toBe(commandId);
    expect(uuidV5('x')).not.toBe(uuidV5('y'));
  });

  it('builds a schema-valid alert from a policy decision', () => {
    const alert = buildAlert(
      { kind: 'fax_modem', score: 0.91, level: 0, mediaS: 2.5, evidence: { tone: 'ced' } },
      {
        identity: { stream: 'udp:40002', callControlId: 'v3:x', callLegId: 'l', callSessionId: 's' },
        model: 'fg@1',
        nowMs: Date.UTC(2026, 10, 23, 10),
      },
    );
    expect(alert).toEqual({
      v: 1,
      id: 'v3%3Ax:fax_modem:0',
      kind: 'fax_modem',
      score: 0.91,
      level: 0,
      call_control_id: 'v3:x',
      call_leg_id: 'l',
      call_session_id: 's',
      stream: 'udp:40002',
      media_s: 2.5,
      at: '2026-11-23T10:00:00.000Z',
      model: 'fg@1',
      evidence: { tone: 'ced' },
      actions: ['stop_forking'],
    });
  });
});
