import os from 'node:os';

/** CPU-time rates for the per-frame benchmarks: CPU seconds, not wall time, so other load on the machine counts less. */
export const FRAME_S = 0.02;

export interface Rate {
  frames: number;
  cpuS: number;
  nsPerFrame: number;
  /** Seconds of audio (one leg) processed per CPU second. */
  xRealTime: number;
}

export function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

export function rate(framesDone: number, cpuS: number): Rate {
  return {
    frames: framesDone,
    cpuS,
    nsPerFrame: (cpuS * 1e9) / framesDone,
    xRealTime: (framesDone * FRAME_S) / cpuS,
  };
}

/** What a benchmark ran on, for its JSON: the figures mean little without the machine and its load. */
export function machine(): { node: string; cpu: string; cpus: number; loadAverage: number[] } {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    loadAverage: os.loadavg(),
  };
}

/** One line for the console: the load average the figures were measured under. */
export function loadLine(label: string): string {
  return `${label}: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${os.cpus().length} CPUs`;
}
