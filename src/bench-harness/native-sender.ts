/**
 * A load generator for recorded calls: a small C program (compiled on first use with the system `cc` and cached
 * in the temp folder) that paces pre-encoded datagrams with sendmmsg. An interpreted sender tops out near
 * 40k datagrams/s per process, below what the receiver under test should take; this one leaves the node process
 * out of the send path so the sender's cost stays on its own core.
 *
 * Inputs are two files written here: every recording's datagrams once (leg, offset, bytes), and the calls of one
 * step (which recording, start offset, rx port, stop offset). Calls on one port pair reuse a recording's bytes
 * as they are: the receiver keys sessions by port, so identical SSRCs on different pairs never meet.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pinProcess } from './process-stats.ts';

const SENDER_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct { uint32_t time_us; uint8_t leg; uint16_t len; const uint8_t *data; } pkt_t;
typedef struct { uint32_t n; pkt_t *pkts; } rec_t;
typedef struct { uint32_t rec, start_us, stop_us, next; struct sockaddr_in dst[2]; } call_t;

static uint8_t *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb"); if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END); *size = (size_t)ftell(f); fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(*size ? *size : 1); if (fread(b, 1, *size, f) != *size) { perror(path); exit(2); }
  fclose(f); return b;
}
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static int64_t mono_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000; }

enum { BATCH = 256, LATE_BINS = 1001 };
static struct mmsghdr msgs[BATCH]; static struct iovec iov[BATCH]; static int pending = 0;
static unsigned long long sent = 0, errors = 0; static int fd;

static void flush_batch(void) {
  int off = 0;
  while (off < pending) {
    int r = sendmmsg(fd, msgs + off, pending - off, 0);
    if (r > 0) { sent += r; off += r; }
    else if (errno == EINTR) continue;
    else { errors++; off++; }
  }
  pending = 0;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: recordings calls host seconds\n"); return 2; }
  size_t rs, cs; uint8_t *rb = slurp(argv[1], &rs), *cb = slurp(argv[2], &cs);
  double seconds = atof(argv[4]);
  uint32_t nrec = rd32(rb); rec_t *recs = calloc(nrec ? nrec : 1, sizeof *recs); size_t p = 4;
  for (uint32_t r = 0; r < nrec; r++) {
    recs[r].n = rd32(rb + p); p += 4; recs[r].pkts = calloc(recs[r].n ? recs[r].n : 1, sizeof(pkt_t));
    for (uint32_t k = 0; k < recs[r].n; k++) {
      pkt_t *q = &recs[r].pkts[k]; q->time_us = rd32(rb + p); q->leg = rb[p + 4]; q->len = rd16(rb + p + 6);
      q->data = rb + p + 8; p += 8 + q->len;
    }
  }
  uint32_t ncall = rd32(cb); call_t *calls = calloc(ncall ? ncall : 1, sizeof *calls); p = 4;
  struct in_addr addr; if (inet_pton(AF_INET, argv[3], &addr) != 1) { fprintf(stderr, "bad IPv4 host %s\n", argv[3]); return 2; }
  for (uint32_t c = 0; c < ncall; c++, p += 16) {
    calls[c].rec = rd32(cb + p); calls[c].start_us = rd32(cb + p + 4); calls[c].stop_us = rd32(cb + p + 12);
    uint16_t port = rd16(cb + p + 8);
    for (int l = 0; l < 2; l++) { calls[c].dst[l].sin_family = AF_INET; calls[c].dst[l].sin_addr = addr; calls[c].dst[l].sin_port = htons((uint16_t)(port + l)); }
  }
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 4 << 20; setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  uint32_t *active = calloc(ncall ? ncall : 1, sizeof *active); uint32_t nactive = 0, started = 0;
  unsigned long long late_hist[LATE_BINS] = {0}; int64_t max_late = 0;
  struct timespec rt; clock_gettime(CLOCK_REALTIME, &rt); int64_t t0 = mono_us();
  printf("S %.3f\n", rt.tv_sec * 1000.0 + rt.tv_nsec / 1e6); fflush(stdout);
  int64_t end_us = (int64_t)(seconds * 1e6), next_progress = 0;
  /* Calls are sorted by start. A 1 ms tick sends everything due: a thousand calls cost one wake-up, not one each. */
  for (int64_t tick = 0;; tick += 1000) {
    int64_t now = mono_us() - t0;
    if (tick > now) { struct timespec ts = { 0, (long)(tick - now) * 1000 }; nanosleep(&ts, NULL); now = mono_us() - t0; }
    while (started < ncall && calls[started].start_us <= now) active[nactive++] = started++;
    for (uint32_t i = 0; i < nactive;) {
      call_t *c = &calls[active[i]]; rec_t *r = &recs[c->rec];
      while (c->next < r->n) {
        pkt_t *q = &r->pkts[c->next]; int64_t due = (int64_t)c->start_us + q->time_us;
        if (due > now || due >= c->stop_us) break;
        int64_t late = now - due; if (late > max_late) max_late = late;
        late_hist[late / 100 < LATE_BINS - 1 ? late / 100 : LATE_BINS - 1]++;
        iov[pending].iov_base = (void *)q->data; iov[pending].iov_len = q->len;
        memset(&msgs[pending], 0, sizeof msgs[pending]);
        msgs[pending].msg_hdr.msg_iov = &iov[pending]; msgs[pending].msg_hdr.msg_iovlen = 1;
        msgs[pending].msg_hdr.msg_name = &c->dst[q->leg ? 1 : 0]; msgs[pending].msg_hdr.msg_namelen = sizeof c->dst[0];
        if (++pending == BATCH) flush_batch();
        c->next++;
      }
      int done = c->next >= r->n || (int64_t)c->start_us + r->pkts[c->next].time_us >= c->stop_us;
      if (done) active[i] = active[--nactive]; else i++;
    }
    flush_batch();
    if (now >= next_progress) { printf("P %llu %u %lld\n", sent, nactive, (long long)now); fflush(stdout); next_progress = now + 200000; }
    if ((nactive == 0 && started == ncall) || now >= end_us) break;
    if (tick < now - 50000) tick = now - now % 1000; /* after a stall, do not replay the missed ticks one by one */
  }
  unsigned long long total = 0, acc = 0; for (int i = 0; i < LATE_BINS; i++) total += late_hist[i];
  double p99 = 0; for (int i = 0; i < LATE_BINS; i++) { acc += late_hist[i]; if (acc * 100 >= total * 99) { p99 = i / 10.0; break; } }
  printf("D %llu %llu %.3f %.1f\n", sent, errors, max_late / 1000.0, p99); fflush(stdout);
  return 0;
}
`;

/** One datagram of a recording: leg 0 = rx (sent to the even port), 1 = tx (port + 1). */
export interface SenderDatagram {
  leg: number;
  timeMs: number;
  data: Uint8Array;
}

/** One call of a step: recording index, when it starts and where (both in the step's time, ms). */
export interface SenderCall {
  recording: number;
  startMs: number;
  /** Datagrams due at or after this step time are not sent (the step ends). */
  stopMs: number;
  rxPort: number;
}

export interface SenderProgress {
  sent: number;
  activeCalls: number;
  elapsedMs: number;
}

export interface SenderResult {
  sent: number;
  errors: number;
  /** Wall-clock time (ms since the epoch) of the step's time 0: a call's packet at offset t was due at startWallMs + startMs + t. */
  startWallMs: number;
  maxLateMs: number;
  p99LateMs: number;
}

let compiled: string | null = null;

/** Compiles `source` once per content hash into the temp folder and returns the binary's path. */
export function compileC(source: string, name: string): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const binary = join(tmpdir(), `${name}-${hash}`);
  if (existsSync(binary)) return binary;
  const file = `${binary}.${process.pid}.c`;
  writeFileSync(file, source);
  try {
    execFileSync('cc', ['-O2', '-o', `${binary}.${process.pid}`, file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    execFileSync('mv', ['-f', `${binary}.${process.pid}`, binary]);
  } catch (err) {
    throw new Error(`${name} needs a C compiler (\`cc\`): ${(err as Error).message.split('\n')[0]}`);
  }
  return binary;
}

function senderBinary(): string {
  compiled ??= compileC(SENDER_C, 'forkguard-call-sender');
  return compiled;
}

/** Every recording's datagrams, in the layout the sender reads (little-endian). */
export function encodeRecordings(recordings: SenderDatagram[][]): Buffer {
  let size = 4;
  for (const r of recordings) {
    size += 4;
    for (const d of r) size += 8 + d.data.length;
  }
  const out = Buffer.alloc(size);
  let p = out.writeUInt32LE(recordings.length, 0);
  for (const r of recordings) {
    p = out.writeUInt32LE(r.length, p);
    for (const d of r) {
      out.writeUInt32LE(Math.round(d.timeMs * 1000), p);
      out[p + 4] = d.leg;
      out.writeUInt16LE(d.data.length, p + 6);
      out.set(d.data, p + 8);
      p += 8 + d.data.length;
    }
  }
  return out;
}

/** A step's calls in the sender's layout, sorted by start time. */
export function encodeCalls(calls: SenderCall[]): Buffer {
  const sorted = [...calls].sort((a, b) => a.startMs - b.startMs);
  const out = Buffer.alloc(4 + 16 * sorted.length);
  out.writeUInt32LE(sorted.length, 0);
  sorted.forEach((c, i) => {
    const p = 4 + 16 * i;
    out.writeUInt32LE(c.recording, p);
    out.writeUInt32LE(Math.round(c.startMs * 1000), p + 4);
    out.writeUInt16LE(c.rxPort, p + 8);
    out.writeUInt32LE(Math.round(c.stopMs * 1000), p + 12);
  });
  return out;
}

/**
 * Runs the sender over `callsFile` until every call has ended or `seconds` have passed. `onStart` fires with
 * the step's wall-clock origin as soon as the sender has it. Rejects if the sender fails or `signal` aborts.
 */
export function runSender(options: {
  recordingsFile: string;
  callsFile: string;
  host: string;
  seconds: number;
  /** CPUs the sender is pinned to (taskset list), or undefined to leave it to the scheduler. */
  cpu?: string;
  onProgress?: (p: SenderProgress) => void;
  onStart?: (startWallMs: number) => void;
  signal?: AbortSignal;
}): Promise<SenderResult> {
  const child = spawn(
    senderBinary(),
    [options.recordingsFile, options.callsFile, options.host, String(options.seconds)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (options.cpu !== undefined && child.pid !== undefined) pinProcess(child.pid, options.cpu);
  const stop = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', stop, { once: true });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let startWallMs = Number.NaN;
  let done: SenderResult | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const f = line.split(' ');
    if (f[0] === 'S') {
      startWallMs = Number(f[1]);
      options.onStart?.(startWallMs);
    } else if (f[0] === 'P') {
      options.onProgress?.({ sent: Number(f[1]), activeCalls: Number(f[2]), elapsedMs: Number(f[3]) / 1000 });
    } else if (f[0] === 'D') {
      done = {
        sent: Number(f[1]),
        errors: Number(f[2]),
        startWallMs,
        maxLateMs: Number(f[3]),
        p99LateMs: Number(f[4]),
      };
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', stop);
      if (done !== null && code === 0) resolve(done);
      else reject(new Error(`packet sender exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`));
    });
  });
}
