/**
 * The one WebAssembly memory of the packet and frame paths, laid out once: the staged datagram, the G.711 decoder's
 * output area, the two G.711 pair tables, the per-frame FFT's tables, windows and work area, and the spectral sums'
 * area. JS reads and writes it through fixed views; it never grows, so the views stay valid for the life of the
 * process.
 */

const PAGE_BYTES = 65536;

/** Where CallMedia copies each datagram (see datagram-stage.ts); larger than any datagram ingest accepts. */
export const STAGE_OFFSET = 0;
export const STAGE_BYTES = 2048;
/** Where the G.711 decoder writes PCM before it is copied to the frame: 960 samples (120 ms at 8 kHz). */
export const DECODE_OUT_OFFSET = STAGE_OFFSET + STAGE_BYTES;
export const DECODE_OUT_SAMPLES = 960;
/**
 * The frame assemblers' shared decode space (src/ingest/rtp/frame-assembler.ts): a packet that starts on a frame
 * boundary decodes here, so the G.711 decoder writes its samples in place instead of into DECODE_OUT and a copy.
 */
export const DECODE_WORK_OFFSET = DECODE_OUT_OFFSET + 2 * 1024;
export const DECODE_WORK_SAMPLES = 2048;
/**
 * Where a payload held in a leg's reorder ring is copied back when it plays (see datagram-stage.ts), so the G.711
 * decoder reads it in WebAssembly memory as it reads a staged datagram. Holds the largest payload a leg keeps.
 */
export const HELD_STAGE_OFFSET = DECODE_WORK_OFFSET + 2 * DECODE_WORK_SAMPLES;
export const HELD_STAGE_BYTES = 1536;
/**
 * Loss concealment's repeat-and-fade (src/ingest/codecs/conceal-wasm.ts): the frame being repeated, the fade's
 * gains (f64) and the output, each with room for the four-sample steps to run up to three samples past the end.
 */
export const CONCEAL_SOURCE_OFFSET = HELD_STAGE_OFFSET + HELD_STAGE_BYTES;
export const CONCEAL_SOURCE_SAMPLES = 960;
export const CONCEAL_GAINS_OFFSET = CONCEAL_SOURCE_OFFSET + 2 * (CONCEAL_SOURCE_SAMPLES + 8);
export const CONCEAL_GAINS = 480;
export const CONCEAL_OUT_OFFSET = CONCEAL_GAINS_OFFSET + 8 * (CONCEAL_GAINS + 4);
export const CONCEAL_OUT_SAMPLES = 960;
/** G.711 two-sample tables (65536 Int32 each): PCMU, then PCMA. */
export const PCMU_PAIRS_OFFSET = CONCEAL_OUT_OFFSET + 2 * (CONCEAL_OUT_SAMPLES + 8);
export const PCMA_PAIRS_OFFSET = PCMU_PAIRS_OFFSET + 4 * 65536;
/** The per-frame FFT (src/dsp/fft/wasm-real-fft.ts): read-only twiddle tables, written once at load. */
export const FFT_TABLES_OFFSET = PCMA_PAIRS_OFFSET + 4 * 65536;
export const FFT_TABLES_BYTES = 8192;
/** Window coefficients, one slot per distinct window (the frame analyzers share one). */
export const FFT_WINDOWS_OFFSET = FFT_TABLES_OFFSET + FFT_TABLES_BYTES;
export const FFT_WINDOW_BYTES = 2048;
export const FFT_WINDOW_SLOTS = 4;
/**
 * The FFT's input block, complex spectrum, power and magnitudes: one area for every analyzer, because each frame's
 * transform is read before the next one starts (JS runs one frame at a time).
 */
export const FFT_WORK_OFFSET = FFT_WINDOWS_OFFSET + FFT_WINDOW_SLOTS * FFT_WINDOW_BYTES;
export const FFT_WORK_BYTES = 8192;
/** The frame analyzer's spectral sums (src/dsp/frame/spectral-sums.ts): two magnitude spectra and the sums. */
export const SPECTRAL_SUMS_OFFSET = FFT_WORK_OFFSET + FFT_WORK_BYTES;
export const SPECTRAL_SUMS_BYTES = 2048;
/**
 * Where a G.711 decoder copies the datagram it keeps as codes (see g711-codec.ts, codeOrigin) to decode the frame a
 * loss repeats straight into CONCEAL_SOURCE: the staged datagram and the held payload may both still be in use then.
 * As large as the stage, the largest datagram kept so. Last, so that no area before it moved when it came: moving
 * them by its size made the lossless packet path measurably slower (3-5 % in bench/ingest-inprocess, not explained).
 */
export const CONCEAL_CODES_OFFSET = SPECTRAL_SUMS_OFFSET + SPECTRAL_SUMS_BYTES;
export const CONCEAL_CODES_BYTES = STAGE_BYTES;
const END = CONCEAL_CODES_OFFSET + CONCEAL_CODES_BYTES;

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export const WASM: WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export const WASM_MEMORY_PAGES = Math.ceil(END / PAGE_BYTES);
export const WASM_MEMORY: WasmMemory = new WASM.Memory({
  initial: WASM_MEMORY_PAGES,
  maximum: WASM_MEMORY_PAGES,
});

/**
 * WebAssembly reads memory little-endian; JS typed arrays use the host's order. Views shared between the two
 * agree only on little-endian hosts, which is what the WebAssembly paths require (others keep to JS).
 */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The decode space at DECODE_WORK_OFFSET as samples (one view for every frame assembler and the G.711 decoder). */
export const DECODE_WORK: Int16Array = new Int16Array(
  WASM_MEMORY.buffer,
  DECODE_WORK_OFFSET,
  DECODE_WORK_SAMPLES,
);
