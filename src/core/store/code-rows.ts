// The int8 codes of every row of a store in one WebAssembly memory, beside the per-row scales,
// norms and residuals their error bound needs, and the scratch areas of one scan. 512 bytes a
// row at 512-d (a quarter of float32), so WebAssembly's 4 GiB holds about 8 million rows.
import { StoreError } from '../errors.js';
import {
  CODE_PAGE_BYTES,
  createCodeKernel,
  kernelModule,
  MAX_CODE_MEMORY_BYTES,
  type CodeKernel,
} from './code-kernel.js';
import { ParallelScan } from './parallel-scan.js';
import { codeStride, encodeVector, type CodedQuery } from './quantized-codes.js';
import { permuteValues } from './row-order.js';

/**
 * Where things sit in the kernel's memory for a given capacity: the codes first (so growing
 * never moves a row's codes), then the scales, then the scratch areas of one scan.
 */
interface MemoryLayout {
  scales: number;
  query: number;
  rows: number;
  out: number;
  total: number;
}

function layoutFor(capacity: number, stride: number): MemoryLayout {
  const scales = capacity * stride;
  const query = scales + capacity * 4;
  const rows = query + stride * 2;
  const out = rows + capacity * 4;
  return { scales, query, rows, out, total: out + capacity * 4 };
}

/** Most rows the codes of this dimension can ever hold in 4 GiB. */
export function maxRowsFor(dimension: number): number {
  const stride = codeStride(dimension);
  return Math.floor((MAX_CODE_MEMORY_BYTES - stride * 2) / (stride + 12));
}

export class CodeRows {
  /** Length of the vectors. */
  readonly dimension: number;
  /** Bytes per row of codes (the dimension rounded up to 16). */
  readonly stride: number;
  /** Most rows there can ever be. */
  readonly maxRows: number;
  readonly #kernel: CodeKernel;
  #capacity: number;
  #layout: MemoryLayout;
  #codes!: Int8Array;
  #scales!: Float32Array;
  #query!: Int16Array;
  /** The rows to score in the next scan; fill it, then call scan(). */
  rows!: Int32Array;
  /** What the last scan wrote, one entry per listed row. */
  out!: Float32Array;
  /** ‖v‖ of each row. */
  norm: Float32Array;
  /** ‖v - scale·codes‖ of each row. */
  residual: Float32Array;
  /**
   * At least the largest norm and residual of any row (removed rows' values may linger, which
   * only loosens it); null until first asked after a restore, then kept up by write().
   */
  #maxima: { norm: number; residual: number } | null = null;
  /** Splits scans of at least #parallelMinRows rows over threads; null: one thread. */
  readonly #parallel: ParallelScan | null;
  readonly #parallelMinRows: number;

  /**
   * Room for `capacity` rows. `threads` > 1 puts the codes in a shared memory and splits every
   * scan of at least `parallelMinRows` rows over that many threads (parallel-scan.ts).
   */
  constructor(dimension: number, capacity: number, threads = 1, parallelMinRows = 0) {
    this.dimension = dimension;
    this.stride = codeStride(dimension);
    this.maxRows = maxRowsFor(dimension);
    this.#capacity = Math.min(capacity, this.maxRows);
    this.#layout = layoutFor(this.#capacity, this.stride);
    const shared = threads > 1;
    this.#kernel = createCodeKernel(Math.ceil(this.#layout.total / CODE_PAGE_BYTES), shared);
    this.#parallel = shared
      ? new ParallelScan({ ...this.#kernel, module: kernelModule(true) }, threads)
      : null;
    this.#parallelMinRows = parallelMinRows;
    this.norm = new Float32Array(this.#capacity);
    this.residual = new Float32Array(this.#capacity);
    this.#makeViews();
  }

  /** Rows allocated. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Encodes `vector` into `row`. */
  write(row: number, vector: ArrayLike<number>): void {
    const stride = this.stride;
    const codes = this.#codes.subarray(row * stride, row * stride + stride);
    codes.fill(0);
    const coded = encodeVector(vector, codes);
    this.#scales[row] = coded.scale;
    this.norm[row] = coded.norm;
    this.residual[row] = coded.residual;
    if (this.#maxima !== null) {
      this.#maxima.norm = Math.max(this.#maxima.norm, coded.norm);
      this.#maxima.residual = Math.max(this.#maxima.residual, coded.residual);
    }
  }

  /** At least the largest ‖v‖ of any row (see exact-rerank.ts's RowBounds). */
  get maxNorm(): number {
    return this.#boundMaxima().norm;
  }

  /** At least the largest ‖v - scale·codes‖ of any row. */
  get maxResidual(): number {
    return this.#boundMaxima().residual;
  }

  /** Call after norms or residuals were written other than by write() (a restore). */
  forgetMaxima(): void {
    this.#maxima = null;
  }

  /** The vector the codes of `row` stand for (scale x codes), into `out`. */
  decode(row: number, out: Float32Array): void {
    const at = row * this.stride;
    const scale = this.#scales[row] as number;
    const codes = this.#codes;
    for (let i = 0; i < this.dimension; i++) out[i] = (codes[at + i] as number) * scale;
  }

  /** Copies row `from` over row `to` (a swap-removal). */
  move(from: number, to: number): void {
    const stride = this.stride;
    this.#codes.copyWithin(to * stride, from * stride, from * stride + stride);
    this.#scales[to] = this.#scales[from] as number;
    this.norm[to] = this.norm[from] as number;
    this.residual[to] = this.residual[from] as number;
  }

  /**
   * Puts row order[i] at row i for every i < order.length (`order` a permutation of those
   * rows), in place: cycle by cycle through one row of scratch, so that regrouping 1M rows needs
   * no second copy of their 512 MB of codes.
   */
  permute(order: Int32Array): void {
    const stride = this.stride;
    const codes = this.#codes;
    const spare = new Int8Array(stride);
    const placed = new Uint8Array(order.length);
    for (let start = 0; start < order.length; start++) {
      if (placed[start] === 1 || order[start] === start) continue;
      spare.set(codes.subarray(start * stride, start * stride + stride));
      let to = start;
      for (;;) {
        placed[to] = 1;
        const from = order[to] as number;
        if (from === start) {
          codes.set(spare, to * stride);
          break;
        }
        codes.copyWithin(to * stride, from * stride, from * stride + stride);
        to = from;
      }
    }
    permuteValues(this.#scales, order);
    permuteValues(this.norm, order);
    permuteValues(this.residual, order);
  }

  /**
   * Scores the first `count` entries of `rows` against `query` into `out`; `out[i] * query.scale`
   * is the approximate dot product of row rows[i].
   */
  scan(query: CodedQuery, count: number): void {
    if (count === 0) return;
    this.#query.set(query.codes);
    const { query: at, rows, scales, out } = this.#layout;
    if (this.#parallel !== null && count >= this.#parallelMinRows) {
      this.#parallel.scan({ codes: 0, query: at, rows, count, stride: this.stride, scales, out });
    } else {
      this.#kernel.scoreCodes(0, at, rows, count, this.stride, scales, out);
    }
  }

  /** Threads ready to share a scan, the caller's included (1 when scans are not split). */
  get scanThreads(): number {
    return 1 + (this.#parallel?.readyWorkers ?? 0);
  }

  /**
   * With scan threads: starts reading the codes of the first `size` rows from `fd` at `position`
   * with their help, and returns the function that finishes the read (see ParallelScan's
   * beginRead). Null without threads: the caller reads them into codeBytes(size) itself.
   */
  beginCodeRead(fd: number, position: number, size: number): (() => void) | null {
    return this.#parallel?.beginRead(fd, position, 0, size * this.stride) ?? null;
  }

  /** Stops the scan threads, if any; later scans run on the caller's thread. */
  async close(): Promise<void> {
    await this.#parallel?.close();
  }

  /** Makes room for at least `capacity` rows (doubling), keeping every row. */
  grow(capacity: number): void {
    if (capacity <= this.#capacity) return;
    const target = Math.min(Math.max(capacity, this.#capacity * 2), this.maxRows);
    if (target < capacity) {
      throw new StoreError(
        'store_failed',
        `The embedded store holds at most ${this.maxRows} vectors of ${this.dimension} numbers ` +
          '(4 GiB of memory). Use Qdrant for a collection this large (set QDRANT_URL).',
      );
    }
    const layout = layoutFor(target, this.stride);
    const pages = Math.ceil(layout.total / CODE_PAGE_BYTES);
    const current = this.#kernel.memory.buffer.byteLength / CODE_PAGE_BYTES;
    try {
      if (pages > current) this.#kernel.memory.grow(pages - current);
    } catch (error) {
      throw new StoreError(
        'store_failed',
        `There is not enough memory to hold ${target} vectors of ${this.dimension} numbers. ` +
          'Give findimage more memory or use Qdrant (set QDRANT_URL).',
        { cause: error },
      );
    }
    // The scales sit after the codes: move them past the codes' new end.
    const bytes = new Uint8Array(this.#kernel.memory.buffer);
    const oldScales = this.#layout.scales;
    bytes.copyWithin(layout.scales, oldScales, oldScales + this.#capacity * 4);
    const norm = new Float32Array(target);
    norm.set(this.norm);
    const residual = new Float32Array(target);
    residual.set(this.residual);
    this.norm = norm;
    this.residual = residual;
    this.#capacity = target;
    this.#layout = layout;
    this.#makeViews();
  }

  /** The codes of the first `size` rows as bytes (a view), to save or to load into. */
  codeBytes(size: number): Uint8Array {
    return new Uint8Array(this.#kernel.memory.buffer, 0, size * this.stride);
  }

  /** The scales of the first `size` rows (a view), to save or to load into. */
  scaleValues(size: number): Float32Array {
    return this.#scales.subarray(0, size);
  }

  #boundMaxima(): { norm: number; residual: number } {
    if (this.#maxima === null) {
      // Over the whole capacity: rows past the last hold zeros or a removed row's values, and
      // either leaves the maxima an upper bound.
      let norm = 0;
      let residual = 0;
      for (let row = 0; row < this.#capacity; row++) {
        norm = Math.max(norm, this.norm[row] as number);
        residual = Math.max(residual, this.residual[row] as number);
      }
      this.#maxima = { norm, residual };
    }
    return this.#maxima;
  }

  #makeViews(): void {
    const buffer = this.#kernel.memory.buffer;
    const layout = this.#layout;
    const capacity = this.#capacity;
    this.#codes = new Int8Array(buffer, 0, capacity * this.stride);
    this.#scales = new Float32Array(buffer, layout.scales, capacity);
    this.#query = new Int16Array(buffer, layout.query, this.stride);
    this.rows = new Int32Array(buffer, layout.rows, capacity);
    this.out = new Float32Array(buffer, layout.out, capacity);
  }
}
