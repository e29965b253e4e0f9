// Loads a worker's tower sessions (the ones asked for at start, any other on first use), walking
// the provider plans in order and turning every failure into an error that names the file or the
// device and says what to do.
import { existsSync } from 'node:fs';
import { InferenceSession } from 'onnxruntime-node';
import { EmbeddingError, FindimageError, ModelError } from '../core/errors.js';
import {
  describeDevice,
  plansForThisHost,
  sessionOptions,
  type ProviderPlan,
} from './execution-providers.js';
import { cachedGraphFor, dropGraphCopy, saveGraphCopy } from './graph-cache.js';
import type { ProviderName, Tower, TowerElementTypes, WorkerSetup } from './messages.js';
import { GraphMismatch, TowerRunner, type TowerSpec } from './tower-runner.js';

/** Every tower, in the order a worker loads them when its setup names none. */
export const ALL_TOWERS: readonly Tower[] = ['text', 'vision'];

/**
 * A worker's sessions: the towers its setup names, loaded at start on the provider that worked,
 * and any other tower loaded on that provider the first time a batch needs it. A one-shot
 * `findimage search` so never pays for the vision tower (about 350 MB at ViT-B/32), yet a caller
 * that does need it later still gets an answer.
 */
export class TowerSessions {
  /** The provider every session of this worker uses. */
  readonly provider: ProviderName;
  /** Why an earlier plan was skipped; absent when the first plan worked. */
  readonly fallbackReason: string | undefined;
  readonly #setup: WorkerSetup;
  readonly #plan: ProviderPlan;
  readonly #runners = new Map<Tower, Promise<TowerRunner>>();

  constructor(setup: WorkerSetup, plan: ProviderPlan, fallbackReason: string | undefined) {
    this.#setup = setup;
    this.#plan = plan;
    this.provider = plan.provider;
    this.fallbackReason = fallbackReason;
  }

  /** The towers loaded (or loading) so far, in load order. */
  get loaded(): Tower[] {
    return [...this.#runners.keys()];
  }

  /** The element types of each tower loaded so far (waits for any still loading). */
  async elementTypes(): Promise<Partial<Record<Tower, TowerElementTypes>>> {
    const types: Partial<Record<Tower, TowerElementTypes>> = {};
    for (const [tower, runner] of this.#runners) types[tower] = (await runner).elementTypes;
    return types;
  }

  /** The tower's runner, loading its session first if this worker has not yet. */
  runner(tower: Tower): Promise<TowerRunner> {
    let runner = this.#runners.get(tower);
    if (runner === undefined) {
      runner = this.#load(tower);
      // A failed load is not cached: the next batch tries again and gets the same explanation.
      runner.catch(() => this.#runners.delete(tower));
      this.#runners.set(tower, runner);
    }
    return runner;
  }

  /** Takes a session created while the provider was chosen. */
  adopt(tower: Tower, session: InferenceSession): Promise<TowerRunner> {
    const runner = runnerOrExplain(session, towerSpec(this.#setup, tower), this.#setup, modelPath(this.#setup, tower));
    this.#runners.set(tower, runner);
    return runner;
  }

  async #load(tower: Tower): Promise<TowerRunner> {
    const path = modelPath(this.#setup, tower);
    const session = await createOrExplain(path, tower, this.#plan, this.#setup);
    return runnerOrExplain(session, towerSpec(this.#setup, tower), this.#setup, path);
  }
}

/**
 * Chooses the provider by loading the first tower the setup names (both when it names none),
 * then loads the others on it. Throws ModelError('model_load_failed') /
 * EmbeddingError('device_unavailable').
 */
export async function loadTowers(setup: WorkerSetup): Promise<TowerSessions> {
  const towers = setup.towers === undefined || setup.towers.length === 0 ? ALL_TOWERS : setup.towers;
  const [first, ...rest] = towers as [Tower, ...Tower[]];
  const { plans, skippedReason } = plansForThisHost(setup.device);
  let fallbackReason = skippedReason;
  for (const [index, plan] of plans.entries()) {
    let session: InferenceSession;
    try {
      session = await createSession(modelPath(setup, first), first, plan, setup);
    } catch (error) {
      if (index < plans.length - 1) {
        fallbackReason = `the ${plan.provider.toUpperCase()} execution provider could not start (${firstLine(error)})`;
        continue;
      }
      throw await explainFirstFailure(setup, first, plan, error);
    }
    const sessions = new TowerSessions(setup, plan, fallbackReason);
    await sessions.adopt(first, session);
    for (const tower of rest) await sessions.runner(tower);
    return sessions;
  }
  // providerPlans never returns an empty list; this keeps the compiler and a future edit honest.
  throw new FindimageError('internal', `No execution provider plan for device ${describeDevice(setup.device)}.`);
}

/**
 * A session on the tower's graph. On the CPU it loads from the cached copy with external weights
 * (graph-cache.ts), made on the first load; anything wrong with that copy or its folder falls back
 * to the source file, which alone decides whether the model loads and what the error says.
 */
async function createSession(path: string, tower: Tower, plan: ProviderPlan, setup: WorkerSetup): Promise<InferenceSession> {
  const standard = sessionOptions(plan, setup.intraOpNumThreads);
  const options =
    setup.prepackWeights === false ? { ...standard, extra: { ...standard.extra, 'session.disable_prepacking': '1' } } : standard;
  if (plan.provider === 'cpu' && setup.graphCacheDir !== undefined) {
    const cached = await fromGraphCache(path, tower, setup.graphCacheDir, options).catch(() => undefined);
    if (cached !== undefined) return cached;
  }
  return InferenceSession.create(path, options);
}

async function fromGraphCache(
  source: string,
  tower: Tower,
  cacheDir: string,
  options: InferenceSession.SessionOptions,
): Promise<InferenceSession | undefined> {
  const graph = await cachedGraphFor(cacheDir, tower, source);
  if (!existsSync(graph.path)) await saveGraphCopy(source, graph, options);
  try {
    return await InferenceSession.create(graph.path, options);
  } catch {
    await dropGraphCopy(graph);
    return undefined;
  }
}

function modelPath(setup: WorkerSetup, tower: Tower): string {
  return tower === 'text' ? setup.textModelPath : setup.visionModelPath;
}

function towerSpec(setup: WorkerSetup, tower: Tower): TowerSpec {
  return tower === 'text' ? { tower: 'text', ...setup.text } : { tower: 'vision', ...setup.vision };
}

/**
 * The last plan failed on the first tower's model. With an explicit CUDA device the cause may be
 * CUDA or the file: loading the same file on the CPU tells them apart (only on this failure path).
 */
async function explainFirstFailure(setup: WorkerSetup, tower: Tower, plan: ProviderPlan, error: unknown): Promise<FindimageError> {
  if (plan.provider === 'cuda') {
    const cpu: ProviderPlan = { provider: 'cpu', executionProviders: ['cpu'] };
    let cpuWorks = false;
    try {
      const probe = await InferenceSession.create(modelPath(setup, tower), sessionOptions(cpu, 1));
      await probe.release();
      cpuWorks = true;
    } catch {
      cpuWorks = false;
    }
    if (cpuWorks) {
      const device = describeDevice(setup.device);
      return new EmbeddingError(
        'device_unavailable',
        `The device is set to ${device}, but ONNX Runtime's CUDA execution provider could not start: ` +
          `${firstLine(error)}. Install the CUDA build (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild ` +
          `onnxruntime-node, with CUDA 12 and cuDNN 9 on the host) or set FINDIMAGE_DEVICE=cpu or auto.`,
        { cause: error, details: { device } },
      );
    }
  }
  return modelLoadFailed(modelPath(setup, tower), tower, error);
}

async function createOrExplain(
  path: string,
  tower: 'text' | 'vision',
  plan: ProviderPlan,
  setup: WorkerSetup,
): Promise<InferenceSession> {
  try {
    return await createSession(path, tower, plan, setup);
  } catch (error) {
    throw modelLoadFailed(path, tower, error);
  }
}

async function runnerOrExplain(
  session: InferenceSession,
  spec: TowerSpec,
  setup: WorkerSetup,
  path: string,
): Promise<TowerRunner> {
  try {
    return new TowerRunner(session, spec, setup.dimension);
  } catch (error) {
    await session.release();
    if (error instanceof GraphMismatch) {
      throw new ModelError(
        'model_load_failed',
        `The ${spec.tower} model ${path} does not fit this model's spec: ${error.message}. ` +
          'The file may belong to another model; download the model again.',
        { cause: error, details: { file: path } },
      );
    }
    throw error;
  }
}

function modelLoadFailed(path: string, tower: 'text' | 'vision', error: unknown): ModelError {
  return new ModelError(
    'model_load_failed',
    `Could not load the ${tower} model ${path}: ${firstLine(error)}. The file may be incomplete or ` +
      'not an ONNX model; delete it and download the model again.',
    { cause: error, details: { file: path } },
  );
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? text).trim();
}
