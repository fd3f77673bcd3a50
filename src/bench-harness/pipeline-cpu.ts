/**
 * CPU per packet of the service's media path in process, and where it goes by stage: a real MediaPipeline (ingest
 * sessions, analyzers, batched scoring, policy, alert producer, replay index in Redis, its sweep timer) fed the
 * corpus's datagrams through IngestServer's datagram handler at real-time pacing, for N concurrent calls played
 * back to back as the bench plays them. Sockets are bound but receive nothing: the kernel's and node:dgram's cost
 * per datagram (`forkguard bench --no-pin` bare receiver: several µs) is left out, and with it most of the noise a
 * loaded machine puts into the UDP benchmark, so runs before and after a change compare better.
 *
 *   npx tsx src/bench-harness/pipeline-cpu.ts --corpus DIR [--calls 200] [--seconds 15]
 *
 * Prints one JSON line: process CPU per packet (user + system, including onnxruntime's thread) over the run after a
 * warm-up, and per stage the main-thread µs per packet (src/telemetry/stage-clock.ts) and work units per packet.
 */
import { pathToFileURL } from 'node:url';
import type { Leg } from '../ingest/media-sink.ts';
import { loadServiceConfig } from '../service/config/load-config.ts';
import { logger } from '../service/logger.ts';
import { MediaPipeline } from '../service/media-pipeline.ts';
import { loadScorer } from '../service/service-startup.ts';
import { STAGE_NAMES, STAGES, WORK_NAMES } from '../telemetry/stage-clock.ts';
import { AlertCollector } from './alert-collector.ts';
import { loadBenchRecordings } from './bench-corpus.ts';
import { parseBenchOptions, positiveIntegerArg, positiveNumberArg } from './bench-options.ts';

/** The socket callback of IngestServer (private: only its sockets call it), driven here without a socket. */
type PairHandler = (pairIndex: number, leg: Leg, msg: Buffer, address: string, port: number) => void;

export interface PipelineCpu {
  calls: number;
  packets: number;
  seconds: number;
  cpu_us_per_packet: number;
  stage_us_per_packet: Record<string, number>;
  work_per_packet: Record<string, number>;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export async function measurePipelineCpu(options: {
  corpus: string;
  calls: number;
  seconds: number;
  warmupS?: number;
}): Promise<PipelineCpu> {
  const { calls, seconds } = options;
  const warmupMs = (options.warmupS ?? 4) * 1000;
  const recordings = await loadBenchRecordings({
    corpus: options.corpus,
    limit: 150,
    maxMs: (seconds + 1) * 1000,
    codec: 'pcmu',
  });
  if (recordings.length === 0) throw new Error(`${options.corpus}: no labelled recorded calls`);
  const first = 46000 + 2 * Math.floor(Math.random() * 500);
  const prefix = `fgpipecpu-${process.pid}-${Date.now().toString(36)}`;
  const config = loadServiceConfig({
    host: '127.0.0.1',
    // Two pairs per call slot, alternated, so a call never lands on the session of the one before it.
    rtpPorts: `${first}-${first + 4 * calls - 1}`,
    logLevel: 'silent',
    idleMs: '2000',
    maxSessions: String(2 * calls),
    queuePrefix: prefix,
    keyPrefix: `${prefix}:`,
  });
  logger.level = 'silent';
  const scorer = await loadScorer(config);
  const pipeline = new MediaPipeline({ config, rtpPorts: config.rtpPorts, strepPort: null, scorer });
  await pipeline.start();
  const ingest = pipeline.ingest as unknown as { enqueue: PairHandler };
  // A cast cannot see a rename of the private method: say so instead of feeding nothing (or the wrong thing).
  if (typeof ingest.enqueue !== 'function')
    throw new Error('IngestServer has no enqueue(): update pipeline-cpu');
  const handle: PairHandler = (...args) => ingest.enqueue(...args);
  // Slot c plays recordings c, c + calls, ... back to back; starts are spread over the first 3 s.
  const slots = Array.from({ length: calls }, (_, c) => ({
    recording: c % recordings.length,
    next: calls + c,
    i: 0,
    startMs: Number.NaN,
    delayMs: (c * 37) % 3000,
    pair: 2 * c,
  }));
  const t0 = performance.now();
  let packets = 0;
  // Counters at the end of the warm-up (a holder: it is set inside the timer callback).
  const warm: { at: { cpu: NodeJS.CpuUsage; packets: number; ms: Float64Array; work: Float64Array } | null } =
    {
      at: null,
    };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - t0;
      for (const s of slots) {
        if (Number.isNaN(s.startMs)) {
          if (now < s.delayMs) continue;
          s.startMs = now;
        }
        const datagrams = recordings[s.recording].datagrams;
        while (s.i < datagrams.length && s.startMs + datagrams[s.i].timeMs <= now) {
          const d = datagrams[s.i++];
          // A Buffer per datagram, as dgram delivers them.
          handle(s.pair, d.leg as Leg, Buffer.from(d.data), '127.0.0.1', 30000 + d.leg);
          packets++;
        }
        if (s.i >= datagrams.length) {
          s.recording = s.next % recordings.length;
          s.next += calls;
          s.i = 0;
          s.startMs = now;
          s.pair ^= 1;
        }
      }
      if (warm.at === null && now >= warmupMs) {
        warm.at = { cpu: process.cpuUsage(), packets, ms: STAGES.ms.slice(), work: STAGES.work.slice() };
      }
      if (now >= seconds * 1000) resolve();
      else setTimeout(tick, 10);
    };
    tick();
  });
  const start = warm.at;
  if (start === null) throw new Error('the run ended before its warm-up');
  const cpu = process.cpuUsage(start.cpu);
  const n = packets - start.packets;
  const stage: Record<string, number> = {};
  for (let i = 1; i < STAGE_NAMES.length; i++)
    stage[STAGE_NAMES[i]] = r2(((STAGES.ms[i] - start.ms[i]) * 1000) / n);
  const work: Record<string, number> = {};
  for (let i = 0; i < WORK_NAMES.length; i++)
    work[WORK_NAMES[i]] = Math.round(((STAGES.work[i] - start.work[i]) / n) * 1e4) / 1e4;
  await pipeline.stop(0);
  const cleanup = new AlertCollector(config.redisUrl, prefix);
  await cleanup.deletePrefix(`${prefix}:`).catch(() => {});
  cleanup.close();
  return {
    calls,
    packets: n,
    seconds: r2(seconds - warmupMs / 1000),
    cpu_us_per_packet: r2((cpu.user + cpu.system) / n),
    stage_us_per_packet: stage,
    work_per_packet: work,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseBenchOptions(
    'pipeline-cpu.ts',
    'where the service spends its CPU per packet, stage by stage',
    {
      corpus: { description: 'folder of recorded calls to replay', default: 'corpus' },
      calls: { description: 'calls replayed at once', default: '200' },
      seconds: { description: 'seconds measured', default: '15' },
    },
  );
  const result = await measurePipelineCpu({
    corpus: args.corpus ?? 'corpus',
    calls: positiveIntegerArg('calls', args.calls),
    seconds: positiveNumberArg('seconds', args.seconds),
  });
  console.log(JSON.stringify(result));
  process.exit(0);
}
