import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFestival, festivalSay } from '../../src/recordings/corpus/festival-pipe.ts';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-festival-'));
});
afterAll(async () => {
  closeFestival();
  await rm(dir, { recursive: true, force: true });
});

describe('Festival through long-lived processes', () => {
  it('writes the same bytes as text2wave, phrase after phrase and several at once', async () => {
    // Several utterances per phrase (tts_file splits them), stretches both ways, a quote in the text.
    const phrases: [string, number][] = [
      ['Hello, how can I help you today? I am calling about my bill.', 0.842],
      ['Please hold while I transfer you.', 1.1],
      ['Okay. "Right", thanks! Bye.', 1],
      ['My account number is four five six.', 0.93],
    ];
    const texts = await Promise.all(
      phrases.map(async ([text], i) => {
        const file = join(dir, `p${i}.txt`);
        await writeFile(file, text);
        return file;
      }),
    );
    const reference = await Promise.all(
      phrases.map(async ([, stretch], i) => {
        const out = join(dir, `ref${i}.wav`);
        await run('text2wave', [
          '-eval',
          '(voice_kal_diphone)',
          '-eval',
          `(Parameter.set 'Duration_Stretch ${stretch.toFixed(3)})`,
          '-o',
          out,
          texts[i],
        ]);
        return readFile(out);
      }),
    );
    // Twice in turn (a reused process keeps no state from the phrase before), then all at once.
    for (let round = 0; round < 2; round++) {
      for (const [i, [, stretch]] of phrases.entries()) {
        const out = join(dir, `seq${round}-${i}.wav`);
        await festivalSay('voice_kal_diphone', stretch, texts[i], out);
        expect(Buffer.compare(await readFile(out), reference[i]), `phrase ${i} round ${round}`).toBe(0);
      }
    }
    await Promise.all(
      phrases.map(([, stretch], i) =>
        festivalSay('voice_kal_diphone', stretch, texts[i], join(dir, `par${i}.wav`)),
      ),
    );
    for (const i of phrases.keys()) {
      expect(Buffer.compare(await readFile(join(dir, `par${i}.wav`)), reference[i]), `phrase ${i}`).toBe(0);
    }
  }, 120_000);

  it('rejects a phrase Festival cannot synthesise with its message, and goes on working', async () => {
    const text = join(dir, 'ok.txt');
    await writeFile(text, 'Goodbye.');
    await expect(
      festivalSay('voice_kal_diphone', 1, join(dir, 'missing.txt'), join(dir, 'x.wav')),
    ).rejects.toThrow(/festival could not synthesise/);
    await expect(festivalSay('no_such_voice', 1, text, join(dir, 'y.wav'))).rejects.toThrow(/festival/);
    await expect(festivalSay('(quit)', 1, text, join(dir, 'z.wav'))).rejects.toThrow(/not a voice function/);
    await festivalSay('voice_kal_diphone', 1, text, join(dir, 'ok.wav'));
    expect((await readFile(join(dir, 'ok.wav'))).length).toBeGreaterThan(1000);
  }, 60_000);
});
