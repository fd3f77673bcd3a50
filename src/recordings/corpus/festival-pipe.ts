import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Festival speech through long-lived `festival --pipe` processes, one per phrase being synthesised at once.
 *
 * `text2wave` starts Festival and loads its voice for every phrase: about 1.4 s of CPU, many times what the
 * phrase itself costs, and most of a corpus's generation time. The driver below is text2wave's own synthesis
 * loop (tts_file with a hook that appends each utterance's wave to one RIFF file, whose header is rewritten with
 * the total at the end), so a phrase comes out byte-identical to text2wave's; test/corpus/festival-pipe.test.ts
 * compares the two.
 */
const DRIVER = `
(gc-status nil)
(defvar fg_fp nil)
(defvar fg_samples 0)
(defvar fg_last nil)
(define (fg_save utt)
  (if (eq? fg_samples 0)
      (wave.save.header fg_fp (utt.wave utt) 'riff nil (list (list "numsamples" 0))))
  (set! fg_samples (+ fg_samples (get_param 'num_samples (wave.info (utt.wave utt)) 0)))
  (wave.save.data.fp (utt.wave utt) fg_fp 'riff nil)
  (set! fg_last utt))
(define (fg_say textfile outfile)
  (set! fg_samples 0)
  (set! fg_fp (fopen outfile "wb"))
  (set! tts_hooks (list utt.synth fg_save))
  (tts_file textfile (tts_find_text_mode textfile auto-text-mode-alist))
  (fseek fg_fp 0 0)
  (wave.save.header fg_fp (utt.wave fg_last) 'riff nil (list (list "numsamples" fg_samples)))
  (fclose fg_fp))
(define (fg_request id voice stretch textfile outfile)
  (unwind-protect
    (begin
      (eval (list voice))
      (Parameter.set 'Duration_Stretch stretch)
      (fg_say textfile outfile)
      (format t "fg-done %s\\n" id))
    (format t "fg-fail %s\\n" id))
  (fflush nil))
`;

interface Pending {
  id: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

class FestivalProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private pending: Pending | null = null;
  private stderr = '';
  exited = false;

  constructor(private readonly onExit: (p: FestivalProcess) => void) {
    this.child = spawn('festival', ['--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.write(DRIVER);
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      // Only the tail matters for an error message; Festival is otherwise quiet here.
      this.stderr = (this.stderr + s).slice(-2000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    const fail = (why: string) => {
      if (this.exited) return;
      this.exited = true;
      this.onExit(this);
      this.pending?.reject(new Error(`festival ${why}${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
      this.pending = null;
    };
    this.child.on('error', (err) => fail(`could not run (${err.message})`));
    this.child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
    this.child.stdin.on('error', () => {
      // The exit handler reports it; a write after exit must not throw out of the process.
    });
    this.keepNodeAlive(false);
  }

  say(voice: string, stretch: number, textFile: string, wavFile: string, id: string): Promise<void> {
    this.keepNodeAlive(true);
    this.stderr = '';
    return new Promise<void>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.child.stdin.write(
        `(fg_request "${id}" '${voice} ${stretch.toFixed(3)} ${schemeString(textFile)} ${schemeString(wavFile)})\n`,
      );
    }).finally(() => this.keepNodeAlive(false));
  }

  close(): void {
    this.child.stdin.end();
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p) return;
    if (line === `fg-done ${p.id}`) {
      this.pending = null;
      p.resolve();
    } else if (line === `fg-fail ${p.id}`) {
      this.pending = null;
      p.reject(new Error(`festival could not synthesise: ${this.stderr.trim() || 'no message'}`));
    }
  }

  /** A waiting process must not keep Node running; a working one must, until its phrase is written. */
  private keepNodeAlive(working: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Unref[]) {
      if (working) handle.ref();
      else handle.unref();
    }
  }
}

interface Unref {
  ref(): void;
  unref(): void;
}

/** SIOD string literal: backslash and double quote escaped. */
function schemeString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const idle: FestivalProcess[] = [];
let requests = 0;

/**
 * Synthesises the text in `textFile` with Festival voice function `voice` (e.g. voice_kal_diphone) and duration
 * stretch `stretch` into the RIFF file `wavFile`, as `text2wave -eval (voice) -eval (Parameter.set
 * 'Duration_Stretch stretch) -o wavFile textFile` would. Processes are reused; as many run as phrases are asked
 * for at once.
 */
export async function festivalSay(
  voice: string,
  stretch: number,
  textFile: string,
  wavFile: string,
): Promise<void> {
  if (!/^[a-z0-9_]+$/i.test(voice)) throw new Error(`festival: not a voice function name: ${voice}`);
  const proc =
    idle.pop() ??
    new FestivalProcess((p) => {
      const at = idle.indexOf(p);
      if (at >= 0) idle.splice(at, 1);
    });
  try {
    await proc.say(voice, stretch, textFile, wavFile, String(++requests));
  } finally {
    if (!proc.exited) idle.push(proc);
  }
}

/** Ends the idle Festival processes (they also end by themselves when this process exits). */
export function closeFestival(): void {
  for (const p of idle.splice(0)) p.close();
}
