import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ForkController } from '../../src/service/forks/fork-controller.ts';
import { PortLeaseManager } from '../../src/service/forks/port-leases.ts';
import { createHttpServer } from '../../src/service/http/http-server.ts';
import { createTelnyxClient } from '../../src/telnyx/telnyx-client.ts';
import { deleteKeys } from '../alert/redis-child.ts';
import { makeSigningKey, signWebhook, telnyxEvent } from '../http/webhook-signing.ts';
import { reply, TelnyxStandIn } from '../support/telnyx-stand-in.ts';

const PREFIX = `fgtest-forks-${process.pid}:`;
const TOKEN = 'fork-token-secret';
const PUBLIC_IP = '203.0.113.7';
const { privateKey, publicKeyBase64 } = makeSigningKey();

const redis = new Redis('redis://127.0.0.1:6379');
const announced: object[] = [];
const ended: string[] = [];
const sessions = {
  announce: (identity: object) => announced.push(identity),
  end: (stream: string) => ended.push(stream),
};
let standIn: TelnyxStandIn;
let leases: PortLeaseManager;
let base: string;
let app: ReturnType<typeof createHttpServer>;
const processed: string[] = [];

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function webhook(type: string, payload: Record<string, unknown>) {
  const body = telnyxEvent(type, payload);
  const id = JSON.parse(body).data.id as string;
  const res = await fetch(`${base}/webhooks/telnyx`, {
    method: 'POST',
    headers: signWebhook(privateKey, body, Math.floor(Date.now() / 1000)),
    body,
  });
  expect(res.status).toBe(200);
  for (let i = 0; i < 300 && !processed.includes(id); i++) await new Promise((r) => setTimeout(r, 10));
}

beforeAll(async () => {
  standIn = await TelnyxStandIn.start();
  const telnyx = createTelnyxClient({ apiKey: 'KEY_forks', baseURL: standIn.baseURL });
  let controller: ForkController | null = null;
  leases = new PortLeaseManager({
    redis,
    host: PUBLIC_IP,
    first: 42000,
    last: 42009,
    keyPrefix: PREFIX,
    onLost: (lease) => controller?.leaseLost(lease),
  });
  controller = new ForkController({ telnyx, leases, publicIp: PUBLIC_IP, sessions, requestRetries: 0 });
  app = createHttpServer({
    telnyxPublicKey: publicKeyBase64,
    apiToken: TOKEN,
    redis,
    keyPrefix: PREFIX,
    sessions,
    alerts: null,
    forks: controller,
    autoForkOnAnswer: true,
    onWebhookProcessed: (event) => processed.push(event.data.id),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  standIn.reset();
  announced.length = 0;
  ended.length = 0;
});

afterAll(async () => {
  await app.close();
  await leases.stop();
  await standIn.close();
  await deleteKeys(redis, `${PREFIX}*`);
  redis.disconnect();
});

describe('fork control', () => {
  it('refuses requests without the right bearer token or a valid body', async () => {
    expect((await call('POST', '/v1/forks', { call_control_id: 'x' }, null)).status).toBe(401);
    expect((await call('POST', '/v1/forks', { call_control_id: 'x' }, 'wrong')).status).toBe(401);
    const bad = await call('POST', '/v1/forks', { id: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/call_control_id/);
    expect(standIn.requests).toHaveLength(0);
  });

  it('leases a port pair, starts forking to it, announces the session, and stops it again', async () => {
    const started = await call('POST', '/v1/forks', { call_control_id: 'v3:fork-1' });
    expect(started.status).toBe(201);
    const port = started.json.port as number;
    expect(port % 2).toBe(0);
    expect(port).toBeGreaterThanOrEqual(42000);
    expect(started.json).toMatchObject({
      stream: `udp:${port}`,
      rx: `udp:${PUBLIC_IP}:${port}`,
      tx: `udp:${PUBLIC_IP}:${port + 1}`,
    });

    const [request] = standIn.requestsTo('/calls/v3:fork-1/actions/fork_start');
    expect(request.headers.authorization).toBe('Bearer KEY_forks');
    expect(request.body).toEqual({
      rx: `udp:${PUBLIC_IP}:${port}`,
      tx: `udp:${PUBLIC_IP}:${port + 1}`,
      command_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(announced).toEqual([
      { stream: `udp:${port}`, callControlId: 'v3:fork-1', callLegId: null, callSessionId: null, port },
    ]);
    expect(await redis.get(`${PREFIX}ports:${PUBLIC_IP}:${port}`)).toMatch(/ v3:fork-1$/);

    // asking again is idempotent: same fork, no second fork_start
    const again = await call('POST', '/v1/forks', { call_control_id: 'v3:fork-1' });
    expect(again.status).toBe(200);
    expect(again.json.port).toBe(port);
    expect(standIn.requestsTo('/calls/v3:fork-1/actions/fork_start')).toHaveLength(1);

    // call.fork.started brings the leg and session ids, and the stream is announced with them
    await webhook('call.fork.started', {
      call_control_id: 'v3:fork-1',
      call_leg_id: 'leg-9',
      call_session_id: 'sess-9',
    });
    expect(announced.at(-1)).toEqual({
      stream: `udp:${port}`,
      callControlId: 'v3:fork-1',
      callLegId: 'leg-9',
      callSessionId: 'sess-9',
      port,
    });

    const stopped = await call('DELETE', '/v1/forks/v3:fork-1');
    expect(stopped.status).toBe(200);
    expect(standIn.requestsTo('/calls/v3:fork-1/actions/fork_stop')).toHaveLength(1);
    expect(ended).toEqual([`udp:${port}`]);
    expect(await redis.get(`${PREFIX}ports:${PUBLIC_IP}:${port}`)).toBeNull();
    expect((await call('DELETE', '/v1/forks/v3:fork-1')).status).toBe(404);
  });

  it('gives the ports back when Telnyx refuses the fork, with a clear error', async () => {
    standIn.script('/calls/gone/actions/fork_start', reply.callEnded());
    const res = await call('POST', '/v1/forks', { call_control_id: 'gone' });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatch(/already ended/);
    expect(leases.leases()).toEqual([]);
    expect(ended).toHaveLength(1);
  });

  it('answers 503 when the port range is full', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) expect((await call('POST', '/v1/forks', { call_control_id: id })).status).toBe(201);
    const full = await call('POST', '/v1/forks', { call_control_id: 'f' });
    expect(full.status).toBe(503);
    expect(full.json.error).toMatch(/no free RTP port pair/);
    // hangups free the pairs
    for (const id of ids) await webhook('call.hangup', { call_control_id: id });
    expect(leases.leases()).toEqual([]);
  });

  it('forks a call automatically on call.answered when configured', async () => {
    await webhook('call.answered', {
      call_control_id: 'auto-1',
      call_leg_id: 'leg-a',
      call_session_id: 'sess-a',
    });
    expect(standIn.requestsTo('/calls/auto-1/actions/fork_start')).toHaveLength(1);
    expect(announced[0]).toMatchObject({
      callControlId: 'auto-1',
      callLegId: 'leg-a',
      callSessionId: 'sess-a',
    });
    await webhook('call.fork.stopped', { call_control_id: 'auto-1' });
    expect(leases.leases()).toEqual([]);
  });
});
