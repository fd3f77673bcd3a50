/** CPU time and resident memory of a local process, from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessStats {
  /** utime + stime, seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

/** The process's CPU seconds and VmRSS, or null when it is gone or /proc is not there. */
export function readProcessStats(pid: number): ProcessStats | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 (utime) and 15 (stime) of the line
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return { cpuSeconds: ticks / clockTicks(), rssBytes: rss ? Number(rss[1]) * 1024 : Number.NaN };
  } catch {
    return null;
  }
}

/** Kernel UDP receive-buffer overflows on this host (all sockets): a cross-check for loss, from /proc/net/snmp. */
export function readUdpRcvbufErrors(): number | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    const i = names.indexOf('RcvbufErrors');
    return i < 0 ? null : Number(values[i]);
  } catch {
    return null;
  }
}

/**
 * Pins every thread of `pid` (and the threads it starts later) to `cpus` (taskset list, e.g. "0"). Returns
 * false when taskset is missing or refuses, so the caller can say the run was not pinned.
 */
export function pinProcess(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
