import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The manifest that travels with every trained model: what the model expects (feature names and order, the
 * normalisation baked into the graph), what it says (classes), how the policy should read it (per-class
 * thresholds, persistence and instant thresholds chosen on validation), and how it was made and how well it did.
 */
export const MODEL_CLASSES = ['legit', 'robocall', 'pumping', 'fax_modem'] as const;

export const manifestSchema = z.object({
  name: z.string(),
  version: z.number().int().min(1),
  onnx: z.string(),
  input: z.object({ name: z.string(), features: z.number().int().min(1) }),
  output: z.object({ name: z.string() }),
  features: z.array(z.string()).min(1),
  normalisation: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
  classes: z.array(z.string()).min(2),
  /** Per fraud class: probability at or above which a window counts as evidence. */
  thresholds: z.record(z.string(), z.number().min(0).max(1)),
  /** Consecutive evidence windows needed before the policy alerts (per class). */
  persistence: z.record(z.string(), z.number().int().min(1)),
  /** Per fraud class (optional): probability at or above which one window alerts without persistence. */
  instant_thresholds: z.record(z.string(), z.number().min(0).max(1)).optional(),
  window_hop_s: z.number().positive(),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

/** models/ at the project root: where the committed default model lives. */
export const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

/** The default model is named by models/default.json ({"manifest": "<file>"}). */
export async function defaultManifestPath(modelsDir = MODELS_DIR): Promise<string> {
  const pointer = join(modelsDir, 'default.json');
  let text: string;
  try {
    text = await readFile(pointer, 'utf8');
  } catch {
    throw new Error(
      `no default model: ${pointer} is missing (train one with \`forkguard train --corpus DIR\`)`,
    );
  }
  const parsed = z.object({ manifest: z.string() }).safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${pointer}: expected {"manifest": "<file>"}`);
  return join(modelsDir, parsed.data.manifest);
}

export async function loadManifest(path: string): Promise<ModelManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(
      `${path}: cannot read model manifest (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: invalid model manifest at '${issue.path.join('.')}': ${issue.message}`);
  }
  const m = parsed.data;
  if (m.input.features !== m.features.length) {
    throw new Error(
      `${path}: input.features (${m.input.features}) differs from the feature list (${m.features.length})`,
    );
  }
  return m;
}

/** Model id used in alerts: `name@version`. */
export function modelId(m: ModelManifest): string {
  return `${m.name}@${m.version}`;
}

/**
 * Refuses a model whose features are not exactly what the running extractor produces: a silent mismatch would
 * feed a model the wrong numbers.
 */
export function assertFeaturesMatch(m: ModelManifest, extractorFeatures: readonly string[]): void {
  const n = Math.max(m.features.length, extractorFeatures.length);
  for (let i = 0; i < n; i++) {
    if (m.features[i] !== extractorFeatures[i]) {
      throw new Error(
        `model ${modelId(m)} expects feature #${i} '${m.features[i] ?? '(none)'}' but the extractor gives '${extractorFeatures[i] ?? '(none)'}': retrain with \`forkguard train\``,
      );
    }
  }
}
