import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, readPcm16Wav, type Signal, scaleTo, tones } from './signals.ts';

const TEXTS = [
  'Please enter your sixteen digit card number followed by the pound key.',
  'Thank you for calling, your account balance is four hundred and twenty one dollars and nine cents.',
  'One two three four five six seven eight nine zero, star, hash.',
  'Hello? Hello, can you hear me? Yes, I was calling about the invoice from last Tuesday.',
  'Mm-hmm, right, okay, sure, no problem at all. Have a wonderful day.',
];
const VOICES = ['en-us', 'en-gb', 'en-us+f3', 'en-gb-scotland', 'en+f5', 'en-us+m7'];

/**
 * Telephone-band speech from espeak-ng (several voices, pitches and rates), resampled to 8 kHz with sox and
 * alternated between a loud (-4 dBm0) and a normal (-12 dBm0) talker level. About 2.5 minutes in all.
 */
let cachedSpeech: Signal | null = null;

export function espeakSpeech(): Signal {
  if (cachedSpeech === null) cachedSpeech = synthesiseSpeech();
  return cachedSpeech;
}

function synthesiseSpeech(): Signal {
  const dir = mkdtempSync(join(tmpdir(), 'fg-detectors-'));
  try {
    const parts: Signal[] = [];
    let i = 0;
    for (const voice of VOICES) {
      for (const text of TEXTS) {
        const wide = join(dir, `s${i}.wav`);
        const narrow = join(dir, `s${i}-8k.wav`);
        const pitch = 20 + ((i * 13) % 70);
        const rate = 130 + ((i * 17) % 80);
        execFileSync('espeak-ng', ['-v', voice, '-p', String(pitch), '-s', String(rate), '-w', wide, text]);
        execFileSync('sox', [wide, '-r', '8000', '-b', '16', '-e', 'signed', narrow]);
        parts.push(scaleTo(readPcm16Wav(readFileSync(narrow)), i % 2 ? -12 : -4));
        i++;
      }
    }
    return concat(...parts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Music-like signal: 0.5 s chords (root, major third, fifth, octave) of harmonic-rich notes walking round the
 * circle of fifths over two octaves, slightly detuned from chord to chord.
 */
export function chords(count: number): Signal {
  const parts: Signal[] = [];
  for (let c = 0; c < count; c++) {
    const root = 110 * 2 ** (((c * 7) % 24) / 12);
    const specs: { hz: number; dbm0: number; phase: number }[] = [];
    for (const ratio of [1, 1.26, 1.5, 2]) {
      for (let h = 1; h <= 8; h++) {
        const hz = root * ratio * h * (1 + 0.001 * c);
        if (hz < 3800) specs.push({ hz, dbm0: -14 - 4 * h, phase: h });
      }
    }
    parts.push(tones(0.5, specs));
  }
  return concat(...parts);
}
