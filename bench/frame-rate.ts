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
