/**
 * Where the main thread's time goes, stage by stage, for an operator (forkguard_stage_* metrics) and for
 * benchmarks: datagram handling, decoding per codec, per-frame analysis, window building, replay look-ups,
 * scoring, policy, alert production and the periodic sweep.
 *
 * One clock per process. Code entering a stage calls `enter` (which returns the stage it interrupts) and
 * `leave` with that value when it is done; time is exclusive, so a stage nested in another (the frames a packet
 * completes, inside its decode) is taken out of the outer one. Each switch costs one performance.now() and a few
 * array writes, so stages are entered at packet, frame and window boundaries only, never inside per-sample loops,
 * and datagrams are timed one in PACKET_SAMPLE_EVERY (see there).
 * The readings are main-thread wall time: while the thread is preempted (another process on the core, the model's
 * worker thread) the current stage keeps counting. Time outside every stage (the event loop, libuv, native socket
 * reads, idle) is in stage `outside`, which is not reported: process CPU minus the stages' sum is what the runtime
 * and the kernel cost.
 *
 * Work units (`count`) say how much work each packet causes: frames analysed from packets versus from the sweep,
 * sessions visited by sweeps, model runs and their wake-ups, replay batches and the hits their replies carry.
 */
// The module binding rather than the lazy global getter (a global lookup and property check per read).
import { performance } from 'node:perf_hooks';

export const STAGE = {
  outside: 0,
  /** Datagram handling: admission, session look-up, RTP parse, reorder ring (decode and frames excluded). */
  receive: 1,
  /** Payload decoding (and concealment, re-framing) per codec family. */
  decode_g711: 2,
  decode_g722: 3,
  decode_opus: 4,
  decode_l16: 5,
  /** Per-frame analysis of one leg: features, detectors, fingerprint, loop detector, window statistics. */
  frame: 6,
  /** Feature window computation (once per call per window hop). */
  window: 7,
  /** Replay index: building a batch for Redis, and parsing and tallying its reply. */
  replay: 8,
  /** Scoring loop on the main thread: starting a batched model run and handing results to calls. */
  score: 9,
  /** Alert policy: windows' probabilities and detector events judged. */
  policy: 10,
  /** Alert building and publishing. */
  alert: 11,
  /** The periodic ingest sweep: reorder play-out, idle fill and idle session ends (own work only). */
  sweep: 12,
} as const;

export const STAGE_NAMES: readonly string[] = Object.keys(STAGE);
export const STAGE_COUNT = STAGE_NAMES.length;

export const WORK = {
  /** Frames handed to an analyzer while a packet was being handled. */
  frames_from_packets: 0,
  /** Frames handed to an analyzer by the sweep (idle fill, reorder deadlines) or at session end. */
  frames_from_sweep: 1,
  /** Sessions visited by sweeps (each visit flushes both legs). */
  sessions_swept: 2,
  /** Model runs scheduled (setImmediate or setTimeout wake-ups of the scoring loop). */
  score_wakeups: 3,
  /** Windows handed to the scoring loop. */
  windows_enqueued: 4,
  /** Replay batches sent to the index (one per call per second of rx media). */
  replay_batches: 5,
  /** Members in replay look-up replies (each one a tally update). */
  replay_hits: 6,
  /** Tally entries visited when recomputing calls' replay status. */
  replay_tallies_visited: 7,
} as const;

export const WORK_NAMES: readonly string[] = Object.keys(WORK);
export const WORK_COUNT = WORK_NAMES.length;

/**
 * One datagram in this many is timed, with everything its handling runs (decode, the frames it completes, their
 * windows), and counted with this weight. Timing every datagram would cost three clock reads on a path that
 * otherwise takes about 250 ns; a 1-in-16 sample of a steady stream estimates the same totals (about 1,000
 * samples a second per 16,000 datagrams) for a sixteenth of that.
 */
export const PACKET_SAMPLE_EVERY = 16;
/** What `enter` returns inside an untimed datagram; `leave` ignores it. */
const UNTIMED = -1;

export class StageClock {
  /** Milliseconds per stage (exclusive; sampled datagrams weighted). */
  readonly ms = new Float64Array(STAGE_COUNT);
  /** Entries per stage (sampled datagrams weighted). */
  readonly calls = new Float64Array(STAGE_COUNT);
  /** Work units per WORK index. */
  readonly work = new Float64Array(WORK_COUNT);
  /** The stage running now. */
  current: number = STAGE.outside;
  /** True while the ingest sweep (or a session end) plays media out, so its frames are counted apart. */
  sweeping = false;
  private since = performance.now();
  /** PACKET_SAMPLE_EVERY while a sampled datagram is handled, else 1. */
  private weight = 1;
  /** True while an untimed datagram is handled: stage switches inside it are skipped. */
  private muted = false;
  private datagrams = 0;

  /**
   * Switches to `stage` at `now` (read here when not given); returns the interrupted stage, to be given back to
   * `leave`. Inside an untimed datagram it does nothing, not even read the clock.
   */
  enter(stage: number, now = -1): number {
    if (this.muted) return UNTIMED;
    const at = now < 0 ? performance.now() : now;
    const previous = this.current;
    this.ms[previous] += (at - this.since) * this.weight;
    this.since = at;
    this.current = stage;
    this.calls[stage] += this.weight;
    return previous;
  }

  /** Ends the current stage and resumes `previous` (what `enter` returned). */
  leave(previous: number, now = -1): void {
    if (previous === UNTIMED) return;
    const at = now < 0 ? performance.now() : now;
    this.ms[this.current] += (at - this.since) * this.weight;
    this.since = at;
    this.current = previous;
  }

  /**
   * Starts handling one datagram (stage `receive`) at `now` (read here when not given). One in
   * PACKET_SAMPLE_EVERY is timed and weighted; the others mute the clock until `leaveDatagram`.
   */
  enterDatagram(now = -1): number {
    if (++this.datagrams < PACKET_SAMPLE_EVERY) {
      this.muted = true;
      return UNTIMED;
    }
    this.datagrams = 0;
    const previous = this.enter(STAGE.receive, now);
    // The receive stage's entry is counted once above at weight 1; the sample stands for PACKET_SAMPLE_EVERY.
    this.calls[STAGE.receive] += PACKET_SAMPLE_EVERY - 1;
    this.weight = PACKET_SAMPLE_EVERY;
    return previous;
  }

  /**
   * `enter` for a stage that only a datagram's handling should time (decoding): outside a sampled datagram it
   * does nothing, so code driven without the ingest server (replaying a file into CallMedia, the benchmarks)
   * reads no clock per packet, and media the sweep plays out counts as sweep.
   */
  enterInDatagram(stage: number): number {
    return this.weight === 1 ? UNTIMED : this.enter(stage);
  }

  /** Ends a datagram's handling (what `enterDatagram` returned). */
  leaveDatagram(previous: number, now = -1): void {
    if (previous === UNTIMED) {
      this.muted = false;
      return;
    }
    this.leave(previous, now);
    this.weight = 1;
  }

  count(unit: number, n = 1): void {
    this.work[unit] += n;
  }
}

/** The process's clock: the media path is single-threaded, so one is shared by every call. */
export const STAGES = new StageClock();
