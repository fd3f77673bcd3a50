/** The bench's results as JSON (for scripts), Markdown (for people) and the SVG chart, written side by side. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { benchChartSvg } from './bench-chart.ts';
import { type BenchOptions, type BenchRun, MAX_BACKLOG_S, type StepMeasurement } from './run-bench.ts';

export const TARGETS = {
  concurrent_calls: 1000,
  packets_per_second: 100_000,
  p99_alert_latency_ms: 100,
  kib_per_call: 100,
} as const;

export const DEFINITIONS = {
  loss: '(datagrams sent - datagrams the process read) / sent, over the whole step (kernel receive-buffer overflow or anything else that kept a datagram from the process); service drops by reason are listed apart',
  offered_pps:
    'datagrams sent per second over the steady window (after the 1 s ramp + 0.5 s, until 0.5 s before the step ends)',
  received_pps:
    'forkguard_rtp_packets_received_total (bare: datagrams counted) per second over the steady window',
  cpu_us_per_packet:
    'utime + stime of the receiving process (/proc/PID/stat) over the steady window / datagrams received in it',
  rss_kib_per_call:
    'VmRSS (/proc/PID/status) at the end of the steady window / forkguard_sessions_active then; marginal = (VmRSS - VmRSS before the first step) / sessions',
  alert_latency_ms:
    "alert time in Redis (id of the BullMQ 'added' stream entry, Redis's clock) - due send time of the datagram carrying the media that ends at the alert's media_s (call start + media_s - 20 ms); alerts on the call's last second of media stored after the call had been quiet for half the idle time (raised when the session ended on idle) are counted apart, not in the percentiles, and so are alerts on media past the call's last packet (the recording ended or the step cut it: the service completed that window by taking the quiet legs as silent, no packet did)",
  accuracy:
    "per call, alerts of kinds robocall/pumping/fax_modem/card_entry vs the NAME.json label, as `forkguard train` evaluates (recall per label, legit calls with any such alert = false alarms); replay alerts are not judged because the bench replays each recording many times; a call cut by the step end is judged only if it played at least evidence_s past its label's onset",
  cpu_utilisation:
    'CPU seconds of the receiving process per wall second over the steady window (1.00 = one core busy)',
  kernel_rcvbuf_errors:
    'Udp RcvbufErrors of /proc/net/snmp during the step: host-wide, so other processes on the machine count too',
  pinning:
    'unless --no-pin, the receiving process (all its threads) is pinned to CPU 0 and the sender to CPU 1 with taskset, so the service runs on one core and the sender on the other',
  backlog_s:
    'seconds from the last datagram sent until the process had read as many datagrams as were sent: socket buffers (256 KiB per port) hide a receiver that falls behind, so loss alone is not enough',
  sustained: `no loss and backlog_s <= ${MAX_BACKLOG_S}: the receiver kept up with the step`,
  zero_loss_ceiling: 'the highest sustained step (all datagrams read, and read in time)',
} as const;

function zeroLossCeiling(steps: StepMeasurement[]): StepMeasurement | null {
  let best: StepMeasurement | null = null;
  for (const s of steps) if (s.sustained && (best === null || s.concurrency > best.concurrency)) best = s;
  return best;
}

export interface BenchDocument {
  bench: 'recorded-calls';
  version: 1;
  started_at: string;
  finished_at: string;
  command: string;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  definitions: typeof DEFINITIONS;
  summary: Record<string, unknown>;
  targets: Record<string, { target: number; measured: number | null; met: boolean | null }>;
  service_steps: StepMeasurement[];
  bare_steps: StepMeasurement[];
  accuracy: BenchRun['accuracy'];
  latency: BenchRun['latency'];
  recordings: BenchRun['recordings'];
  target: BenchRun['target'];
  idle_rss_mib: number | null;
  notes: string[];
}

export function benchDocument(
  run: BenchRun,
  options: BenchOptions,
  meta: { startedAt: Date; command: string; loadBefore: number[] },
): BenchDocument {
  const service = zeroLossCeiling(run.service);
  const bare = zeroLossCeiling(run.bare);
  const reference = service ?? run.service[run.service.length - 1] ?? null;
  const kib = reference?.rss_kib_per_call_marginal ?? null;
  const met = (measured: number | null, ok: (x: number) => boolean) =>
    measured === null ? null : ok(measured);
  // The target is about sustained load: the latency of the highest sustained step, not of the overload steps.
  const p99 = service?.alerts?.latency.p99_ms ?? null;
  return {
    bench: 'recorded-calls',
    version: 1,
    started_at: meta.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    command: meta.command,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? '',
      node: process.version,
      load_average_before: meta.loadBefore.map((x) => Math.round(x * 100) / 100),
      load_average_after: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    options: {
      corpus: options.corpus,
      steps: options.steps,
      duration_s: options.durationS,
      bare_duration_s: options.bareDurationS,
      recordings: options.recordings,
      evidence_s: options.evidenceS,
      idle_ms: options.idleMs,
      codec: options.codec,
      model: options.model ?? null,
      attach: options.attach ?? null,
      pin: options.pin ?? null,
    },
    definitions: DEFINITIONS,
    summary: {
      service_zero_loss_calls: service?.concurrency ?? 0,
      service_zero_loss_pps: service?.received_pps ?? 0,
      bare_zero_loss_calls: bare?.concurrency ?? 0,
      bare_zero_loss_pps: bare?.received_pps ?? 0,
      service_over_bare_calls:
        bare && service ? Math.round((service.concurrency / bare.concurrency) * 1000) / 1000 : null,
      bare_ceiling_is_lower_bound: bare !== null && bare === run.bare[run.bare.length - 1],
      cpu_us_per_packet_at_ceiling: service?.cpu_us_per_packet ?? null,
      bare_cpu_us_per_packet_at_same_step:
        run.bare.find((b) => b.concurrency === service?.concurrency)?.cpu_us_per_packet ?? null,
      rss_kib_per_call_marginal_at_ceiling: kib,
      /** A step can lose no packet and still fall behind: its alerts then come late. */
      alert_latency_p99_ms_at_ceiling: service?.alerts?.latency.p99_ms ?? null,
      alert_latency_p50_ms_at_ceiling: service?.alerts?.latency.p50_ms ?? null,
      alert_latency_p50_ms_all_steps: run.latency.p50_ms,
      alert_latency_p99_ms_all_steps: run.latency.p99_ms,
    },
    targets: {
      concurrent_calls_zero_loss: {
        target: TARGETS.concurrent_calls,
        measured: service?.concurrency ?? 0,
        met: (service?.concurrency ?? 0) >= TARGETS.concurrent_calls,
      },
      packets_per_second_zero_loss: {
        target: TARGETS.packets_per_second,
        measured: service?.received_pps ?? 0,
        met: (service?.received_pps ?? 0) >= TARGETS.packets_per_second,
      },
      p99_alert_latency_ms: {
        target: TARGETS.p99_alert_latency_ms,
        measured: p99,
        met: met(p99, (x) => x <= TARGETS.p99_alert_latency_ms),
      },
      kib_per_active_call: {
        target: TARGETS.kib_per_call,
        measured: kib,
        met: met(kib, (x) => x <= TARGETS.kib_per_call),
      },
    },
    service_steps: run.service,
    bare_steps: run.bare,
    accuracy: run.accuracy,
    latency: run.latency,
    recordings: run.recordings,
    target: run.target,
    idle_rss_mib: run.idle_rss_mib,
    notes: run.notes,
  };
}

const num = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x)
    ? '–'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const upTo1 = (x: number | null) =>
  x === null ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: 1 });
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : `${(100 * x).toFixed(2)}%`;

export function benchMarkdown(doc: BenchDocument, chartFile: string): string {
  const m = doc.machine as {
    cpus: number;
    cpu_model: string;
    node: string;
    load_average_before: number[];
    load_average_after: number[];
  };
  const lines: string[] = [
    '# forkguard bench: recorded calls over UDP',
    '',
    `\`${doc.command}\``,
    '',
    `${doc.started_at} – ${doc.finished_at}; ${m.cpus} CPUs (${m.cpu_model}), Node ${m.node}; load average before ${m.load_average_before.join(' / ')}, after ${m.load_average_after.join(' / ')} (other processes share the machine).`,
    `Target: ${doc.target.kind}${doc.target.base ? ` ${doc.target.base}` : ''}; ${doc.recordings.loaded} recordings (${Object.entries(
      doc.recordings.by_label,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}).`,
    '',
    `![packets/s and loss vs concurrency](${chartFile})`,
    '',
    '## Summary',
    '',
    '| measure | target | measured | met |',
    '|---|---|---|---|',
  ];
  for (const [name, t] of Object.entries(doc.targets)) {
    lines.push(
      `| ${name.replace(/_/g, ' ')} | ${num(t.target)} | ${upTo1(t.measured)} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`,
    );
  }
  const s = doc.summary;
  lines.push(
    '',
    `Zero-loss ceiling (highest step with no loss and no backlog): service ${num(s.service_zero_loss_calls as number)} calls (${num(s.service_zero_loss_pps as number)} pkt/s); bare dgram receiver ${num(s.bare_zero_loss_calls as number)} calls (${num(s.bare_zero_loss_pps as number)} pkt/s)${s.bare_ceiling_is_lower_bound ? ' — the bare receiver lost nothing at the largest step, so its ceiling is at least that' : ''}.`,
    `Alert latency p99 at the service's zero-loss ceiling: ${num(s.alert_latency_p99_ms_at_ceiling as number | null, 1)} ms (a step can lose no packet and still fall behind).`,
    `Alert latency over all steps: p50 ${num(doc.latency.p50_ms, 1)} ms, p99 ${num(doc.latency.p99_ms, 1)} ms over ${doc.latency.count} alerts raised while the call was sending (${doc.latency.at_session_end} more at session end, ${doc.latency.past_media_end} on media past the call's last packet).`,
    '',
    '## Service steps',
    '',
    '| calls | sessions | offered pkt/s | received pkt/s | loss | backlog s | kept up | drops | CPU µs/pkt | CPU | RSS MiB | KiB/call (marginal) | latency p50/p99 ms | alerts | judged | legit false alarms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const st of doc.service_steps) {
    const drops =
      Object.entries(st.drops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '0';
    const lat = st.alerts?.latency;
    lines.push(
      `| ${st.concurrency} | ${num(st.sessions_active)} | ${num(st.offered_pps)} | ${num(st.received_pps)} | ${pct(st.loss)} | ${num(st.backlog_s, 2)} | ${st.sustained ? 'yes' : 'no'} | ${drops} | ${num(st.cpu_us_per_packet, 2)} | ${pct(st.cpu_utilisation)} | ${num(st.rss_mib, 1)} | ${num(st.rss_kib_per_call, 1)} (${num(st.rss_kib_per_call_marginal, 1)}) | ${num(lat?.p50_ms, 1)} / ${num(lat?.p99_ms, 1)} | ${st.alerts?.total ?? 0} | ${st.accuracy?.calls_judged ?? 0} | ${st.accuracy?.legit_false_alarms ?? 0} |`,
    );
  }
  lines.push(
    '',
    '## Alert latency by kind',
    '',
    'Windows complete their evidence at a hop boundary; a digit when its end has been confirmed. Sender lateness (p99 / max ms) is part of every figure.',
    '',
    '| calls | kind | alerts | p50 ms | p99 ms | max ms | at session end | past media end | sender late p99 / max ms |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const st of doc.service_steps) {
    for (const [kind, lat] of Object.entries(st.alerts?.latency_by_kind ?? {})) {
      lines.push(
        `| ${st.concurrency} | ${kind} | ${lat.count} | ${num(lat.p50_ms, 1)} | ${num(lat.p99_ms, 1)} | ${num(lat.max_ms, 1)} | ${lat.at_session_end} | ${lat.past_media_end} | ${num(st.sender_p99_late_ms, 1)} / ${num(st.sender_max_late_ms, 1)} |`,
      );
    }
  }
  lines.push(
    '',
    '## Bare dgram receiver (same ports, same sender)',
    '',
    '| calls | offered pkt/s | received pkt/s | loss | CPU µs/pkt | CPU |',
    '|---|---|---|---|---|---|',
  );
  for (const st of doc.bare_steps) {
    lines.push(
      `| ${st.concurrency} | ${num(st.offered_pps)} | ${num(st.received_pps)} | ${pct(st.loss)} | ${num(st.backlog_s, 2)} | ${st.sustained ? 'yes' : 'no'} | ${num(st.cpu_us_per_packet, 2)} | ${pct(st.cpu_utilisation)} |`,
    );
  }
  if (doc.accuracy !== null) {
    lines.push(
      '',
      `## Accuracy (all steps: ${doc.accuracy.calls_judged} calls judged, ${doc.accuracy.calls_not_judged} cut too early to judge)`,
      '',
      '| label | calls | recall | precision | time to detect (median s) |',
      '|---|---|---|---|---|',
    );
    for (const [label, c] of Object.entries(doc.accuracy.classes)) {
      lines.push(
        `| ${label} | ${c.calls} | ${num(c.recall, 3)} | ${num(c.precision, 3)} | ${num(c.ttd_median_s, 1)} |`,
      );
    }
    lines.push(
      '',
      `Legit false alarms: ${doc.accuracy.legit_false_alarms} (rate ${num(doc.accuracy.legit_false_alarm_rate, 3)}).`,
    );
  }
  lines.push('', '## Definitions', '');
  for (const [k, v] of Object.entries(doc.definitions)) lines.push(`- **${k}**: ${v}`);
  if (doc.notes.length > 0) lines.push('', '## Notes', '', ...doc.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Writes bench.json (or `jsonPath`), bench.md and bench.svg; returns the paths. */
export function writeBenchResults(doc: BenchDocument, outDir: string, jsonPath: string) {
  mkdirSync(outDir, { recursive: true });
  mkdirSync(dirname(jsonPath), { recursive: true });
  const svg = join(outDir, 'bench.svg');
  const md = join(outDir, 'bench.md');
  writeFileSync(jsonPath, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(
    svg,
    benchChartSvg(doc.service_steps, doc.bare_steps, 'forkguard: packets/s and loss vs concurrent calls'),
  );
  writeFileSync(md, benchMarkdown(doc, relative(outDir, svg)));
  return { json: jsonPath, markdown: md, chart: svg };
}
