/**
 * Tracks one stretch of a per-frame classification (a tone, or one of several mutually exclusive tones given
 * by a code) and hands back each stretch when it ends. Up to `maxMisses` frames without the code are ridden
 * over, so a phase reversal or a codec glitch does not split a tone. Plain numeric fields: no allocation.
 */
export class ToneRun {
  /** Code of the stretch in progress, -1 when none. */
  code = -1;
  startFrame = 0;
  /** Last frame that carried the code. */
  lastFrame = 0;
  /** Set by the owner once it has reported this stretch, so it is reported once. */
  reported = false;
  /** Valid after update() returned true: the stretch that just ended, frames [endedStart, endedEnd). */
  endedCode = -1;
  endedStart = 0;
  endedEnd = 0;
  private misses = 0;
  private readonly maxMisses: number;

  constructor(maxMisses: number) {
    this.maxMisses = maxMisses;
  }

  /** Frames the stretch in progress has lasted so far (up to its last carrying frame). */
  frames(): number {
    return this.code < 0 ? 0 : this.lastFrame + 1 - this.startFrame;
  }

  /** Feeds frame `frame`'s code (-1 for none). Returns true when a stretch ended at this frame. */
  update(code: number, frame: number): boolean {
    if (code >= 0 && code === this.code) {
      this.lastFrame = frame;
      this.misses = 0;
      return false;
    }
    let ended = false;
    if (this.code >= 0) {
      this.misses++;
      if (code < 0 && this.misses <= this.maxMisses) return false;
      this.endedCode = this.code;
      this.endedStart = this.startFrame;
      this.endedEnd = this.lastFrame + 1;
      this.code = -1;
      ended = true;
    }
    if (code >= 0) {
      this.code = code;
      this.startFrame = frame;
      this.lastFrame = frame;
      this.misses = 0;
      this.reported = false;
    }
    return ended;
  }

  /** Ends whatever is in progress (end of call or a break in the frames). Returns true if a stretch ended. */
  close(): boolean {
    if (this.code < 0) return false;
    this.endedCode = this.code;
    this.endedStart = this.startFrame;
    this.endedEnd = this.lastFrame + 1;
    this.code = -1;
    this.misses = 0;
    return true;
  }
}
