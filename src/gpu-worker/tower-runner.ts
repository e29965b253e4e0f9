// Runs one tower's ONNX session on a packed batch: builds exactly the feeds the graph declares,
// checks the output's shape, and returns the rows L2-normalised. Lives inside a worker thread.
// fp16 exports come in two styles: float16 inputs and outputs, or float32 ones with Casts inside
// the graph. The runner reads each session's element types and converts at the boundary, so the
// pool always sends float32 pixels and gets float32 vectors back.
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { normalize } from '../core/embedding/vector-math.js';
import { float16ToFloat32, float32ToFloat16, halfBitsOf } from './half-precision.js';
import type { FloatElementType, TextTowerSpec, Tower, TowerElementTypes, VisionTowerSpec } from './messages.js';

/**
 * The optional padding mask some CLIP text exports declare (Hugging Face CLIPTextModel). CLIP's
 * text transformer is causal and pools at the end-of-text token, which never attends to the
 * padding after it, so an all-ones mask gives OpenAI CLIP's own result (it uses no padding mask).
 * A mask built from "id != pad" would be wrong for exports whose pad id equals the EOS id.
 */
const ATTENTION_MASK = 'attention_mask';

export type TowerSpec =
  | ({ tower: 'text' } & TextTowerSpec)
  | ({ tower: 'vision' } & VisionTowerSpec);

/** Thrown when a graph does not have the inputs or outputs the model spec names. */
export class GraphMismatch extends Error {}

/**
 * Keeps ONNX Runtime's float16 tensors on Uint16Array storage. Where the JavaScript engine has a
 * Float16Array (Node 26), onnxruntime-common turns a float16 tensor's Uint16Array into one, and
 * onnxruntime-node 1.29's native side cannot read it ("not enough space: expected N, got 0").
 * onnxruntime-common picks its typed arrays once, at the first Tensor a thread makes: that first
 * Tensor is made here with Float16Array hidden for the moment, so its table keeps Uint16Array.
 */
function keepFloat16OnUint16Storage(): void {
  const scope = globalThis as { Float16Array?: unknown };
  const float16Array = scope.Float16Array;
  if (float16Array === undefined) return;
  delete scope.Float16Array;
  try {
    new Tensor('float32', new Float32Array(1), [1]);
  } finally {
    scope.Float16Array = float16Array;
  }
}
keepFloat16OnUint16Storage();


export class TowerRunner {
  readonly tower: Tower;
  readonly #session: InferenceSession;
  readonly #spec: TowerSpec;
  readonly #dimension: number;
  /** Element type of attention_mask, or null when the graph does not declare one. */
  readonly #maskType: 'int64' | 'int32' | null;
  /** What the graph takes and gives at its boundary; see TowerElementTypes. */
  readonly elementTypes: TowerElementTypes;
  /**
   * The end-of-text id each text batch is cut after (TextTowerSpec.endOfTextId), when the graph
   * takes sequences of any length; null: rows are fed whole.
   */
  readonly cutAfter: bigint | null;

  constructor(session: InferenceSession, spec: TowerSpec, dimension: number) {
    this.tower = spec.tower;
    this.#session = session;
    this.#spec = spec;
    this.#dimension = dimension;
    if (!session.inputNames.includes(spec.inputName)) {
      throw new GraphMismatch(
        `the ${spec.tower} graph has no input "${spec.inputName}" (it declares ${list(session.inputNames)})`,
      );
    }
    if (!session.outputNames.includes(spec.outputName)) {
      throw new GraphMismatch(
        `the ${spec.tower} graph has no output "${spec.outputName}" (it declares ${list(session.outputNames)})`,
      );
    }
    const feedable = spec.tower === 'text' ? [spec.inputName, ATTENTION_MASK] : [spec.inputName];
    const unknown = session.inputNames.filter((name) => !feedable.includes(name));
    if (unknown.length > 0) {
      throw new GraphMismatch(
        `the ${spec.tower} graph wants inputs findimage cannot feed: ${list(unknown)}`,
      );
    }
    this.#maskType = session.inputNames.includes(ATTENTION_MASK) ? maskType(session) : null;
    this.cutAfter =
      spec.tower === 'text' && spec.endOfTextId !== undefined && hasDynamicSequence(session, spec.inputName)
        ? BigInt(spec.endOfTextId)
        : null;
    this.elementTypes = {
      input: spec.tower === 'vision' ? floatType(session, 'input', spec.inputName, spec.tower) : null,
      output: floatType(session, 'output', spec.outputName, spec.tower),
    };
  }

  /** Runs `rows` packed rows and returns rows x dimension unit-length floats. */
  async run(data: ArrayBuffer, rows: number): Promise<Float32Array> {
    const spec = this.#spec;
    const feeds: Record<string, Tensor> = {};
    if (spec.tower === 'text') {
      const packed = new BigInt64Array(data);
      const { ids, width } =
        this.cutAfter === null
          ? { ids: packed, width: spec.contextLength }
          : cutAfterEndToken(packed, rows, spec.contextLength, this.cutAfter);
      feeds[spec.inputName] = new Tensor('int64', ids, [rows, width]);
      if (this.#maskType === 'int64') {
        feeds[ATTENTION_MASK] = new Tensor('int64', new BigInt64Array(rows * width).fill(1n), [rows, width]);
      } else if (this.#maskType === 'int32') {
        feeds[ATTENTION_MASK] = new Tensor('int32', new Int32Array(rows * width).fill(1), [rows, width]);
      }
    } else {
      const dims = [rows, 3, spec.imageSize, spec.imageSize];
      const pixels = new Float32Array(data);
      feeds[spec.inputName] =
        this.elementTypes.input === 'float16' ? new Tensor('float16', float32ToFloat16(pixels), dims) : new Tensor('float32', pixels, dims);
    }
    const results = await this.#session.run(feeds, [spec.outputName]);
    const output = results[spec.outputName];
    if (output === undefined || output.type !== this.elementTypes.output) {
      throw new GraphMismatch(
        `the ${spec.tower} graph's output "${spec.outputName}" is ${output?.type ?? 'missing'}, not ${this.elementTypes.output}`,
      );
    }
    const expected = rows * this.#dimension;
    if (output.data.length !== expected) {
      throw new GraphMismatch(
        `the ${spec.tower} graph returned shape [${output.dims.join(', ')}] for ${rows} rows; ` +
          `expected [${rows}, ${this.#dimension}]`,
      );
    }
    // A fresh buffer owned by this thread, so it can be transferred to the pool (ONNX Runtime's
    // output may live in memory that cannot be detached). float16 rows are widened first, so the
    // normalisation runs in float32 like everyone else's.
    const vectors =
      output.type === 'float16'
        ? float16ToFloat32(halfBitsOf(output.data as ArrayBufferView))
        : new Float32Array(output.data as Float32Array);
    for (let row = 0; row < rows; row++) {
      normalize(vectors.subarray(row * this.#dimension, (row + 1) * this.#dimension));
    }
    return vectors;
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

/**
 * `rows` packed rows of `length` ids cut to the width that ends at the latest first `endId` of
 * any row: what a causal text tower pooled at that token reads. A row without `endId` keeps every
 * row whole. The rows are copied only when the width shrinks.
 */
export function cutAfterEndToken(
  packed: BigInt64Array,
  rows: number,
  length: number,
  endId: bigint,
): { ids: BigInt64Array; width: number } {
  let width = 0;
  for (let row = 0; row < rows && width < length; row++) {
    const end = packed.subarray(row * length, (row + 1) * length).indexOf(endId);
    width = end < 0 ? length : Math.max(width, end + 1);
  }
  if (width >= length) return { ids: packed, width: length };
  const ids = new BigInt64Array(rows * width);
  for (let row = 0; row < rows; row++) {
    ids.set(packed.subarray(row * length, row * length + width), row * width);
  }
  return { ids, width };
}

/**
 * Whether the graph takes token rows of any length: its sequence axis (the input's second) is
 * named or unknown rather than a number. optimum's CLIP text export names it "sequence_length";
 * a graph fixed at the context length is fed whole rows.
 */
function hasDynamicSequence(session: InferenceSession, inputName: string): boolean {
  const meta = session.inputMetadata[session.inputNames.indexOf(inputName)];
  if (meta === undefined || !meta.isTensor) return false;
  const axis = meta.shape[1];
  return typeof axis !== 'number' || axis < 0;
}

function maskType(session: InferenceSession): 'int64' | 'int32' {
  const index = session.inputNames.indexOf(ATTENTION_MASK);
  const meta = session.inputMetadata[index];
  return meta !== undefined && meta.isTensor && meta.type === 'int32' ? 'int32' : 'int64';
}

/**
 * The element type of a float input or output the runner exchanges with the graph. Anything but
 * float32 or float16 (a double, an int8 output) is a graph findimage cannot feed or read.
 */
function floatType(session: InferenceSession, side: 'input' | 'output', name: string, tower: string): FloatElementType {
  const names = side === 'input' ? session.inputNames : session.outputNames;
  const metadata = side === 'input' ? session.inputMetadata : session.outputMetadata;
  const meta = metadata[names.indexOf(name)];
  // Metadata without a type (a non-tensor value) is left to the run's own check.
  if (meta === undefined || !meta.isTensor) return 'float32';
  if (meta.type === 'float32' || meta.type === 'float16') return meta.type;
  throw new GraphMismatch(`the ${tower} graph's ${side} "${name}" is ${meta.type}; findimage handles float32 and float16`);
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', ');
}
