import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { festivalSay } from './festival-pipe.ts';
import type { Prng } from './prng.ts';

const run = promisify(execFile);

/**
 * Every text-to-speech engine Debian packages, with their voices, so the model learns conversation structure
 * rather than one synthesiser's timbre.
 */
export type TtsEngine = 'espeak-ng' | 'flite' | 'festival';

export interface Voice {
  engine: TtsEngine;
  /** espeak-ng: language+variant (`en-us+f3`); flite: voice name; festival: voice function. */
  name: string;
  /** Speaking rate relative to the engine's default (1 = default). */
  rate: number;
  /** Pitch shift in semitones applied after synthesis (festival, flite) or engine pitch (espeak-ng). */
  pitch: number;
}

const ESPEAK_LANGS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'en-gb-x-rp', 'en-gb-x-gbcwmd'];
const ESPEAK_VARIANTS = ['', '+m1', '+m2', '+m3', '+m4', '+m7', '+f1', '+f2', '+f3', '+f4', '+f5', '+klatt'];
const FLITE_VOICES = ['kal', 'awb', 'rms', 'slt', 'kal16'];
const FESTIVAL_VOICES = ['voice_kal_diphone'];

/** Draws a voice: engine, speaker and prosody. */
export function randomVoice(rng: Prng): Voice {
  const r = rng.next();
  if (r < 0.5) {
    return {
      engine: 'espeak-ng',
      name: rng.pick(ESPEAK_LANGS) + rng.pick(ESPEAK_VARIANTS),
      rate: rng.uniform(0.8, 1.2),
      pitch: rng.uniform(-3, 3),
    };
  }
  if (r < 0.8) {
    return {
      engine: 'flite',
      name: rng.pick(FLITE_VOICES),
      rate: rng.uniform(0.85, 1.2),
      pitch: rng.uniform(-3, 3),
    };
  }
  return {
    engine: 'festival',
    name: rng.pick(FESTIVAL_VOICES),
    rate: rng.uniform(0.85, 1.2),
    pitch: rng.uniform(-4, 4),
  };
}

export const REQUIRED_TOOLS = ['espeak-ng', 'flite', 'festival', 'sox'] as const;

/** Fails with one clear line when a tool the corpus needs is missing. */
export async function checkTtsTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')}: run scripts/setup.sh --corpus (Debian packages espeak-ng flite festival festvox-kallpc16k sox)`,
    );
  }
}

/**
 * Synthesises `text` with `voice` as 8 kHz mono float samples in [-1, 1]. Results are cached on disk by content
 * hash: engines are deterministic, and a corpus reuses phrases across many calls.
 */
export class TtsCache {
  constructor(private readonly dir: string) {}

  async speak(text: string, voice: Voice): Promise<Float32Array> {
    const key = createHash('sha1').update(
      JSON.stringify([voice.engine, voice.name, voice.rate, voice.pitch, text]),
    );
    const file = join(this.dir, `${key.digest('hex')}.s16`);
    try {
      return toFloat(await readFile(file));
    } catch {
      // not cached yet
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    const wav = `${tmp}.wav`;
    try {
      await synthesise(text, voice, wav);
      const pitchCents = Math.round(voice.engine === 'espeak-ng' ? 0 : voice.pitch * 100);
      const effects = pitchCents !== 0 ? ['pitch', String(pitchCents)] : [];
      // Telephone rate with sox's own anti-alias filter; a little gain headroom keeps pitch shifts from clipping.
      // -R -D: repeatable and undithered, so one seed gives byte-identical corpora.
      await run('sox', [
        '-R',
        '-D',
        wav,
        '-t',
        'raw',
        '-r',
        '8000',
        '-e',
        'signed',
        '-b',
        '16',
        '-c',
        '1',
        tmp,
        'gain',
        '-n',
        '-3',
        ...effects,
      ]);
      await rename(tmp, file);
      return toFloat(await readFile(file));
    } finally {
      await rm(wav, { force: true });
      await rm(tmp, { force: true });
    }
  }
}

async function synthesise(text: string, voice: Voice, wavPath: string): Promise<void> {
  switch (voice.engine) {
    case 'espeak-ng': {
      const words = Math.round(170 * voice.rate);
      const pitch = Math.round(50 + voice.pitch * 6);
      await run('espeak-ng', [
        '-v',
        voice.name,
        '-s',
        String(words),
        '-p',
        String(pitch),
        '-w',
        wavPath,
        text,
      ]);
      return;
    }
    case 'flite':
      await run('flite', [
        '-voice',
        voice.name,
        '--setf',
        `duration_stretch=${(1 / voice.rate).toFixed(3)}`,
        '-t',
        text,
        '-o',
        wavPath,
      ]);
      return;
    case 'festival': {
      const script = `${wavPath}.txt`;
      await writeFile(script, text);
      try {
        await festivalSay(voice.name, 1 / voice.rate, script, wavPath);
      } finally {
        await rm(script, { force: true });
      }
      return;
    }
  }
}

function toFloat(bytes: Buffer): Float32Array {
  const count = bytes.length >> 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.readInt16LE(i * 2) / 32768;
  return out;
}
