import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_QUEUE } from '../../src/alert/actions/action-job.ts';
import { ActionWorker } from '../../src/alert/actions/action-worker.ts';
import type { Alert } from '../../src/alert/alert.ts';
import { alertId } from '../../src/alert/alert-id.ts';
import { AlertProducer } from '../../src/alert/alert-producer.ts';
import { actionCommandId } from '../../src/alert/command-id.ts';
import { metricsRegistry } from '../../src/service/metrics-registry.ts';
import { createTelnyxClient } from '../../src/telnyx/telnyx-client.ts';
import { reply, TelnyxStandIn } from '../support/telnyx-stand-in.ts';
import { deleteKeys } from './redis-child.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `fgtest-actions-${process.pid}`;
const API_KEY = 'KEY_test_actions';

let standIn: TelnyxStandIn;
let producer: AlertProducer;
let worker: ActionWorker;
let events: QueueEvents;
let actionQueue: Queue;

function alertFor(callControlId: string, kind: Alert['kind'], actions: Alert['actions']): Alert {
  return {
    v: 1,
    id: alertId(callControlId, kind, 0),
    kind,
    score: 0.95,
    level: 0,
    call_control_id: callControlId,
    call_leg_id: 'leg',
    call_session_id: 'session',
    stream: 'udp:40010',
    media_s: 3,
    at: new Date().toISOString(),
    model: 'test@1',
    evidence: {},
    actions,
  };
}

/** Publishes the alert and resolves with the action job's final state. */
async function runAction(alert: Alert): Promise<Job> {
  const commandId = actionCommandId(alert.id, alert.actions[0]);
  const finished = new Promise<void>((resolve) => {
    const onDone = ({ jobId }: { jobId: string }) => {
      if (jobId !== commandId) return;
      events.off('completed', onDone);
      events.off('failed', onDone);
      resolve();
    };
    events.on('completed', onDone);
    events.on('failed', onDone);
  });
  producer.publish(alert);
  await finished;
  const found = await actionQueue.getJob(commandId);
  if (!found) throw new Error(`job ${commandId} not found`);
  return found;
}

beforeAll(async () => {
  standIn = await TelnyxStandIn.start();
  const telnyx = createTelnyxClient({ apiKey: API_KEY, baseURL: standIn.baseURL });
  producer = new AlertProducer({ redisUrl: REDIS_URL, prefix: PREFIX });
  worker = new ActionWorker({
    telnyx,
    redisUrl: REDIS_URL,
    prefix: PREFIX,
    backoffBaseMs: 100,
    limiter: { max: 50, duration: 1000 },
  });
  events = new QueueEvents(ACTION_QUEUE, { connection: { url: REDIS_URL }, prefix: PREFIX });
  await events.waitUntilReady();
  actionQueue = new Queue(ACTION_QUEUE, { connection: { url: REDIS_URL }, prefix: PREFIX });
});

afterAll(async () => {
  await worker.close();
  await producer.close({ flushTimeoutMs: 1000 });
  await events.close();
  await actionQueue.close();
  await standIn.close();
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, `${PREFIX}*`);
  redis.disconnect();
});

describe('ActionWorker against the Telnyx stand-in', () => {
  it('starts transcription with the planned parameters, the API key and a deterministic command_id', async () => {
    const alert = alertFor('v3:call-ok', 'robocall', ['start_transcription']);
    const job = await runAction(alert);
    expect(job.returnvalue).toEqual({ outcome: 'ok' });
    const [request] = standIn.requestsTo('/calls/v3:call-ok/actions/transcription_start');
    expect(request.method).toBe('POST');
    expect(request.rawPath).toBe('/v2/calls/v3:call-ok/actions/transcription_start');
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.headers['content-type']).toMatch(/application\/json/);
    expect(request.body).toEqual({
      command_id: actionCommandId(alert.id, 'start_transcription'),
      transcription_engine: 'Telnyx',
      transcription_tracks: 'both',
    });
  });

  it('acts exactly once after a 429 with Retry-After, reusing the command_id', async () => {
    const path = '/calls/call-429/actions/fork_stop';
    standIn.script(path, reply.rateLimited(1), reply.ok());
    const alert = alertFor('call-429', 'card_entry', ['stop_forking']);
    const job = await runAction(alert);
    expect(job.returnvalue).toEqual({ outcome: 'ok' });
    const requests = standIn.requestsTo(path);
    expect(requests).toHaveLength(2);
    const commandId = actionCommandId(alert.id, 'stop_forking');
    expect(requests.map((r) => (r.body as { command_id: string }).command_id)).toEqual([
      commandId,
      commandId,
    ]);
    // the backoff waited what Retry-After asked, not the 100 ms exponential base
    expect(requests[1].receivedAtMs - requests[0].receivedAtMs).toBeGreaterThanOrEqual(950);
    // a second publication of the same alert is a no-op: still one successful command
    producer.publish(alert);
    await producer.flush(5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(standIn.requestsTo(path)).toHaveLength(2);
  });

  it('retries a 500 and succeeds', async () => {
    const path = '/calls/call-500/actions/hangup';
    standIn.script(path, reply.serverError(), reply.ok());
    const job = await runAction(alertFor('call-500', 'pumping', ['hangup']));
    expect(job.returnvalue).toEqual({ outcome: 'ok' });
    expect(standIn.requestsTo(path)).toHaveLength(2);
  });

  it('fails a 422 at once with the API reason and does not retry', async () => {
    const path = '/calls/call-422/actions/fork_stop';
    standIn.script(path, reply.invalid('stream_type is invalid'));
    const job = await runAction(alertFor('call-422', 'fax_modem', ['stop_forking']));
    expect(await job.getState()).toBe('failed');
    expect(job.failedReason).toMatch(/422 .*stream_type is invalid/);
    await new Promise((r) => setTimeout(r, 500));
    expect(standIn.requestsTo(path)).toHaveLength(1);
  });

  it('records a call that already ended as the call_ended outcome, not a failure', async () => {
    const path = '/calls/call-gone/actions/fork_stop';
    standIn.script(path, reply.callEnded());
    const job = await runAction(alertFor('call-gone', 'card_entry', ['stop_forking']));
    expect(job.returnvalue).toMatchObject({ outcome: 'call_ended', reason: expect.stringMatching(/90018/) });
    expect(standIn.requestsTo(path)).toHaveLength(1);
    const metrics = await metricsRegistry.getSingleMetricAsString('forkguard_actions_total');
    expect(metrics).toMatch(/forkguard_actions_total\{action="stop_forking",outcome="call_ended"\} 1/);
    expect(metrics).toMatch(/forkguard_actions_total\{action="stop_forking",outcome="retry"\} 1/);
    expect(metrics).toMatch(/forkguard_actions_total\{action="stop_forking",outcome="rejected"\} 1/);
  });
});
