import fc from 'fast-check';
import { Redis } from 'ioredis';
import Telnyx from 'telnyx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alert/alert.ts';
import { createHttpServer } from '../../src/service/http/http-server.ts';
import type { TelnyxWebhookEvent } from '../../src/service/http/webhook-events.ts';
import { parseTelnyxPublicKey, verifyWebhookSignature } from '../../src/service/http/webhook-signature.ts';
import { metricsRegistry } from '../../src/service/metrics-registry.ts';
import { deleteKeys } from '../alert/redis-child.ts';
import { makeSigningKey, signWebhook, telnyxEvent } from './webhook-signing.ts';

const PREFIX = `fgtest-webhooks-${process.pid}:`;
const { privateKey, publicKeyBase64 } = makeSigningKey();
const sdk = new Telnyx({ apiKey: 'KEY_unused', publicKey: publicKeyBase64, logLevel: 'off' });
const now = () => Math.floor(Date.now() / 1000);

const redis = new Redis('redis://127.0.0.1:6379');
const alerts: Alert[] = [];
const processed: Array<{ event: TelnyxWebhookEvent; result: string | Error }> = [];
const announced: unknown[] = [];
const app = createHttpServer({
  telnyxPublicKey: publicKeyBase64,
  apiToken: null,
  redis,
  keyPrefix: PREFIX,
  sessions: { announce: (identity) => announced.push(identity), end: () => {} },
  alerts: { publish: (alert) => alerts.push(alert) },
  forks: null,
  announceStrep: true,
  onWebhookProcessed: (event, result) => processed.push({ event, result }),
});

async function post(body: string | Buffer, headers: Record<string, string>) {
  return app.inject({ method: 'POST', url: '/webhooks/telnyx', payload: body, headers });
}

/** SDK verdict on the same request: true when `client.webhooks.unwrap` accepts it. */
async function sdkAccepts(body: string | Buffer, headers: Record<string, string>): Promise<boolean> {
  try {
    await sdk.webhooks.unwrap(body.toString(), { headers });
    return true;
  } catch {
    return false;
  }
}

async function waitProcessed(eventId: string): Promise<string | Error> {
  for (let i = 0; i < 200; i++) {
    const hit = processed.find((p) => p.event.data.id === eventId);
    if (hit) return hit.result;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`event ${eventId} was not processed`);
}

beforeAll(() => app.ready());
afterAll(async () => {
  await app.close();
  await deleteKeys(redis, `${PREFIX}*`);
  redis.disconnect();
});

describe('POST /webhooks/telnyx', () => {
  it('accepts a correctly signed event, processes it once, and the telnyx SDK agrees', async () => {
    const body = telnyxEvent('call.fork.started', {
      call_control_id: 'v3:c1',
      call_leg_id: 'leg-1',
      call_session_id: 's-1',
    });
    const headers = signWebhook(privateKey, body, now());
    const res = await post(body, headers);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'accepted' });
    expect(await sdkAccepts(body, headers)).toBe(true);
    const id = JSON.parse(body).data.id;
    expect(await waitProcessed(id)).toBe('announced');
    expect(announced).toContainEqual({
      stream: 'strep:leg-1',
      callControlId: 'v3:c1',
      callLegId: 'leg-1',
      callSessionId: 's-1',
    });

    // the same delivery again (a Telnyx retry or a replay) is acknowledged but not processed again
    const again = await post(body, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'duplicate' });
    await new Promise((r) => setTimeout(r, 50));
    expect(processed.filter((p) => p.event.data.id === id)).toHaveLength(1);
  });

  it('refuses forged, tampered, stale and unsigned requests with 4xx and a metric', async () => {
    const body = telnyxEvent('call.hangup', { call_control_id: 'v3:c2' });
    const good = signWebhook(privateKey, body, now());
    const other = makeSigningKey();
    const cases: Array<[string, string, Record<string, string>, number, string]> = [
      ['forged key', body, signWebhook(other.privateKey, body, now()), 403, 'bad_signature'],
      ['tampered body', body.replace('v3:c2', 'v3:c9'), good, 403, 'bad_signature'],
      ['stale', body, signWebhook(privateKey, body, now() - 330), 403, 'stale'],
      ['future', body, signWebhook(privateKey, body, now() + 330), 403, 'stale'],
      ['timestamp swapped', body, { ...good, 'telnyx-timestamp': String(now() - 1) }, 403, 'bad_signature'],
      [
        'no signature',
        body,
        { 'content-type': 'application/json', 'telnyx-timestamp': String(now()) },
        400,
        'missing_headers',
      ],
      ['bad timestamp', body, { ...good, 'telnyx-timestamp': '12e9' }, 400, 'bad_timestamp'],
    ];
    for (const [name, payload, headers, status, reason] of cases) {
      const res = await post(payload, headers);
      expect(res.statusCode, name).toBe(status);
      expect(res.json().error, name).toEqual(expect.any(String));
      expect(await sdkAccepts(payload, headers), name).toBe(false);
      expect(await metricsRegistry.getSingleMetricAsString('forkguard_webhooks_rejected_total')).toContain(
        `forkguard_webhooks_rejected_total{reason="${reason}"}`,
      );
    }
    expect(processed.some((p) => p.event.data.payload?.call_control_id === 'v3:c2')).toBe(false);
  });

  it('accepts no request the telnyx SDK unwrap would refuse (random text, bytes, timestamps, mutations)', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: -400, max: 400 }),
        fc.constantFrom('none', 'none', 'flip', 'strip_padding', 'url_safe', 'space', 'invalid_utf8', 'bom'),
        async (text, skew, mutation) => {
          let body = Buffer.from(telnyxEvent('call.answered', { call_control_id: 'v3:prop', note: text }));
          if (mutation === 'invalid_utf8') {
            const at = body.indexOf('"note":"') + 8;
            body = Buffer.concat([body.subarray(0, at), Buffer.from([0xff]), body.subarray(at)]);
          }
          if (mutation === 'bom') body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
          const ts = now() + skew;
          const headers = signWebhook(privateKey, body, ts);
          const sig = headers['telnyx-signature-ed25519'];
          if (mutation === 'flip')
            headers['telnyx-signature-ed25519'] = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
          if (mutation === 'strip_padding') headers['telnyx-signature-ed25519'] = sig.replace(/=+$/, '');
          if (mutation === 'url_safe')
            headers['telnyx-signature-ed25519'] = sig.replaceAll('+', '-').replaceAll('/', '_');
          if (mutation === 'space') headers['telnyx-timestamp'] = ` ${ts}`;
          const res = await post(body, headers);
          if (res.statusCode === 200) {
            accepted++;
            expect(await sdkAccepts(body.toString('utf8'), headers)).toBe(true);
          } else {
            expect(res.statusCode).toBeGreaterThanOrEqual(400);
            expect(res.statusCode).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('verifies raw bytes exactly as the SDK verifier does when the body is valid UTF-8', async () => {
    const key = parseTelnyxPublicKey(publicKeyBase64);
    const { TelnyxWebhook } = await import('telnyx/lib/webhooks');
    const verifier = new TelnyxWebhook(publicKeyBase64);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: -310, max: 310 }),
        async (bytes, skew) => {
          const body = Buffer.from(bytes);
          const headers = signWebhook(privateKey, body, now() + skew);
          const ours = verifyWebhookSignature(
            key,
            body,
            headers['telnyx-signature-ed25519'],
            headers['telnyx-timestamp'],
            Date.now(),
          );
          const theirs = await verifier.verify(body.toString('utf8'), headers).then(
            () => true,
            () => false,
          );
          if (ours === null) expect(theirs).toBe(true);
          if (ours === 'stale') expect(theirs).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('raises a transcript_risk alert from a scam transcript and none from a benign one', async () => {
    const send = async (callControlId: string, transcript: string, isFinal = true) => {
      const body = telnyxEvent('call.transcription', {
        call_control_id: callControlId,
        call_leg_id: `leg-${callControlId}`,
        call_session_id: `session-${callControlId}`,
        transcription_data: {
          transcript,
          is_final: isFinal,
          confidence: 0.9,
          transcription_track: 'inbound',
        },
      });
      expect((await post(body, signWebhook(privateKey, body, now()))).statusCode).toBe(200);
      return waitProcessed(JSON.parse(body).data.id);
    };
    await send('v3:scam', 'This is the fraud department of your bank, your account has been frozen.');
    await send(
      'v3:scam',
      'To unfreeze it right now buy gift cards and read me the verification code we sent.',
      false,
    );
    await send(
      'v3:scam',
      'To unfreeze it right now buy gift cards and read me the verification code we sent.',
    );
    await send('v3:fine', 'Hi, I am calling to move my dentist appointment to Thursday afternoon.');
    await send('v3:fine', 'Thursday at three works, thank you, see you then.');

    expect(alerts.filter((a) => a.call_control_id === 'v3:fine')).toEqual([]);
    const raised = alerts.filter((a) => a.call_control_id === 'v3:scam');
    expect(raised.length).toBeGreaterThanOrEqual(1);
    expect(raised[0]).toMatchObject({
      kind: 'transcript_risk',
      level: 0,
      id: 'v3%3Ascam:transcript_risk:0',
      call_leg_id: 'leg-v3:scam',
      call_session_id: 'session-v3:scam',
      model: 'transcript-rules@1',
      actions: [],
    });
    expect(raised[0].score).toBeGreaterThanOrEqual(0.8);
    expect(JSON.stringify(raised[0].evidence)).not.toMatch(/gift cards and read/);
  });

  it('counts streaming events and serves health and metrics', async () => {
    const body = telnyxEvent('streaming.failed', {
      call_control_id: 'v3:c3',
      failure_reason: 'connection_failed',
    });
    await post(body, signWebhook(privateKey, body, now()));
    expect(await waitProcessed(JSON.parse(body).data.id)).toBe('logged');
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toContain(
      'forkguard_webhooks_total{event_type="streaming.failed",result="logged"} 1',
    );
  });
});
