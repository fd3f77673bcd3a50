import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from './metrics-text.ts';
import { cardEntryCall, sendCalls } from './rtp-calls.ts';
import { TestService } from './service-child.ts';

// 4 pairs: worker 0 owns 23120-23123, worker 1 owns 23124-23127.
const RTP_FIRST = 23120;
const service = new TestService({
  name: 'cluster',
  rtpFirst: RTP_FIRST,
  rtpLast: 23127,
  args: ['--workers', '2'],
});

beforeAll(() => service.start());
afterAll(() => service.cleanup());

describe('forkguard start --workers 2', () => {
  it('analyses calls on both workers, aggregates their metrics, and drains both on SIGTERM', async () => {
    const child = service.child!;
    const ports = [RTP_FIRST, RTP_FIRST + 4];
    const sent = await sendCalls(ports, [cardEntryCall(3), cardEntryCall(4)]);
    const deadline = Date.now() + 20_000;
    let streams: string[] = [];
    while (streams.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      streams = (await service.alerts()).map((a) => a.stream);
    }
    expect(streams.sort()).toEqual([`udp:${ports[0]}`, `udp:${ports[1]}`]);

    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metricValue(metrics, 'forkguard_rtp_packets_received_total')).toBe(sent);
    expect(metricValue(metrics, 'forkguard_sessions_active')).toBe(2);
    expect(metricValue(metrics, 'forkguard_alerts_total', { kind: 'card_entry' })).toBe(2);

    const pids = new Set(child.logsWith('media worker ready').map((l) => l.pid));
    expect(pids.size).toBe(2);

    expect(await child.stop('SIGTERM')).toBe(0);
    const [stopped] = child.logsWith('forkguard stopped');
    expect(stopped).toMatchObject({ alertsRaised: 2, lost: 0 });
    expect(child.logsWith('ingest session ended').length).toBe(2);
  });
});
