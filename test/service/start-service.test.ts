import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionCommandId } from '../../src/alert/command-id.ts';
import { DROP_REASON_NAMES } from '../../src/ingest/drop-reasons.ts';
import { PACKET_SAMPLE_EVERY } from '../../src/telemetry/stage-clock.ts';
import { makeSigningKey, signWebhook, telnyxEvent } from '../http/webhook-signing.ts';
import { TelnyxStandIn } from '../support/telnyx-stand-in.ts';
import { metricValue } from './metrics-text.ts';
import { cardEntryCall, sendCalls, TEST_CARD } from './rtp-calls.ts';
import { type ServiceChild, TestService } from './service-child.ts';

// Ports and prefixes unique to this file.
const RTP_FIRST = 23100;
const RTP_LAST = 23109;
const API_KEY = 'KEY_service_secret_0123';
const TOKEN = 'svc-token-secret-4567';
const CALL = { call_control_id: 'v3:svc-call-1', call_leg_id: 'svc-leg-1', call_session_id: 'svc-sess-1' };

const { privateKey, publicKeyBase64 } = makeSigningKey();
let standIn: TelnyxStandIn;
let service: ServiceChild;
let base: string;
const testService = new TestService({ name: 'svc', rtpFirst: RTP_FIRST, rtpLast: RTP_LAST });
const alertJobs = () => testService.alerts();

async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  standIn = await TelnyxStandIn.start();
  testService.options.env = {
    TELNYX_API_KEY: API_KEY,
    TELNYX_PUBLIC_KEY: publicKeyBase64,
    TELNYX_BASE_URL: standIn.baseURL,
    FORKGUARD_API_TOKEN: TOKEN,
    FORKGUARD_PUBLIC_IP: '127.0.0.1',
  };
  service = await testService.start();
  base = testService.base;
});

afterAll(async () => {
  await testService.cleanup();
  await standIn?.close();
});

describe('forkguard start (child process, real Redis, UDP and HTTP)', () => {
  it('forks a call, hears a card number on it and on an unannounced pair, acts, and drains on SIGTERM', async () => {
    // Fork control: a port pair is leased and Telnyx is asked to fork to it.
    const forkRes = await fetch(`${base}/v1/forks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ call_control_id: CALL.call_control_id }),
    });
    expect(forkRes.status).toBe(201);
    const fork = (await forkRes.json()) as { port: number; rx: string; tx: string };
    expect(fork.port).toBeGreaterThanOrEqual(RTP_FIRST);
    expect(fork.port).toBeLessThan(RTP_LAST);
    expect(fork.port % 2).toBe(0);
    const [forkStart] = await standIn.waitForRequests(1, {
      path: `/calls/${CALL.call_control_id}/actions/fork_start`,
    });
    expect(forkStart.body).toMatchObject({
      rx: `udp:127.0.0.1:${fork.port}`,
      tx: `udp:127.0.0.1:${fork.port + 1}`,
    });

    // Telnyx confirms the fork with the leg and session ids (a signed webhook).
    const body = telnyxEvent('call.fork.started', CALL);
    const hook = await fetch(`${base}/webhooks/telnyx`, {
      method: 'POST',
      headers: signWebhook(privateKey, body, Math.floor(Date.now() / 1000)),
      body,
    });
    expect(hook.status).toBe(200);

    // Media: the forked call and a pair nobody announced both carry a keyed card number.
    const unannouncedPort = fork.port === RTP_FIRST ? RTP_FIRST + 2 : RTP_FIRST;
    // Two packets of the unannounced call's tx leg carry G.729 (PT 18), which forkguard reports and does not decode.
    const second = cardEntryCall(2);
    for (const k of [20, 21]) second.tx[k].data[1] = (second.tx[k].data[1] & 0x80) | 18;
    const sent = await sendCalls([fork.port, unannouncedPort], [cardEntryCall(1), second]);

    const alerts = await waitFor(
      'two card_entry alerts',
      alertJobs,
      (a) => a.filter((x) => x.kind === 'card_entry').length >= 2,
    );
    const forked = alerts.find((a) => a.stream === `udp:${fork.port}`);
    expect(forked).toMatchObject({
      v: 1,
      kind: 'card_entry',
      call_control_id: CALL.call_control_id,
      call_leg_id: CALL.call_leg_id,
      call_session_id: CALL.call_session_id,
      model: 'test-tiny@1',
      actions: ['stop_forking'],
    });
    const unannounced = alerts.find((a) => a.stream === `udp:${unannouncedPort}`);
    expect(unannounced).toMatchObject({
      kind: 'card_entry',
      call_control_id: null,
      call_leg_id: null,
      call_session_id: null,
      actions: [],
    });
    for (const alert of alerts) expect(JSON.stringify(alert.evidence)).not.toContain(TEST_CARD);

    // The planned action reached Telnyx once, with the command_id derived from the alert.
    const [stop] = await standIn.waitForRequests(1, {
      path: `/calls/${CALL.call_control_id}/actions/fork_stop`,
    });
    expect(stop.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(stop.body).toEqual({ command_id: actionCommandId(forked!.id, 'stop_forking') });

    // Metrics: contract names with the values this run implies.
    const metrics = await waitFor(
      'the action outcome metric',
      async () => (await fetch(`${base}/metrics`)).text(),
      (t) => metricValue(t, 'forkguard_actions_total', { action: 'stop_forking', outcome: 'ok' }) === 1,
    );
    expect(metricValue(metrics, 'forkguard_rtp_packets_received_total')).toBe(sent);
    for (const reason of DROP_REASON_NAMES) {
      expect(metricValue(metrics, 'forkguard_rtp_packets_dropped_total', { reason })).toBeGreaterThanOrEqual(
        0,
      );
    }
    expect(metricValue(metrics, 'forkguard_rtp_packets_dropped_total', { reason: 'unknown_source' })).toBe(0);
    expect(metricValue(metrics, 'forkguard_sessions_active')).toBe(2);
    // Reported while both calls still run, once for the session.
    expect(metricValue(metrics, 'forkguard_sessions_unsupported_codec_total', { codec: 'g729' })).toBe(1);
    expect(metricValue(metrics, 'forkguard_rtp_packets_dropped_total', { reason: 'unsupported_codec' })).toBe(
      2,
    );
    expect(metricValue(metrics, 'forkguard_alerts_total', { kind: 'card_entry' })).toBe(2);
    expect(metricValue(metrics, 'forkguard_dsp_frames_total')).toBeGreaterThanOrEqual(sent * 0.9);
    // Stage clock: one datagram in PACKET_SAMPLE_EVERY is timed and weighted, so the receive stage's entries are
    // the datagrams to within one sample; the work units count every analysed frame exactly, split between
    // packet-driven and sweep-driven play-out.
    const received = metricValue(metrics, 'forkguard_stage_calls_total', { stage: 'receive' });
    expect(received).toBeLessThanOrEqual(sent);
    expect(received).toBeGreaterThan(sent - PACKET_SAMPLE_EVERY);
    expect(
      metricValue(metrics, 'forkguard_work_units_total', { unit: 'frames_from_packets' }) +
        metricValue(metrics, 'forkguard_work_units_total', { unit: 'frames_from_sweep' }),
    ).toBeGreaterThanOrEqual(sent * 0.9);
    expect(metricValue(metrics, 'forkguard_stage_calls_total', { stage: 'frame' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'forkguard_stage_seconds_total', { stage: 'frame' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'forkguard_stage_seconds_total', { stage: 'decode_g711' })).toBeGreaterThan(
      0,
    );
    expect(metricValue(metrics, 'forkguard_model_windows_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'forkguard_model_runs_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'forkguard_alerts_buffered')).toBe(0);
    expect(
      metricValue(metrics, 'forkguard_queue_jobs', { queue: 'forkguard-alerts', state: 'waiting' }),
    ).toBe(2);

    // SIGTERM: sessions end (last windows scored), alerts flushed, exit 0, nothing lost.
    const code = await service.stop('SIGTERM');
    expect(code).toBe(0);
    const [stopped] = service.logsWith('forkguard stopped');
    expect(stopped).toMatchObject({ lost: 0 });
    const inRedis = await alertJobs();
    expect(inRedis.length).toBe(stopped.alertsRaised);
    expect(service.logsWith('alert raised').length).toBe(inRedis.length);
    const ended = service.logsWith('ingest session ended').map((l) => l.reason);
    expect(ended).toEqual(['shutdown', 'shutdown']);

    // Secrets never reach the logs.
    expect(service.stderr).not.toContain(API_KEY);
    expect(service.stderr).not.toContain(TOKEN);
    expect(service.stderr).not.toContain(publicKeyBase64);
  });
});
