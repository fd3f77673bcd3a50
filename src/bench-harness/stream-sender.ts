/**
 * The synthetic stream sender of the UDP ingest benchmarks: a small C program (compiled on first use with the
 * system `cc`, cached in the temp folder) that sends PCMU RTP streams with correct sequence numbers and timestamps,
 * plain to consecutive ports (`pairs`) or under a STREP header to one port (`strep`, two streams per call), either
 * as fast as it can (pps 0) or paced at `pps` datagrams per second in all. An optional seventh argument, `loss`,
 * leaves each datagram unsent with that probability (independently, the same pattern every run), as a lossy network
 * would: its sequence number and timestamp are used up and its place in the pacing passes. It prints how many it
 * sent.
 */
import { spawn } from 'node:child_process';
import { compileC } from './native-sender.ts';
import { pinProcess } from './process-stats.ts';

/** C with sendmmsg, because an interpreted sender tops out far below what one receiver core takes. */
const SENDER_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static uint32_t xorshift32(uint32_t x) { x ^= x << 13; x ^= x >> 17; return x ^ (x << 5); }

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: mode host port streams seconds pps [loss]\n"); return 2; }
  int strep = strcmp(argv[1], "strep") == 0;
  const char *host = argv[2];
  int port = atoi(argv[3]), streams = atoi(argv[4]);
  double seconds = atof(argv[5]), pps = atof(argv[6]);
  /* A datagram is dropped when the next xorshift32 number is below loss * 2^32. */
  double loss = argc > 7 ? atof(argv[7]) : 0;
  uint32_t drop_below = loss <= 0 ? 0 : loss >= 1 ? 0xffffffffu : (uint32_t)(loss * 4294967296.0);
  uint32_t loss_rng = 0x2545f491u;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 4 << 20; setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  int hdr = strep ? 24 : 0, len = hdr + 12 + 160;
  unsigned char *bufs = calloc(streams, len);
  struct sockaddr_in *dst = calloc(streams, sizeof *dst);
  for (int i = 0; i < streams; i++) {
    unsigned char *b = bufs + (size_t)i * len;
    if (strep) {
      b[0] = 0xc4 | (i & 1); b[1] = 24;
      uint32_t id[4] = { htonl(0x5eed0000u), htonl((uint32_t)(i >> 1)), htonl(0x40000000u), htonl(0x80000000u) };
      memcpy(b + 8, id, 16);
    }
    b[hdr] = 0x80; b[hdr + 1] = 0;
    uint32_t ssrc = htonl((uint32_t)i + 1); memcpy(b + hdr + 8, &ssrc, 4);
    memset(b + hdr + 12, (i * 37 + 5) & 0x7f, 160);
    dst[i].sin_family = AF_INET; inet_pton(AF_INET, host, &dst[i].sin_addr);
    dst[i].sin_port = htons((uint16_t)(strep ? port : port + i));
  }
  /* Round 0 leaves in stream order, the order a receiver first sees the calls in and sets up their state in; every
     later round leaves in one fixed shuffled order, as the calls of a real fork arrive in the order of their phase in
     the 20 ms cycle, which has nothing to do with the order they started in. Seeded: every run and receiver sees
     the same order. */
  int *order = malloc(sizeof(int) * (size_t)streams);
  for (int i = 0; i < streams; i++) order[i] = i;
  uint32_t rng = 0x9e3779b9u;
  for (int i = streams - 1; i > 0; i--) {
    rng = xorshift32(rng);
    int j = (int)(rng % (uint32_t)(i + 1)), t = order[i]; order[i] = order[j]; order[j] = t;
  }
  enum { BATCH = 64 };
  struct mmsghdr msgs[BATCH]; struct iovec iov[BATCH];
  unsigned long long sent = 0, paced = 0;
  /* Paced: each batch is due when its place in the stream says, so the datagrams of one 20 ms round are spread
     over the round as the calls of a real fork arrive, instead of leaving in one burst. */
  double start = now_s(), end = start + seconds, gap = pps > 0 ? 1.0 / pps : 0;
  for (uint32_t k = 0; now_s() < end; k++) {
    uint16_t seq = htons((uint16_t)k); uint32_t ts = htonl(k * 160u);
    for (int i = 0; i < streams; i += BATCH) {
      int n = streams - i < BATCH ? streams - i : BATCH;
      if (gap > 0) {
        double due = start + paced * gap, t = now_s();
        if (due > t) { struct timespec nap = { (time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9) }; nanosleep(&nap, NULL); }
        paced += n;
      }
      int m = 0;
      for (int j = 0; j < n; j++) {
        int s = k == 0 ? i + j : order[i + j];
        if (drop_below > 0 && k > 2) {
          loss_rng = xorshift32(loss_rng);
          if (loss_rng < drop_below) continue;
        }
        unsigned char *b = bufs + (size_t)s * len;
        memcpy(b + hdr + 2, &seq, 2); memcpy(b + hdr + 4, &ts, 4);
        iov[m].iov_base = b; iov[m].iov_len = len;
        memset(&msgs[m], 0, sizeof msgs[m]);
        msgs[m].msg_hdr.msg_iov = &iov[m]; msgs[m].msg_hdr.msg_iovlen = 1;
        msgs[m].msg_hdr.msg_name = &dst[s]; msgs[m].msg_hdr.msg_namelen = sizeof dst[0];
        m++;
      }
      int r = m > 0 ? sendmmsg(fd, msgs, m, 0) : 0;
      if (r > 0) sent += r;
    }
  }
  printf("%llu\n", sent);
  return 0;
}
`;

let compiled: string | null = null;

/**
 * Starts the sender with `args` (mode host port streams seconds pps [loss]), pinned to `cpus` (taskset list) unless
 * null.
 * Resolves, once it has exited, to how many datagrams it sent (NaN when it printed no count).
 */
export function startStreamSender(args: readonly string[], cpus: string | null): Promise<number> {
  compiled ??= compileC(SENDER_C, 'forkguard-udp-sender');
  const child = spawn(compiled, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  if (cpus !== null && child.pid !== undefined) pinProcess(child.pid, cpus);
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  // 'close', not 'exit': the count can still be in the pipe when the process has exited.
  return new Promise<number>((resolve) => child.on('close', () => resolve(Number(output.trim()))));
}
