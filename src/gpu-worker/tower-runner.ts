// Runs one tower's ONNX session on a packed batch: builds exactly the feeds the graph declares,
// checks the output's shape, and returns the rows L2-normalised. Lives inside a worker thread.
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { normalize } from '../core/embedding/vector-math.js';
import type { TextTowerSpec, Tower, VisionTowerSpec } from './messages.js';

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

export class TowerRunner {
  readonly tower: Tower;
  readonly #session: InferenceSession;
  readonly #spec: TowerSpec;
  readonly #dimension: number;
  /** Element type of attention_mask, or null when the graph does not declare one. */
  readonly #maskType: 'int64' | 'int32' | null;

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
  }

  /** Runs `rows` packed rows and returns rows x dimension unit-length floats. */
  async run(data: ArrayBuffer, rows: number): Promise<Float32Array> {
    const spec = this.#spec;
    const feeds: Record<string, Tensor> = {};
    if (spec.tower === 'text') {
      feeds[spec.inputName] = new Tensor('int64', new BigInt64Array(data), [rows, spec.contextLength]);
      if (this.#maskType === 'int64') {
        feeds[ATTENTION_MASK] = new Tensor(
          'int64',
          new BigInt64Array(rows * spec.contextLength).fill(1n),
          [rows, spec.contextLength],
        );
      } else if (this.#maskType === 'int32') {
        feeds[ATTENTION_MASK] = new Tensor(
          'int32',
          new Int32Array(rows * spec.contextLength).fill(1),
          [rows, spec.contextLength],
        );
      }
    } else {
      feeds[spec.inputName] = new Tensor('float32', new Float32Array(data), [
        rows,
        3,
        spec.imageSize,
        spec.imageSize,
      ]);
    }
    const results = await this.#session.run(feeds, [spec.outputName]);
    const output = results[spec.outputName];
    if (output === undefined || output.type !== 'float32') {
      throw new GraphMismatch(
        `the ${spec.tower} graph's output "${spec.outputName}" is ${output?.type ?? 'missing'}, not float32`,
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
    // output may live in memory that cannot be detached).
    const vectors = new Float32Array(output.data as Float32Array);
    for (let row = 0; row < rows; row++) {
      normalize(vectors.subarray(row * this.#dimension, (row + 1) * this.#dimension));
    }
    return vectors;
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}

function maskType(session: InferenceSession): 'int64' | 'int32' {
  const index = session.inputNames.indexOf(ATTENTION_MASK);
  const meta = session.inputMetadata[index];
  return meta !== undefined && meta.isTensor && meta.type === 'int32' ? 'int32' : 'int64';
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', ');
}
