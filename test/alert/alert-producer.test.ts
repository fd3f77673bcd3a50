import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACTION_QUEUE } from '../../src/alert/actions/action-job.ts';
import type { Alert } from '../../src/alert/alert.ts';
import { ALERT_QUEUE } from '../../src/alert/alert.ts';
import { alertId } from '../../src/alert/alert-id.ts';
import { AlertProducer } from '../../src/alert/alert-producer.ts';
import { actionCommandId } from '../../src/alert/command-id.ts';
import { metricsRegistry } from '../../src/service/metrics-registry.ts';
import { deleteKeys, RedisChild } from './redis-child.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `fgtest-producer-${process.pid}`;

function alert(callKey: string, kind: Alert['kind'], level: number, callControlId: string | null): Alert {
  return {
    v: 1,
    id: alertId(callKey, kind, level),
    kind,
    score: 0.9,
    level,
    call_control_id: callControlId,
    call_leg_id: callControlId ? 'leg-1' : null,
    call_session_id: callControlId ? 'session-1' : null,
    stream: 'udp:40000',
    media_s: 4.2,
    at: new Date(0).toISOString(),
    model: 'test@1',
    evidence: { note: 'test' },
    actions: callControlId ? ['start_transcription'] : [],
  };
}

describe('AlertProducer', () => {
  const toClose: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    for (const item of toClose.splice(0)) await item.close();
  });
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, `${PREFIX}*`);
    redis.disconnect();
  });

  it('writes one job per alert id, named by kind, with the validated payload and its action jobs', async () => {
    const prefix = `${PREFIX}-dedup`;
    const producer = new AlertProducer({ redisUrl: REDIS_URL, prefix });
    toClose.push(producer);
    const first = alert('v3:call-a', 'robocall', 0, 'v3:call-a');
    producer.publish(first);
    producer.publish(first);
    expect(await producer.flush(10_000)).toBe(true);
    // a second producer (another process) repeating the alert is a no-op too
    const other = new AlertProducer({ redisUrl: REDIS_URL, prefix });
    other.publish(first);
    expect(await other.flush(10_000)).toBe(true);
    await other.close();

    const queue = new Queue(ALERT_QUEUE, { connection: { url: REDIS_URL }, prefix });
    toClose.push(queue);
    const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0].id).toBe('v3%3Acall-a:robocall:0');
    expect(jobs[0].name).toBe('robocall');
    expect(jobs[0].data).toEqual(first);

    const actions = new Queue(ACTION_QUEUE, { connection: { url: REDIS_URL }, prefix });
    toClose.push(actions);
    const actionJobs = await actions.getJobs(['waiting', 'delayed']);
    expect(actionJobs.map((j) => j.id)).toEqual([actionCommandId(first.id, 'start_transcription')]);
    expect(actionJobs[0].data).toMatchObject({
      action: 'start_transcription',
      call_control_id: 'v3:call-a',
      command_id: actionCommandId(first.id, 'start_transcription'),
    });
    expect(await metricsRegistry.getSingleMetricAsString('forkguard_alerts_total')).toMatch(
      /forkguard_alerts_total\{kind="robocall"\} [1-9]/,
    );
  });

  it('plans no action jobs for an unannounced stream and rejects a malformed alert', async () => {
    const prefix = `${PREFIX}-noids`;
    const producer = new AlertProducer({ redisUrl: REDIS_URL, prefix });
    toClose.push(producer);
    producer.publish({ ...alert('udp:40002', 'pumping', 0, null), actions: ['stop_forking'] });
    expect(await producer.flush(10_000)).toBe(true);
    const actions = new Queue(ACTION_QUEUE, { connection: { url: REDIS_URL }, prefix });
    toClose.push(actions);
    expect(await actions.count()).toBe(0);
    expect(() => producer.publish({ ...alert('x', 'robocall', 0, null), score: 2 })).toThrow();
    expect(() => producer.publish({ ...alert('x', 'robocall', 0, null), id: 'a:b:c:d' })).toThrow(/colon/);
  });

  it('loses no alert when Redis is killed and restarted mid-stream', async () => {
    const redis = await RedisChild.start();
    toClose.push({ close: () => redis.kill() });
    const producer = new AlertProducer({ redisUrl: redis.url, prefix: PREFIX, maxRetryDelayMs: 200 });
    const sent: Alert[] = [];
    const publish = (i: number) => {
      const a = alert(`call-${i}`, 'pumping', 0, null);
      sent.push(a);
      producer.publish(a);
    };
    for (let i = 0; i < 20; i++) publish(i);
    expect(await producer.flush(10_000)).toBe(true);

    await redis.kill();
    for (let i = 20; i < 50; i++) publish(i);
    await new Promise((r) => setTimeout(r, 300));
    expect(producer.buffered).toBe(30);
    expect(await metricsRegistry.getSingleMetricAsString('forkguard_alerts_buffered')).toMatch(
      /forkguard_alerts_buffered 30/,
    );

    await redis.restart();
    for (let i = 50; i < 60; i++) publish(i);
    const result = await producer.close({ flushTimeoutMs: 20_000 });
    expect(result.lost).toBe(0);

    // the restarted Redis has no persistence: it holds exactly what was sent after the outage began
    const queue = new Queue(ALERT_QUEUE, { connection: { url: redis.url }, prefix: PREFIX });
    const ids = (await queue.getJobs(['waiting'], 0, -1)).map((j) => j.id).sort();
    await queue.close();
    expect(ids).toEqual(
      sent
        .slice(20)
        .map((a) => a.id)
        .sort(),
    );
  });

  it('reports what it could not deliver when closed during an outage', async () => {
    const redis = await RedisChild.start();
    const producer = new AlertProducer({ redisUrl: redis.url, prefix: PREFIX, maxRetryDelayMs: 100 });
    await redis.kill();
    producer.publish(alert('call-x', 'fax_modem', 0, null));
    expect(await producer.close({ flushTimeoutMs: 300 })).toEqual({ lost: 1 });
  });
});
