// The file a QueryAdapter is saved in: one JSON object, the weights as base64 float32 with their
// sha256, and the model they were learned for. JSON so that a person can read what it is, which
// model it belongs to and how it was trained; base64 so that 512 x 512 weights stay one small file
// (1 MiB of floats, 1.4 MB on disk). docs/evaluation.md documents the format.
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { QueryAdapter } from './query-adapter.js';

/** The value of "format" in every adapter file. */
export const ADAPTER_FORMAT = 'findimage-query-adapter';
/** The version of the layout this code writes and reads. */
export const ADAPTER_FORMAT_VERSION = 1;
/** How the weights are written: float32, little-endian, row-major, base64. */
export const ADAPTER_ENCODING = 'float32-le-row-major-base64';
/** Largest dimension read: 4,096 (16M weights, 64 MiB) is beyond every model findimage runs, and bounds what a bad file can allocate. */
export const MAX_ADAPTER_DIMENSION = 4096;

/** What the file says about how the adapter was learned: shown, never needed to apply it. */
export type AdapterTraining = Record<string, unknown>;

/** An adapter as read from its file. */
export interface AdapterFile {
  adapter: QueryAdapter;
  /** sha256 of the weights' bytes, hex: names this adapter in logs and reports. */
  sha256: string;
  /** How it was learned (sources, queries, held-out figures, date), as written. */
  training: AdapterTraining;
}

/** The sha256 (hex) of the weights as stored: float32 little-endian, row-major. */
export function weightsSha256(weights: Float32Array): string {
  return createHash('sha256').update(littleEndianBytes(weights)).digest('hex');
}

/** The file's text for `adapter`. */
export function encodeAdapterFile(adapter: QueryAdapter, training: AdapterTraining): string {
  const bytes = littleEndianBytes(adapter.weights);
  const file = {
    format: ADAPTER_FORMAT,
    version: ADAPTER_FORMAT_VERSION,
    modelId: adapter.modelId,
    dimension: adapter.dimension,
    encoding: ADAPTER_ENCODING,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    training,
    weights: bytes.toString('base64'),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

/**
 * Reads an adapter file's text. Anything that is not a whole, intact adapter (not JSON, another
 * format or version, a dimension out of range, weights of the wrong length, not finite, or whose
 * sha256 differs) is refused with a ConfigError naming `source` and what is wrong.
 */
export function decodeAdapterFile(text: string, source: string): AdapterFile {
  const refuse = (what: string): never => {
    throw new ConfigError(`${source} is not a usable findimage query adapter: ${what}. Make a new one with \`findimage tune\`.`, { details: { path: source } });
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse('it is not JSON');
  }
  const file = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (file.format !== ADAPTER_FORMAT) return refuse(`its "format" is not "${ADAPTER_FORMAT}"`);
  if (file.version !== ADAPTER_FORMAT_VERSION) return refuse(`it is version ${String(file.version)}, and this findimage reads version ${ADAPTER_FORMAT_VERSION}`);
  if (file.encoding !== ADAPTER_ENCODING) return refuse(`its weights are encoded as ${String(file.encoding)}, not ${ADAPTER_ENCODING}`);
  if (typeof file.modelId !== 'string' || file.modelId === '') return refuse('it names no model');
  const dimension = file.dimension;
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > MAX_ADAPTER_DIMENSION) {
    return refuse(`its dimension must be a whole number from 1 to ${MAX_ADAPTER_DIMENSION}`);
  }
  if (typeof file.weights !== 'string' || typeof file.sha256 !== 'string') return refuse('it has no weights or no sha256');
  const bytes = Buffer.from(file.weights, 'base64');
  if (bytes.length !== dimension * dimension * 4) return refuse(`its weights hold ${bytes.length} bytes, and a ${dimension} x ${dimension} adapter needs ${dimension * dimension * 4}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== file.sha256) return refuse('its weights do not match their sha256 (the file is damaged or was edited)');
  const weights = new Float32Array(dimension * dimension);
  for (let i = 0; i < weights.length; i++) weights[i] = bytes.readFloatLE(i * 4);
  if (!weights.every(Number.isFinite)) return refuse('some weights are not finite numbers');
  const training = typeof file.training === 'object' && file.training !== null ? (file.training as AdapterTraining) : {};
  return { adapter: new QueryAdapter({ modelId: file.modelId, dimension, weights }), sha256, training };
}

/**
 * Refuses an adapter learned for another model (or another vector length): its W maps one
 * model's query space and means nothing in another's.
 */
export function checkAdapterFits(adapter: QueryAdapter, model: { id: string; dimension: number }, source: string): void {
  if (adapter.modelId !== model.id) {
    throw new ConfigError(
      `The query adapter ${source} was made for the model ${adapter.modelId}, but findimage runs ${model.id}. ` +
        `Run \`findimage tune\` with FINDIMAGE_MODEL=${model.id} to make one for it, or unset FINDIMAGE_ADAPTER.`,
      { details: { variable: 'FINDIMAGE_ADAPTER', adapterModel: adapter.modelId, model: model.id } },
    );
  }
  if (adapter.dimension !== model.dimension) {
    throw new ConfigError(
      `The query adapter ${source} takes ${adapter.dimension}-float vectors, but ${model.id} makes ${model.dimension}-float ones. Run \`findimage tune\` again, or unset FINDIMAGE_ADAPTER.`,
      { details: { variable: 'FINDIMAGE_ADAPTER' } },
    );
  }
}

function littleEndianBytes(weights: Float32Array): Buffer {
  const bytes = Buffer.alloc(weights.length * 4);
  for (let i = 0; i < weights.length; i++) bytes.writeFloatLE(weights[i] as number, i * 4);
  return bytes;
}
