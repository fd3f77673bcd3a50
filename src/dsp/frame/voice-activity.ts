import type { FrameFeatures } from './frame-features.ts';

/**
 * Voice-activity detection for one leg: a classic signal-processing detector, not a trained model. Every constant
 * below is a physical or published figure, explained where it is defined; none was fitted to a test signal.
 *
 * Decision, per 20 ms frame (each cue is a linear ramp 0..1 between the bounds given with its constants):
 *
 *   speechProb = E * (1 - T) * (1 - W) * V * max(M, P)
 *
 *   E  energy:       telephone-band level of the 32 ms block and level of the 20 ms frame, both 2..6 dB above the
 *                    minimum-statistics noise floor, block above an absolute -60 dBFS gate; or the 300-1000 Hz
 *                    band of the block 3..7 dB above that band's own floor (see LOW_BAND below).
 *   V  voicing:      YIN periodicity (0.5..0.8).
 *   M  modulation:   syllabic envelope modulation. Speech alternates syllable nuclei with consonant and pause dips
 *                    3-6 times a second (the ~4 Hz syllable rate); stationary noise, held tones and chords do not dip.
 *   P  pitch motion: a voice's pitch glides (intonation); a held note or a tone generator holds it to a fraction of
 *                    a percent. Tracking jumps (octave errors, note changes) are not glides and do not count.
 *   W  white:        spectral flatness at the level of white noise (the periodicity of such a frame is chance).
 *   T  tonality:     residual power outside +-2 bins of the two strongest peaks below -26..-33 dB: one or two pure
 *                    tones (DTMF, call progress, test tones), held 120 ms after the last tonal frame.
 *
 * A voice therefore needs energy, periodicity, and either syllabic modulation or a gliding pitch, and never looks
 * like one or two spectral lines. Held chords have periodicity without motion or dips; tones and DTMF fail T in
 * any cadence; stationary noise fails E once the floor has adapted (~1.5 s) and V always. Unvoiced consonants get
 * no evidence of their own: the hangover carries them.
 *
 * isSpeech = speechProb >= 0.5, extended by a hangover of 8 frames (160 ms) after any run of >= 3 speech frames, as
 * in the ITU-T G.729 Annex B / 3GPP AMR VADs: it bridges stop closures and word-final unvoiced consonants (50-150 ms)
 * without letting isolated frames extend themselves.
 *
 * Known limits: a singing voice or a melody with vibrato and note changes has periodicity, motion and dips, and is
 * called speech; babble (several talkers) is called speech, as a listener would.
 */

/** Minimum statistics (Martin 2001): the floor is the minimum of the smoothed level over 6 sub-windows of 12 frames
 * (1.44 s), long enough to span the pauses between words, short enough to follow a changing line. */
const SUB_WINDOW_FRAMES = 12;
const SUB_WINDOWS = 6;
/** Level smoothing before taking minima: time constant ~90 ms, which steadies noise without following syllables. */
const LEVEL_SMOOTHING = 0.8;
/** Minimum of a smoothed noise level sits below its mean; ~1 dB for the ~100-bin telephone band at this smoothing. */
const FLOOR_BIAS_DB = 1;
/** Floor never below this: below 16-bit quantisation noise, so digital silence keeps finite arithmetic. */
const FLOOR_MIN_DBFS = -100;
/** Nominal active speech on telephone networks is near -20 dBm0 (about -23 dBFS); -60 dBFS is 15 dB below the
 * quietest plausible talker and close to G.711 idle-channel noise. */
const SPEECH_MIN_DBFS = -60;
/*
 * LOW_BAND: on a noisy line (white or broadband noise near the speech level) the whole band barely rises above its
 * floor while a talker speaks, but voiced speech puts most of its power into 300-1000 Hz (first formant, low
 * harmonics), where white noise has under a quarter of its power (700 of 3,100 Hz): that band still rises several
 * dB. Its cue only lets the frame be considered (and its pitch searched); voicing and modulation still decide, so
 * noise does not become speech through it. The 20 ms frame check of the full band is not applied to it: its
 * purpose, cutting the tail of a gated tone, is served by the tonality cue, and in such noise the frame level
 * never clears it.
 */
/** The low band's ramp sits 1 dB higher: its ~22 bins make a noise frame's power spread about twice as far around
 * its mean as the ~100 bins of the whole band do, and its minimum sits further below the mean. */
const LOW_SNR_LOW_DB = 3;
const LOW_SNR_HIGH_DB = 7;
/** Energy ramp: a frame 2 dB over the floor is within the floor's own frame-to-frame spread; at 6 dB the frame's
 * power is three quarters foreground. Periodicity and modulation carry the rest of the decision. */
const SNR_LOW_DB = 2;
const SNR_HIGH_DB = 6;
/** Syllabic dips: the envelope peak-hold releases at 25 dB/s, slower than a syllable's 10-20 dB fall in 50-100 ms
 * but fast enough to follow level changes over a second; dips are averaged over ~0.5 s (two syllables). */
const PEAK_RELEASE_DB_PER_FRAME = 0.5;
const MODULATION_SMOOTHING = Math.exp(-0.02 / 0.5);
/** Mean dip of a syllabic envelope (10-20 dB peak-to-valley) is several dB; stationary noise gives ~0.5-1 dB. */
const MODULATION_LOW_DB = 2;
const MODULATION_HIGH_DB = 5;
/** White noise has a magnitude-spectrum flatness of ~0.85 (Rayleigh-distributed bins); telephone-band fricatives
 * are coloured and stay lower. */
const WHITE_FLATNESS_LOW = 0.72;
const WHITE_FLATNESS_HIGH = 0.82;
/** Voicing (1 - YIN normalised difference): 0.5 means half the energy is periodic; 0.8 is clearly voiced. */
const VOICING_LOW = 0.5;
const VOICING_HIGH = 0.8;
/** Pitch motion: net |ln f0| change per 20 ms over 60 ms of consecutive voiced frames. Intonation moves a voice by
 * 5-30 semitones/s (0.6-3.5% per frame); a held note moves < 0.2% per frame once estimation noise cancels out. */
const MOTION_LOW = 0.002;
const MOTION_HIGH = 0.008;
const MOTION_SPAN = 3;
const MOTION_SMOOTHING = 0.75;
/** 8% in 20 ms is ~70 semitones/s, faster than the fastest intonation rises: anything larger is a tracking jump. */
const MAX_GLIDE_STEP = 0.08;
/** Tonality: a Hann-windowed sinusoid leaks at most -34 dB of its power outside +-2 bins of its peak (half-bin
 * offset, the worst case), so one or two tones leave a residual below -33 dB; voiced speech leaves other harmonics,
 * formants and breath noise at -27 dB or more (male and female, synthetic and espeak-ng voices). The ramp spans
 * residuals of -26 to -33 dB. */
const TONALITY_LOW = 1 - 10 ** (-26 / 10);
const TONALITY_HIGH = 1 - 10 ** (-33 / 10);
/** Frames after a tonal frame still treated as tone: 120 ms, longer than the 40-100 ms gaps of keyed DTMF and
 * short enough that speech right after a prompt tone loses at most its first syllable's onset. */
const TONAL_HOLD_FRAMES = 6;
const SPEECH_THRESHOLD = 0.5;
const BURST_FRAMES = 3;
const HANGOVER_FRAMES = 8;

/*
 * Each cue is a linear ramp from 0 at LOW to 1 at HIGH, written out at the call site as
 * min(1, max(0, (x - LOW) * SLOPE)): Math.min/max compile to instructions, whereas a helper returning a number
 * that the optimiser declines to inline would box (allocate) its result on every frame.
 */

/** Minimum statistics of one band's power (Martin 2001), as described with SUB_WINDOW_FRAMES. */
class NoiseFloorTracker {
  /** The floor, dBFS, including FLOOR_BIAS_DB. */
  floorDbfs = FLOOR_MIN_DBFS;
  private readonly subMinima = new Float64Array(SUB_WINDOWS);
  private subIndex = 0;
  private subCount = 0;
  private currentMin = Number.POSITIVE_INFINITY;
  private smoothedPower = -1;
  /** Linear minimum behind floorDbfs (NaN: none yet, so the first frame always converts). */
  private floorPower = Number.NaN;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.subMinima.fill(Number.POSITIVE_INFINITY);
    this.subIndex = 0;
    this.subCount = 0;
    this.currentMin = Number.POSITIVE_INFINITY;
    this.smoothedPower = -1;
    this.floorPower = Number.NaN;
    this.floorDbfs = FLOOR_MIN_DBFS;
  }

  /** Takes the next frame's band power (linear, relative to full scale) and updates floorDbfs. */
  update(power: number): void {
    const s =
      this.smoothedPower < 0 ? power : LEVEL_SMOOTHING * this.smoothedPower + (1 - LEVEL_SMOOTHING) * power;
    this.smoothedPower = s;
    if (s < this.currentMin) this.currentMin = s;
    if (++this.subCount === SUB_WINDOW_FRAMES) {
      this.subMinima[this.subIndex] = this.currentMin;
      this.subIndex = (this.subIndex + 1) % SUB_WINDOWS;
      this.subCount = 0;
      this.currentMin = Number.POSITIVE_INFINITY;
    }
    let min = this.currentMin;
    for (let i = 0; i < SUB_WINDOWS; i++) if (this.subMinima[i] < min) min = this.subMinima[i];
    // The minimum changes on few frames (a new low, or a sub-window leaving the span): the logarithm is only
    // recomputed then.
    if (min === this.floorPower) return;
    this.floorPower = min;
    let floorDb = min > 1e-10 ? 10 * Math.log10(min) + FLOOR_BIAS_DB : FLOOR_MIN_DBFS;
    if (floorDb < FLOOR_MIN_DBFS) floorDb = FLOOR_MIN_DBFS;
    this.floorDbfs = floorDb;
  }
}

export class VoiceActivity {
  /** Mean-square telephone-band (300-3400 Hz) power of the current frame relative to full scale, linear. */
  bandPower = 0;
  /** The same for 300-1000 Hz (LOW_BAND). */
  lowBandPower = 0;
  /** Energy cue E of the current frame, 0..1. */
  energy = 0;
  /** The frame stands out of the noise floor (E > 0): only then can it be speech, and only then is pitch searched. */
  foreground = false;
  speechProb = 0;
  isSpeech = false;
  snrDb = 0;
  modulationDb = 0;
  pitchMotion = 0;

  private readonly floor = new NoiseFloorTracker();
  private readonly lowFloor = new NoiseFloorTracker();
  private peakDb = FLOOR_MIN_DBFS;
  /** Ring of the last MOTION_SPAN + 1 log-pitches of consecutive voiced frames. */
  private readonly logPitch = new Float64Array(MOTION_SPAN + 1);
  private chainIndex = 0;
  private chainLength = 0;
  private burst = 0;
  private tonalHold = 0;
  private hangover = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.floor.reset();
    this.lowFloor.reset();
    this.peakDb = FLOOR_MIN_DBFS;
    this.logPitch.fill(0);
    this.chainIndex = 0;
    this.chainLength = 0;
    this.burst = 0;
    this.hangover = 0;
    this.tonalHold = 0;
    this.bandPower = 0;
    this.lowBandPower = 0;
    this.energy = 0;
    this.foreground = false;
    this.speechProb = 0;
    this.isSpeech = false;
    this.snrDb = 0;
    this.modulationDb = 0;
    this.pitchMotion = 0;
  }

  /**
   * First stage, before pitch: tracks the noise floor and the syllabic envelope from `bandPower` (set just before)
   * and the frame level, and decides whether the frame stands out of the floor (`foreground`). Inputs travel in
   * fields and objects rather than as number arguments so that no double is boxed on the way.
   */
  updateEnergy(f: FrameFeatures): void {
    const bandPower = this.bandPower;
    const levelDb = bandPower > 1e-10 ? 10 * Math.log10(bandPower) : FLOOR_MIN_DBFS;
    this.floor.update(bandPower);
    this.lowFloor.update(this.lowBandPower);
    const floorDb = this.floor.floorDbfs;
    const snr = levelDb - floorDb;
    this.snrDb = snr;

    // Envelope clamped at the floor so sub-floor noise wiggles do not count as syllables.
    const env = Math.max(levelDb, floorDb);
    this.peakDb = Math.max(env, this.peakDb - PEAK_RELEASE_DB_PER_FRAME);
    const dip = this.peakDb - env;
    this.modulationDb = MODULATION_SMOOTHING * this.modulationDb + (1 - MODULATION_SMOOTHING) * dip;

    // The 32 ms analysis block reaches 12 ms into the previous frame: the current 20 ms must carry the energy too, or
    // the tail of a sound that just stopped (a tone burst cut off, a gated prompt) would be judged as present.
    const eBlock =
      levelDb > SPEECH_MIN_DBFS
        ? Math.min(1, Math.max(0, (snr - SNR_LOW_DB) / (SNR_HIGH_DB - SNR_LOW_DB)))
        : 0;
    const eFrame = Math.min(
      1,
      Math.max(0, (f.levelDbfs - floorDb - SNR_LOW_DB) / (SNR_HIGH_DB - SNR_LOW_DB)),
    );
    const lowPower = this.lowBandPower;
    const lowDb = lowPower > 1e-10 ? 10 * Math.log10(lowPower) : FLOOR_MIN_DBFS;
    const eLow =
      lowDb > SPEECH_MIN_DBFS
        ? Math.min(
            1,
            Math.max(
              0,
              (lowDb - this.lowFloor.floorDbfs - LOW_SNR_LOW_DB) / (LOW_SNR_HIGH_DB - LOW_SNR_LOW_DB),
            ),
          )
        : 0;
    this.energy = Math.max(Math.min(eBlock, eFrame), eLow);
    this.foreground = this.energy > 0;
  }

  /**
   * Second stage: reads voicing, pitchHz, flatness and tonality and writes speechProb, isSpeech, noiseFloorDbfs,
   * snrDb and modulationDb into `f`.
   */
  decide(f: FrameFeatures): void {
    const pitchHz = f.pitchHz;
    this.trackPitchMotion(f);
    const e = this.energy;
    const m = Math.min(
      1,
      Math.max(0, (this.modulationDb - MODULATION_LOW_DB) / (MODULATION_HIGH_DB - MODULATION_LOW_DB)),
    );
    const w = Math.min(
      1,
      Math.max(0, (f.flatness - WHITE_FLATNESS_LOW) / (WHITE_FLATNESS_HIGH - WHITE_FLATNESS_LOW)),
    );
    const v = Math.min(1, Math.max(0, (f.voicing - VOICING_LOW) / (VOICING_HIGH - VOICING_LOW)));
    const p =
      pitchHz > 0
        ? Math.min(1, Math.max(0, (this.pitchMotion - MOTION_LOW) / (MOTION_HIGH - MOTION_LOW)))
        : 0;
    let t = Math.min(1, Math.max(0, (f.tonality - TONALITY_LOW) / (TONALITY_HIGH - TONALITY_LOW)));
    // A frame right after a pure-tone frame is judged as tone too: a tone gated on and off (DTMF 40-50 ms bursts,
    // cadenced call-progress tones) smears its spectrum in the blocks that straddle an edge, while nothing about
    // the source has changed.
    if (t >= 0.5) this.tonalHold = TONAL_HOLD_FRAMES;
    else if (this.tonalHold > 0) {
      this.tonalHold--;
      t = 1;
    }
    const prob = e * (1 - t) * (1 - w) * v * Math.max(m, p);
    this.speechProb = prob;
    f.speechProb = prob;

    if (prob >= SPEECH_THRESHOLD) {
      this.burst++;
      if (this.burst >= BURST_FRAMES) this.hangover = HANGOVER_FRAMES;
      this.isSpeech = true;
    } else {
      this.burst = 0;
      if (this.hangover > 0) {
        this.hangover--;
        this.isSpeech = true;
      } else {
        this.isSpeech = false;
      }
    }
    f.isSpeech = this.isSpeech;
    f.noiseFloorDbfs = this.floor.floorDbfs;
    f.snrDb = this.snrDb;
    f.modulationDb = this.modulationDb;
  }

  /**
   * Pitch motion is the net change of log-pitch over the last MOTION_SPAN voiced frames, per frame: a glide adds up
   * while estimation noise and jitter, which alternate in sign, cancel. A step larger than MAX_GLIDE_STEP between
   * consecutive frames is a tracking jump (octave error, a different voice or note), not a glide, and restarts the
   * chain.
   */
  private trackPitchMotion(f: FrameFeatures): void {
    const pitchHz = f.pitchHz;
    const chain = this.logPitch;
    if (pitchHz <= 0) {
      this.chainLength = 0;
      return;
    }
    const lp = Math.log(pitchHz);
    if (this.chainLength > 0) {
      const step = lp - chain[(this.chainIndex + MOTION_SPAN) % (MOTION_SPAN + 1)];
      if (step > MAX_GLIDE_STEP || step < -MAX_GLIDE_STEP) this.chainLength = 0;
    }
    this.chainIndex = (this.chainIndex + 1) % (MOTION_SPAN + 1);
    chain[this.chainIndex] = lp;
    if (this.chainLength < MOTION_SPAN + 1) this.chainLength++;
    if (this.chainLength === MOTION_SPAN + 1) {
      const oldest = chain[(this.chainIndex + 1) % (MOTION_SPAN + 1)];
      const slope = Math.abs(lp - oldest) / MOTION_SPAN;
      this.pitchMotion = MOTION_SMOOTHING * this.pitchMotion + (1 - MOTION_SMOOTHING) * slope;
    }
  }
}
