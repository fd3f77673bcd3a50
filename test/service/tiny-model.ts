import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../src/dsp/feature-names.ts';
import { MODEL_CLASSES, type ModelManifest } from '../../src/score/model-manifest.ts';

const EXPORT = `
import sys, torch
n, out = int(sys.argv[1]), sys.argv[2]
model = torch.nn.Sequential(torch.nn.Linear(n, 4), torch.nn.Softmax(dim=1))
with torch.no_grad():
    model[0].weight.zero_()
    model[0].bias.copy_(torch.tensor([8.0, 0.0, 0.0, 0.0]))
torch.onnx.export(model, torch.zeros(1, n), out, input_names=["features"], output_names=["probabilities"],
                  dynamic_axes={"features": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=13)
`;

/**
 * A real ONNX model over the live feature list (Linear + Softmax exported by PyTorch) that always says `legit`
 * with p ~ 0.999: the service loads and runs it every tick like any model, and only the deterministic card rule
 * raises alerts, so the tests' expectations do not depend on a trained model.
 */
export function writeTinyModel(dir: string): string {
  execFileSync('/usr/bin/python3', ['-c', EXPORT, String(FEATURE_NAMES.length), join(dir, 'tiny.onnx')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const fraud = MODEL_CLASSES.filter((c) => c !== 'legit');
  const manifest: ModelManifest = {
    name: 'test-tiny',
    version: 1,
    onnx: 'tiny.onnx',
    input: { name: 'features', features: FEATURE_NAMES.length },
    output: { name: 'probabilities' },
    features: [...FEATURE_NAMES],
    normalisation: { mean: FEATURE_NAMES.map(() => 0), std: FEATURE_NAMES.map(() => 1) },
    classes: [...MODEL_CLASSES],
    thresholds: Object.fromEntries(fraud.map((c) => [c, 0.9])),
    persistence: Object.fromEntries(fraud.map((c) => [c, 3])),
    window_hop_s: 1,
    training: {},
    metrics: {},
  };
  const path = join(dir, 'tiny.json');
  writeFileSync(path, JSON.stringify(manifest));
  return path;
}
