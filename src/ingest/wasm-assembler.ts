/**
 * The opcodes and the module layout that the project's WebAssembly functions are written with. Each function is
 * assembled from its opcodes at load time (there is no WebAssembly toolchain in the build), into a module that
 * imports WASM_MEMORY as `m.memory` and exports the functions by name.
 *
 * Only what the generators use is listed; the numbers are the binary encoding of the WebAssembly 2.0 core
 * specification (fixed-width SIMD included, which Node 20's V8 ships).
 */
import { WASM, WASM_MEMORY, WASM_MEMORY_PAGES } from './wasm-memory.ts';

/** One-byte opcodes. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  /** Prefix of the SIMD instructions; the instruction number (SIMD below) follows as an unsigned LEB128. */
  simd: 0xfd,
} as const;

/** Value types, and the empty block type. */
export const TYPE = {
  i32: 0x7f,
  f64: 0x7c,
  v128: 0x7b,
  voidBlock: 0x40,
} as const;

/** SIMD instruction numbers (after the 0xfd prefix). */
export const SIMD = {
  v128Load: 0x00,
  v128Load8x8U: 0x02,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  i8x16Swizzle: 0x0e,
  v128Store32Lane: 0x5a,
  v128Store64Lane: 0x5b,
  v128Load32Zero: 0x5c,
  v128Load64Zero: 0x5d,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Xor: 0x51,
  f64x2Gt: 0x4a,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  i8x16Shl: 0x6b,
  i8x16ShrS: 0x6c,
  i8x16ShrU: 0x6d,
  i8x16Add: 0x6e,
  f64x2Ceil: 0x74,
  i16x8NarrowI32x4S: 0x85,
  i16x8ExtendLowS: 0x87,
  i16x8ExtendHighS: 0x88,
  i16x8ExtendLowU: 0x89,
  i16x8ExtendHighU: 0x8a,
  i16x8Shl: 0x8b,
  i16x8ShrS: 0x8c,
  i16x8ShrU: 0x8d,
  i16x8Add: 0x8e,
  i16x8Sub: 0x91,
  i16x8Mul: 0x95,
  i16x8MinU: 0x97,
  i32x4ExtendLowI16x8S: 0xa7,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Pmax: 0xf7,
  i32x4TruncSatF64x2SZero: 0xfc,
  f64x2ConvertLowI32x4S: 0xfe,
} as const;

/** Unsigned LEB128 (indices, sizes, memory offsets). */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (i32.const). */
export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A SIMD instruction: prefix and number. */
export function simd(op: number): number[] {
  return [OP.simd, ...uleb(op)];
}

/** Memory immediate: log2 of the alignment, then the constant byte offset. */
export function memarg(alignLog2: number, offset: number): number[] {
  return [alignLog2, ...uleb(offset)];
}

/** Instruction bytes that leave one value on the stack. */
export type Expr = readonly number[];

/** The base of an absolute address: the constant 0, with the address as the instruction's offset. */
export const ABSOLUTE: Expr = [OP.i32Const, 0];

export function localGet(index: number): Expr {
  return [OP.localGet, ...uleb(index)];
}

/** v128 from memory at base + offset (offsets of 16-byte multiples are aligned). */
export function v128Load(base: Expr, offset: number): Expr {
  return [...base, ...simd(SIMD.v128Load), ...memarg(4, offset)];
}

/** One f64 from memory at base + offset into lane 0; lane 1 is 0. */
export function v128Load64Zero(base: Expr, offset: number): Expr {
  return [...base, ...simd(SIMD.v128Load64Zero), ...memarg(3, offset)];
}

/** A SIMD instruction on two operands. */
export function binary(op: number, a: Expr, b: Expr): Expr {
  return [...a, ...b, ...simd(op)];
}

/** A SIMD instruction on one operand. */
export function unary(op: number, a: Expr): Expr {
  return [...a, ...simd(op)];
}

export function f64x2Add(a: Expr, b: Expr): Expr {
  return binary(SIMD.f64x2Add, a, b);
}

export function f64x2Sub(a: Expr, b: Expr): Expr {
  return binary(SIMD.f64x2Sub, a, b);
}

export function f64x2Mul(a: Expr, b: Expr): Expr {
  return binary(SIMD.f64x2Mul, a, b);
}

/** Lanes (a0, b0) when `high` is false, (a1, b1) when true. */
export function interleaveF64(a: Expr, b: Expr, high: boolean): Expr {
  const lanes: number[] = [];
  for (let i = 0; i < 8; i++) lanes.push((high ? 8 : 0) + i);
  for (let i = 0; i < 8; i++) lanes.push((high ? 24 : 16) + i);
  return [...a, ...b, ...simd(SIMD.i8x16Shuffle), ...lanes];
}

/** (x1, x0): the two f64 lanes exchanged. `x` is evaluated twice, so pass a local.get. */
export function swapF64(x: Expr): Expr {
  return [...x, ...x, ...simd(SIMD.i8x16Shuffle), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
}

/** The v128 constant (lo, hi) as two f64 lanes. */
export function f64x2Const(lo: number, hi: number): Expr {
  return [...simd(SIMD.v128Const), ...new Uint8Array(new Float64Array([lo, hi]).buffer)];
}

/**
 * A function body under construction, with v128 locals by name: declared on first use, after the parameters and
 * any other locals (`firstLocal` is their count), and reused wherever the same name is set again (the JIT turns
 * locals into SSA values, so reuse costs nothing and keeps the declared count small).
 */
export class V128Body {
  readonly code: number[] = [];
  private readonly names = new Map<string, number>();

  constructor(private readonly firstLocal: number) {}

  get v128Locals(): number {
    return this.names.size;
  }

  local(name: string): number {
    let index = this.names.get(name);
    if (index === undefined) {
      index = this.firstLocal + this.names.size;
      this.names.set(name, index);
    }
    return index;
  }

  get(name: string): Expr {
    return localGet(this.local(name));
  }

  set(name: string, value: Expr): void {
    this.emit(value);
    this.emit([OP.localSet, ...uleb(this.local(name))]);
  }

  store(base: Expr, offset: number, value: Expr): void {
    this.emit(base);
    this.emit(value);
    this.emit([...simd(SIMD.v128Store), ...memarg(4, offset)]);
  }

  /** Stores f64 lane `lane` of `value` at base + offset. */
  storeLane(base: Expr, offset: number, value: Expr, lane: number): void {
    this.emit(base);
    this.emit(value);
    this.emit([...simd(SIMD.v128Store64Lane), ...memarg(3, offset), lane]);
  }

  emit(bytes: readonly number[]): void {
    // A loop, not push(...bytes): no argument-count limit.
    for (const b of bytes) this.code.push(b);
  }
}

export interface WasmFunction {
  /** Export name. */
  name: string;
  /** Parameter types (TYPE.*); the functions return nothing. */
  params: readonly number[];
  /** Extra locals after the parameters, as runs of one type. */
  locals?: ReadonlyArray<{ count: number; type: number }>;
  /** The instructions, without the locals declaration, ending with OP.end. */
  body: readonly number[];
}

function vector(items: readonly (readonly number[])[]): number[] {
  const out = uleb(items.length);
  for (const item of items) for (const byte of item) out.push(byte);
  return out;
}

function section(id: number, content: readonly number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
}

function functionCode(fn: WasmFunction): number[] {
  const locals = fn.locals ?? [];
  const declared = vector(locals.map((run) => [...uleb(run.count), run.type]));
  const size = declared.length + fn.body.length;
  const out = uleb(size);
  for (const byte of declared) out.push(byte);
  // A loop, not push(...body): generated bodies run to tens of thousands of bytes.
  for (const byte of fn.body) out.push(byte);
  return out;
}

/** The module's bytes: WASM_MEMORY imported as m.memory, one type per function, every function exported. */
export function memoryModuleBytes(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((fn) => [0x60, ...uleb(fn.params.length), ...fn.params, 0]);
  // Import kind 2 (memory), limits flag 1: minimum and maximum both WASM_MEMORY_PAGES (it never grows).
  const pages = uleb(WASM_MEMORY_PAGES);
  const memoryImport = [...name('m'), ...name('memory'), 0x02, 0x01, ...pages, ...pages];
  const funcs = functions.map((_, i) => uleb(i));
  const exports = functions.map((fn, i) => [...name(fn.name), 0x00, ...uleb(i)]);
  const code = functions.map(functionCode);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(funcs)),
    ...section(7, vector(exports)),
    ...section(10, vector(code)),
  ]);
}

/** Compiles and instantiates the functions over WASM_MEMORY; returns the exports by name. */
export function instantiateOnMemory(functions: readonly WasmFunction[]): Record<string, unknown> {
  const module = new WASM.Module(memoryModuleBytes(functions));
  return new WASM.Instance(module, { m: { memory: WASM_MEMORY } }).exports;
}
