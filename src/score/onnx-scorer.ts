import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadManifest, type ModelManifest } from './model-manifest.ts';

/**
 * One onnxruntime session per process. Every tick the ready feature windows of all live calls are copied into
 * one preallocated batch and scored in a single `run`: per-call runs would pay the session overhead per window.
 *
 * Two input batches alternate: `run` hands the filled one to onnxruntime, which reads it on its own thread until
 * the run resolves, and windows added meanwhile go into the other. (With one batch, a window added during a run
 * was written over row 0 of the batch being scored.) Runs must not overlap; ScoringLoop never starts one before
 * the previous has resolved.
 */
export class OnnxScorer {
  readonly featureCount: number;
  readonly classCount: number;
  private batch: Float32Array;
  /** The batch of the run in flight (or the last one); becomes `batch` again at the next run. */
  private spare: Float32Array;
  private count = 0;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    capacity: number,
  ) {
    this.featureCount = manifest.features.length;
    this.classCount = manifest.classes.length;
    this.batch = new Float32Array(capacity * this.featureCount);
    this.spare = new Float32Array(capacity * this.featureCount);
  }

  static async load(manifestPath: string, initialCapacity = 1024): Promise<OnnxScorer> {
    const manifest = await loadManifest(manifestPath);
    const modelPath = join(dirname(manifestPath), manifest.onnx);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: 1, // one process per core: the model must not spread over the other cores
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new Error(
        `${modelPath}: cannot load model (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    return new OnnxScorer(manifest, session, initialCapacity);
  }

  /** Windows waiting for the next run. */
  get pending(): number {
    return this.count;
  }

  /** Copies one feature window into the batch; returns its row, where `run`'s output holds its probabilities. */
  add(features: Float32Array): number {
    if ((this.count + 1) * this.featureCount > this.batch.length) this.grow();
    this.batch.set(features.subarray(0, this.featureCount), this.count * this.featureCount);
    return this.count++;
  }

  /**
   * Scores every window added since the last run in one onnxruntime call. Returns class probabilities,
   * row-major [rows x classCount], valid until the next run. Empty batches cost nothing.
   */
  async run(): Promise<Float32Array> {
    const rows = this.count;
    this.count = 0;
    if (rows === 0) return new Float32Array(0);
    const filled = this.batch;
    this.batch = this.spare;
    this.spare = filled;
    // A batch grown during the last run's filling is matched by the other, so the pair stays the same size.
    if (this.batch.length < filled.length) this.batch = new Float32Array(filled.length);
    const input = new ort.Tensor('float32', filled.subarray(0, rows * this.featureCount), [
      rows,
      this.featureCount,
    ]);
    const out = await this.session.run({ [this.manifest.input.name]: input });
    const probs = out[this.manifest.output.name];
    if (!probs) throw new Error(`model output '${this.manifest.output.name}' missing`);
    return probs.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private grow(): void {
    // Doubling keeps the steady state allocation-free once the busiest tick has been seen.
    const bigger = new Float32Array(this.batch.length * 2);
    bigger.set(this.batch);
    this.batch = bigger;
  }
}
