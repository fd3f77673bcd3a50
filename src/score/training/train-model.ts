import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { judgeCall } from '../../alert/call-judge.ts';
import { FEATURE_NAMES } from '../../dsp/feature-names.ts';
import { MemoryReplayIndex } from '../../dsp/fingerprint/memory-replay-index.ts';
import { analyzeRecording, type CallAnalysis } from '../call-analysis.ts';
import { MODEL_CLASSES, type ModelManifest } from '../model-manifest.ts';
import { OnnxScorer } from '../onnx-scorer.ts';
import { chooseThresholds, DEFAULT_TARGETS, type ScoredCall } from './choose-thresholds.ts';
import { SPLIT_NAMES, type Split, splitOf } from './corpus-split.ts';
import { confusionSvg, evaluateCalls, type JudgedCall } from './evaluation.ts';
import { findLabelledCalls, type LabelledCall } from './labelled-calls.ts';

const run = promisify(execFile);
const TRAINER = join(dirname(fileURLToPath(import.meta.url)), 'train_model.py');
/** A window carries a fraud label once this much of the behaviour lies inside it. */
const LABEL_DELAY_S = 1;
const WINDOW_HOP_S = 1;

export interface TrainOptions {
  corpus: string;
  out: string;
  name: string;
  seed: number;
  /** Point models/default.json at the new model. */
  makeDefault: boolean;
  python?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface TrainResult {
  manifestPath: string;
  manifest: ModelManifest;
  reportPath: string;
}

export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const python = options.python ?? process.env.FORKGUARD_PYTHON ?? '/usr/bin/python3';
  await checkPython(python);
  const { calls, skipped } = await findLabelledCalls([options.corpus]);
  if (calls.length === 0)
    throw new Error(`${options.corpus}: no labelled recorded calls (NAME.wav/.pcap with NAME.json)`);

  // 1. Features from exactly the live code path (the analyze path), one pass over the corpus.
  const index = new MemoryReplayIndex();
  const analyses: CallAnalysis[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls.length; i++) {
    analyses.push(await analyzeRecording(calls[i], index, WINDOW_HOP_S));
    options.onProgress?.('features', i + 1, calls.length);
  }
  const cpuS = Number(process.hrtime.bigint() - started) / 1e9;
  const audioS = analyses.reduce((a, c) => a + c.durationS, 0);
  await index.close();

  // 2. Window labels and the split (by campaign, else by call).
  const splits = calls.map((c) => splitOf(c.call, c.label.campaign, options.seed));
  const work = await mkdtemp(join(tmpdir(), 'forkguard-train-'));
  try {
    const featureCount = FEATURE_NAMES.length;
    const rows = analyses.reduce((a, c) => a + c.windowTimes.length, 0);
    const features = new Float32Array(rows * featureCount);
    const label: number[] = [];
    const split: number[] = [];
    const callOfRow: number[] = [];
    let r = 0;
    analyses.forEach((a, i) => {
      features.set(a.features, r * featureCount);
      for (const t of a.windowTimes) {
        label.push(windowLabel(calls[i], t));
        split.push(splits[i]);
        callOfRow.push(i);
        r++;
      }
    });
    await writeFile(join(work, 'features.f32'), new Uint8Array(features.buffer));
    await writeFile(
      join(work, 'windows.json'),
      JSON.stringify({
        features: FEATURE_NAMES,
        classes: MODEL_CLASSES,
        label,
        split,
        call: callOfRow,
        seed: options.seed,
      }),
    );

    // 3. The model itself: PyTorch, exported to ONNX (src/score/training/train_model.py).
    options.onProgress?.('training', 0, 1);
    try {
      await run(python, [TRAINER, '--data', work, '--out', work, '--seed', String(options.seed)], {
        maxBuffer: 1 << 26,
      });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`training failed: ${stderr.trim().split('\n').at(-1) ?? String(err)}`);
    }
    options.onProgress?.('training', 1, 1);
    const training = JSON.parse(await readFile(join(work, 'training.json'), 'utf8'));

    // 4. Thresholds and persistence on validation, through the real policy; then the held-out test.
    await mkdir(options.out, { recursive: true });
    const version = (await latestVersion(options.out, options.name)) + 1;
    const stem = `${options.name}-${version}`;
    await copyFile(join(work, 'model.onnx'), join(options.out, `${stem}.onnx`));
    const manifest: ModelManifest = {
      name: options.name,
      version,
      onnx: `${stem}.onnx`,
      input: { name: 'features', features: featureCount },
      output: { name: 'probabilities' },
      features: [...FEATURE_NAMES],
      normalisation: training.normalisation,
      classes: [...MODEL_CLASSES],
      thresholds: {},
      persistence: {},
      window_hop_s: WINDOW_HOP_S,
      training: {},
      metrics: {},
    };
    const manifestPath = join(options.out, `${stem}.manifest.json`);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const scorer = await OnnxScorer.load(manifestPath, rows);
    for (const a of analyses) {
      for (let w = 0; w < a.windowTimes.length; w++)
        scorer.add(a.features.subarray(w * featureCount, (w + 1) * featureCount));
    }
    const probs = (await scorer.run()).slice();
    await scorer.close();
    const classCount = MODEL_CLASSES.length;
    const scored: ScoredCall[] = [];
    let row = 0;
    for (const a of analyses) {
      const n = a.windowTimes.length;
      scored.push({
        label: '',
        onsetS: 0,
        windowTimes: a.windowTimes,
        probs: probs.subarray(row * classCount, (row + n) * classCount),
        replay: a.replay,
      });
      row += n;
    }
    calls.forEach((c, i) => {
      scored[i].label = c.label.label;
      scored[i].onsetS = c.label.onset_s;
    });
    const choices = chooseThresholds(
      MODEL_CLASSES,
      scored.filter((_, i) => splits[i] === 1),
      DEFAULT_TARGETS,
    );
    for (const [cls, choice] of Object.entries(choices)) {
      manifest.thresholds[cls] = choice.threshold;
      manifest.persistence[cls] = choice.persistence;
      if (choice.instant_threshold !== null) {
        manifest.instant_thresholds ??= {};
        manifest.instant_thresholds[cls] = choice.instant_threshold;
      }
    }
    const judged = (want: Split): JudgedCall[] =>
      calls
        .map((c, i) => ({ c, i }))
        .filter(({ i }) => splits[i] === want)
        .map(({ c, i }) => ({
          call: c.call,
          label: c.label.label,
          onsetS: c.label.onset_s,
          lastDigitS: c.label.last_digit_s,
          scenario: c.label.scenario,
          decisions: judgeCall(analyses[i], scored[i].probs, classCount, manifest),
        }));
    const test = evaluateCalls(judged(2));
    const validation = evaluateCalls(judged(1));
    const corpusHash = await hashCorpus(options.corpus, calls);
    manifest.training = {
      corpus: {
        path: basename(options.corpus),
        calls: calls.length,
        skipped: skipped.length,
        sha256: corpusHash,
      },
      split: Object.fromEntries(SPLIT_NAMES.map((name, s) => [name, splits.filter((x) => x === s).length])),
      split_rule: 'by campaign when the label names one, else by call; sha256(seed:group) -> 70/15/15',
      window_label_rule: `call label from onset_s + ${LABEL_DELAY_S} s on, legit before; card_entry calls are legit to the model (a rule handles them)`,
      seed: options.seed,
      windows: rows,
      feature_seconds_per_cpu_second: Math.round(audioS / cpuS),
      threshold_targets: DEFAULT_TARGETS,
      threshold_choice: choices,
      ...training,
      curve: undefined,
    };
    manifest.metrics = {
      test: summary(test),
      validation: summary(validation),
      window_metrics: training.window_metrics,
    };
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
    const reportPath = join(options.out, `${stem}.report.md`);
    await writeFile(
      join(options.out, `${stem}.report.json`),
      `${JSON.stringify({ test, validation, curve: training.curve }, null, 1)}\n`,
    );
    await writeFile(
      join(options.out, `${stem}.confusion.svg`),
      confusionSvg(test, `${stem}: held-out test calls`),
    );
    await writeFile(reportPath, reportMarkdown(stem, manifest, test, validation, audioS, cpuS));
    if (options.makeDefault) {
      await writeFile(
        join(options.out, 'default.json'),
        `${JSON.stringify({ manifest: `${stem}.manifest.json` })}\n`,
      );
    }
    return { manifestPath, manifest, reportPath };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function windowLabel(call: LabelledCall, mediaS: number): number {
  const cls = MODEL_CLASSES.indexOf(call.label.label as (typeof MODEL_CLASSES)[number]);
  if (cls <= 0) return 0;
  return mediaS >= call.label.onset_s + LABEL_DELAY_S ? cls : 0;
}

function summary(report: ReturnType<typeof evaluateCalls>) {
  return {
    calls: report.calls,
    legit_false_alarm_rate: report.legit_false_alarm_rate,
    classes: report.classes,
  };
}

async function checkPython(python: string): Promise<void> {
  try {
    await run(python, ['-c', 'import torch, numpy']);
  } catch {
    throw new Error(
      `${python} cannot import torch and numpy: run scripts/setup.sh --train (Debian python3-torch python3-numpy)`,
    );
  }
}

async function latestVersion(dir: string, name: string): Promise<number> {
  let latest = 0;
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)\\.manifest\\.json$`).exec(
      file,
    );
    if (m) latest = Math.max(latest, Number(m[1]));
  }
  return latest;
}

/**
 * sha256 over every recording and label (relative path and bytes), in code-unit order of the paths: the same on
 * every machine (localeCompare's collation depends on the process locale and puts 7 % of a corpus's paths in
 * another order).
 */
async function hashCorpus(root: string, calls: LabelledCall[]): Promise<string> {
  const h = createHash('sha256');
  for (const c of [...calls].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(relative(root, c.path));
    h.update(await readFile(c.path));
    h.update(JSON.stringify(c.label));
  }
  return h.digest('hex');
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`;
}

function reportMarkdown(
  stem: string,
  m: ModelManifest,
  test: ReturnType<typeof evaluateCalls>,
  validation: ReturnType<typeof evaluateCalls>,
  audioS: number,
  cpuS: number,
): string {
  // Classes with their own time-to-detect aim: ", 15 s for pumping".
  const classAims = Object.entries(DEFAULT_TARGETS.ttdMedianSByClass ?? {})
    .map(([cls, s]) => `, ${s} s for ${cls}`)
    .join('');
  const lines = [
    `# ${stem}: evaluation`,
    '',
    `Trained by \`forkguard train\` on ${String((m.training.corpus as { calls: number }).calls)} labelled calls; the split is by campaign (else by call), so test calls carry no audio seen in training.`,
    `Features were extracted at ${Math.round(audioS / cpuS)}x real time (${audioS.toFixed(0)} s of calls in ${cpuS.toFixed(1)} s).`,
    '',
    '## Held-out test calls (call level, through the alert policy)',
    '',
    '| class | calls | precision | recall | median time to detect | p90 |',
    '|---|---|---|---|---|---|',
    ...Object.entries(test.classes).map(
      ([cls, c]) =>
        `| ${cls} | ${c.calls} | ${pct(c.precision)} | ${pct(c.recall)} | ${c.ttd_median_s ?? 'n/a'} s | ${c.ttd_p90_s ?? 'n/a'} s |`,
    ),
    '',
    "Time to detect counts from the label's `onset_s`; for card_entry from the end of the last digit (`last_digit_s`).",
    '',
    `Legit calls with any alert: **${pct(test.legit_false_alarm_rate)}** (${test.legit_false_alarms.length} of ${test.classes.legit.calls}).`,
    '',
    `![confusion matrix](${stem}.confusion.svg)`,
    '',
    '## Policy settings chosen on validation',
    '',
    `Aims: recall ${DEFAULT_TARGETS.recall}; a median time to detect of ${DEFAULT_TARGETS.ttdMedianS} s${classAims}; legit calls a class alone would alert, or one grid step looser would: at most ${pct(DEFAULT_TARGETS.legitBudget)}.`,
    '',
    '| class | threshold | persistence (windows) | instant threshold (one window) |',
    '|---|---|---|---|',
    ...Object.keys(m.thresholds).map(
      (c) => `| ${c} | ${m.thresholds[c]} | ${m.persistence[c]} | ${m.instant_thresholds?.[c] ?? 'none'} |`,
    ),
    '',
    `Validation: legit false alarms ${pct(validation.legit_false_alarm_rate)}; ${Object.entries(
      validation.classes,
    )
      .map(([c, v]) => `${c} recall ${pct(v.recall)}`)
      .join(', ')}.`,
    '',
    '## Misclassified test calls',
    '',
    ...(test.misses.length === 0
      ? ['None.']
      : test.misses.map((x) => `- \`${x.call}\` (${x.scenario ?? x.label}): verdict ${x.verdict}`)),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
