// The inner loop of the compressed search, in WebAssembly SIMD: dot products of chosen rows of
// int8 codes with a query quantised to int16, 16 codes per step (sign-extend to i16, then
// i32x4.dot_i16x8_s), each sum scaled by its row's float32 scale. A 512-d row is 512 bytes, a
// quarter of its float32 vector, so a memory-bound scan reads a quarter of the bytes.

/**
 * The kernel's WebAssembly text. The bytes below are this text assembled by wabt 1.0.39
 * (`npx -p wabt@1.0.39 wat2wasm kernel.wat`); the test beside this file checks the kernel
 * against a plain integer dot product.
 *
 * scoreCodes(codes, query, rows, count, stride, scales, out): for i in [0, count), with `r` the
 * i32 at rows + 4i, writes to out + 4i the f32 value (i32 dot product of the `stride` int8 at
 * codes + r * stride with the `stride` int16 at query) * (the f32 at scales + 4r). `stride` must
 * be a multiple of 16 (rows are padded with zero codes). The caller keeps each sum inside i32:
 * stride * 127 * max|query| < 2^31 (see quantized-codes.ts).
 *
 * (module
 *   (memory (import "env" "memory") 1 65536)
 *   (func (export "scoreCodes")
 *     (param $codes i32) (param $query i32) (param $rows i32) (param $count i32) (param $stride i32) (param $scales i32) (param $out i32)
 *     (local $i i32) (local $row i32) (local $r i32) (local $j i32) (local $q i32)
 *     (local $v v128) (local $a0 v128) (local $a1 v128)
 *     (block $done
 *       (loop $eachRow
 *         (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
 *         (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
 *         (local.set $row (i32.add (local.get $codes) (i32.mul (local.get $r) (local.get $stride))))
 *         (local.set $a0 (v128.const i32x4 0 0 0 0))
 *         (local.set $a1 (v128.const i32x4 0 0 0 0))
 *         (local.set $j (i32.const 0))
 *         (local.set $q (local.get $query))
 *         (block $rowDone
 *           (loop $by16
 *             (br_if $rowDone (i32.ge_u (local.get $j) (local.get $stride)))
 *             (local.set $v (v128.load (i32.add (local.get $row) (local.get $j))))
 *             (local.set $a0 (i32x4.add (local.get $a0)
 *               (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load (local.get $q)))))
 *             (local.set $a1 (i32x4.add (local.get $a1)
 *               (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 (local.get $q)))))
 *             (local.set $j (i32.add (local.get $j) (i32.const 16)))
 *             (local.set $q (i32.add (local.get $q) (i32.const 32)))
 *             (br $by16)))
 *         (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
 *         (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
 *           (f32.mul
 *             (f32.convert_i32_s
 *               (i32.add
 *                 (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
 *                 (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
 *             (f32.load (i32.add (local.get $scales) (i32.shl (local.get $r) (i32.const 2))))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *         (br $eachRow)))))
 */
const KERNEL_BASE64 =
  'AGFzbQEAAAABCwFgB39/f39/f38AAhIBA2VudgZtZW1vcnkCAQGAgAQDAgEABw4BCnNjb3JlQ29kZXMAAArwAQHt' +
  'AQIFfwN7AkADQCAHIANPDQEgAiAHQQJ0aigCACEJIAAgCSAEbGohCP0MAAAAAAAAAAAAAAAAAAAAACEN/QwAAAAA' +
  'AAAAAAAAAAAAAAAAIQ5BACEKIAEhCwJAA0AgCiAETw0BIAggCmr9AAQAIQwgDSAM/YcBIAv9AAQA/boB/a4BIQ0g' +
  'DiAM/YgBIAv9AAQQ/boB/a4BIQ4gCkEQaiEKIAtBIGohCwwACwsgDSAO/a4BIQ0gBiAHQQJ0aiAN/RsAIA39GwFq' +
  'IA39GwIgDf0bA2pqsiAFIAlBAnRqKgIAlDgCACAHQQFqIQcMAAsLCw==';

/** Bytes in one WebAssembly memory page. */
export const CODE_PAGE_BYTES = 65_536;

/** Largest WebAssembly memory: 65,536 pages of 64 KiB (4 GiB), the wasm32 limit in Node 20. */
export const MAX_CODE_MEMORY_BYTES = 65_536 * 65_536;

/**
 * Offset in the module bytes of the flags of its imported memory's limits: 1 (has a maximum),
 * or 3 (has a maximum, shared between threads). The text above declares it unshared; the shared
 * variant, for a memory that worker threads scan too (parallel-scan.ts), differs in this byte.
 */
const MEMORY_FLAGS_OFFSET = 36;
const SHARED_MEMORY_FLAGS = 3;

/**
 * A growable WebAssembly memory; growing detaches views made over the old `buffer` (or, for a
 * shared memory, leaves them over the old length).
 */
export interface CodeMemory {
  /** The memory's bytes; a new buffer after every grow(). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Adds `pages` pages of zeros; throws RangeError when the memory cannot grow. */
  grow(pages: number): number;
}

/** The few members of the WebAssembly API used here. */
interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => CodeMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

// tsconfig's lib (ES2023, no DOM) declares no WebAssembly types, though Node has the API.
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Compiled once per process (unshared, shared); each user instantiates it over its own memory. */
const compiled: [object | undefined, object | undefined] = [undefined, undefined];

/** The kernel's module for an unshared or a shared memory, compiled on first use. */
export function kernelModule(shared: boolean): object {
  const which = shared ? 1 : 0;
  let module = compiled[which];
  if (module === undefined) {
    const bytes = Buffer.from(KERNEL_BASE64, 'base64');
    if (shared) bytes[MEMORY_FLAGS_OFFSET] = SHARED_MEMORY_FLAGS;
    module = new wasm.Module(bytes);
    compiled[which] = module;
  }
  return module;
}

/** The kernel bound to one memory. */
export interface CodeKernel {
  /** The memory the kernel reads and writes; grow it through this object. */
  readonly memory: CodeMemory;
  /** Scaled int8 x int16 dot products of listed rows; see KERNEL_BASE64's doc. */
  scoreCodes(
    codes: number,
    query: number,
    rows: number,
    count: number,
    stride: number,
    scales: number,
    out: number,
  ): void;
}

/**
 * A kernel over a new memory of `initialPages` pages that may grow to 4 GiB; `shared`: a memory
 * worker threads can be given too (see parallel-scan.ts).
 */
export function createCodeKernel(initialPages: number, shared = false): CodeKernel {
  const memory = new wasm.Memory({
    initial: initialPages,
    maximum: MAX_CODE_MEMORY_BYTES / CODE_PAGE_BYTES,
    ...(shared ? { shared: true } : {}),
  });
  const instance = new wasm.Instance(kernelModule(shared), { env: { memory } });
  // The export's signature is fixed by the module text above; WebAssembly's types cannot say so.
  const scoreCodes = instance.exports['scoreCodes'] as CodeKernel['scoreCodes'];
  return { memory, scoreCodes };
}
