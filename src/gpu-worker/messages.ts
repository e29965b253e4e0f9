// The typed messages between the embedding pool and its worker threads. Tensors travel as
// ArrayBuffers in the postMessage transfer list, never as structured-clone copies.
import type { Device } from '../config.js';
import type { ErrorCode } from '../core/errors.js';

/** Which model tower a batch runs on. */
export type Tower = 'text' | 'vision';

/** Which execution provider a worker's sessions ended up on. */
export type ProviderName = 'cuda' | 'cpu';

/** Names and sizes of the text tower's graph. */
export interface TextTowerSpec {
  /** Graph input: int64 [batch, contextLength]. */
  inputName: string;
  /** Graph output: float32 or float16 [batch, dimension] (float16 is widened in the worker). */
  outputName: string;
  /** Token ids per row. */
  contextLength: number;
  /**
   * Set for a causal text tower that pools at the first end-of-text token (OpenAI CLIP): no id
   * after the first one of these changes the output, so a graph whose sequence axis is dynamic
   * is fed each batch cut after its longest text's end token (tower-runner.ts), a fraction of the
   * work for a short query. Absent: every row is fed whole, contextLength ids.
   */
  endOfTextId?: number;
}

/** Names and sizes of the vision tower's graph. */
export interface VisionTowerSpec {
  /** Graph input: float32 or float16 [batch, 3, imageSize, imageSize] (the worker converts). */
  inputName: string;
  /** Graph output: float32 or float16 [batch, dimension] (float16 is widened in the worker). */
  outputName: string;
  /** Side of the square input image, in pixels. */
  imageSize: number;
}

/** The element types a float tensor at a graph's boundary may have. */
export type FloatElementType = 'float32' | 'float16';

/** The element types of the tensors a worker exchanges with one tower's graph (tower-runner.ts). */
export interface TowerElementTypes {
  /** The image input's type (vision); null for the text tower, whose input is int64 ids. */
  input: FloatElementType | null;
  /** The embedding output's type, widened to float32 before normalisation when float16. */
  output: FloatElementType;
}

/** What a worker needs to load its sessions; passed as workerData. */
export interface WorkerSetup {
  /** Absolute path of the text tower's .onnx file. */
  textModelPath: string;
  /** Absolute path of the vision tower's .onnx file. */
  visionModelPath: string;
  /** The text graph's names and sizes. */
  text: TextTowerSpec;
  /** The vision graph's names and sizes. */
  vision: VisionTowerSpec;
  /** Length of every output row. */
  dimension: number;
  /** Where inference should run. */
  device: Device;
  /** CPU threads one ONNX Runtime session may use for one operator. */
  intraOpNumThreads: number;
  /**
   * The towers to load at start; default both. Any other loads the first time a batch needs it.
   * A worker reserved for searches, or a one-shot `findimage search`, never runs the vision
   * tower, and skipping it saves its memory (about 350 MB for ViT-B/32) and load time.
   */
  towers?: readonly Tower[];
  /**
   * Folder for the graphs' copies with external weights (graph-cache.ts), which load several
   * times faster on the CPU; absent: always load the source files.
   */
  graphCacheDir?: string;
  /**
   * Pack the weights of matrix products once at load (default), which speeds every later batch,
   * or not: a one-shot search runs one batch, and packing costs it more than it saves (0.7 s of
   * CPU for ViT-B/32's text tower, measured in docs/benchmarks.md, "Cold search").
   */
  prepackWeights?: boolean;
  /**
   * Nice value the worker thread sets itself before loading, so that ONNX Runtime's threads,
   * started with the sessions, inherit it (Linux only; see thread-priority.ts). Given to
   * workers that index while reserved search workers answer searches; absent: unchanged.
   */
  niceness?: number;
}

/** Pool to worker: run one batch. `data` is transferred, so the sender's copy is detached. */
export interface RunBatchMessage {
  /** Discriminator. */
  type: 'run';
  /** Pool-wide id echoed in the answer. */
  batchId: number;
  /** Which tower to run. */
  tower: Tower;
  /** Rows in the batch. */
  rows: number;
  /** The packed rows: BigInt64 token ids for text, CHW float32 pixels for vision. */
  data: ArrayBuffer;
}

/**
 * Pool to a worker started before its setup was known (early-worker.ts): the setup it would
 * otherwise have had as workerData. The first message such a worker gets, and only that once.
 */
export interface SetupMessage {
  /** Discriminator. */
  type: 'setup';
  /** What the worker loads. */
  setup: WorkerSetup;
}

/** Every message the pool sends to a worker once it is set up. */
export type ToWorkerMessage = RunBatchMessage;

/** Worker to pool: the sessions asked for at start are loaded. */
export interface ReadyMessage {
  /** Discriminator. */
  type: 'ready';
  /** The execution provider the sessions run on. */
  provider: ProviderName;
  /** Why a preferred provider was skipped (absent when the first choice worked). */
  fallbackReason?: string;
  /** Why the requested niceness could not be set (absent when it was, or none was asked). */
  priorityProblem?: string;
  /** The towers the worker loaded at start, in load order. */
  towers: Tower[];
  /** What each loaded tower's graph takes and gives: float16 ones are converted in the worker. */
  elementTypes: Partial<Record<Tower, TowerElementTypes>>;
  /** Present when the thread was started before its setup (early-worker.ts) and adopted. */
  startedEarly?: true;
}

/** Worker to pool: the sessions could not be loaded; the worker ends after sending this. */
export interface LoadFailedMessage {
  /** Discriminator. */
  type: 'load_failed';
  /** 'model_load_failed' for a bad file, 'device_unavailable' when explicit CUDA cannot start. */
  code: ErrorCode;
  /** The message a user can act on. */
  message: string;
  /** Machine-readable details (the file, the device). */
  details: Record<string, unknown>;
}

/** Worker to pool: a batch ran. `data` (rows x dimension, L2-normalised) is transferred. */
export interface BatchDoneMessage {
  /** Discriminator. */
  type: 'done';
  /** The id from the RunBatchMessage. */
  batchId: number;
  /** Float32 rows, each of `dimension` floats and unit length. */
  data: ArrayBuffer;
}

/** Worker to pool: the model threw on a batch (the worker itself is fine). */
export interface BatchFailedMessage {
  /** Discriminator. */
  type: 'failed';
  /** The id from the RunBatchMessage. */
  batchId: number;
  /** What ONNX Runtime or the output check said. */
  message: string;
}

/** Every message a worker sends to the pool. */
export type FromWorkerMessage = ReadyMessage | LoadFailedMessage | BatchDoneMessage | BatchFailedMessage;
