// Loads the text and vision sessions inside a worker, walking the provider plans in order and
// turning every failure into an error that names the file or the device and says what to do.
import { InferenceSession } from 'onnxruntime-node';
import { EmbeddingError, FindimageError, ModelError } from '../core/errors.js';
import {
  describeDevice,
  plansForThisHost,
  sessionOptions,
  type ProviderPlan,
} from './execution-providers.js';
import type { ProviderName, WorkerSetup } from './messages.js';
import { GraphMismatch, TowerRunner, type TowerSpec } from './tower-runner.js';

/** Both towers, ready to run, and how they got there. */
export interface LoadedTowers {
  /** Runs the text tower. */
  text: TowerRunner;
  /** Runs the vision tower; absent in a text-only (search) worker. */
  vision?: TowerRunner;
  /** The provider both sessions use. */
  provider: ProviderName;
  /** Why an earlier plan was skipped; absent when the first plan worked. */
  fallbackReason?: string;
}

/** Loads both towers or throws ModelError('model_load_failed') / EmbeddingError('device_unavailable'). */
export async function loadTowers(setup: WorkerSetup): Promise<LoadedTowers> {
  const { plans, skippedReason } = plansForThisHost(setup.device);
  let fallbackReason = skippedReason;
  for (const [index, plan] of plans.entries()) {
    let text: InferenceSession;
    try {
      text = await InferenceSession.create(setup.textModelPath, sessionOptions(plan, setup.intraOpNumThreads));
    } catch (error) {
      if (index < plans.length - 1) {
        fallbackReason = `the ${plan.provider.toUpperCase()} execution provider could not start (${firstLine(error)})`;
        continue;
      }
      throw await explainFirstFailure(setup, plan, error);
    }
    const vision = setup.textOnly === true ? undefined : await createOrExplain(setup.visionModelPath, 'vision', plan, setup);
    return {
      text: await runnerOrExplain(text, { tower: 'text', ...setup.text }, setup, setup.textModelPath),
      ...(vision === undefined
        ? {}
        : { vision: await runnerOrExplain(vision, { tower: 'vision', ...setup.vision }, setup, setup.visionModelPath) }),
      provider: plan.provider,
      ...(fallbackReason === undefined ? {} : { fallbackReason }),
    };
  }
  // providerPlans never returns an empty list; this keeps the compiler and a future edit honest.
  throw new FindimageError('internal', `No execution provider plan for device ${describeDevice(setup.device)}.`);
}

/**
 * The last plan failed on the text model. With an explicit CUDA device the cause may be CUDA or
 * the file: loading the same file on the CPU tells them apart (only on this failure path).
 */
async function explainFirstFailure(setup: WorkerSetup, plan: ProviderPlan, error: unknown): Promise<FindimageError> {
  if (plan.provider === 'cuda') {
    const cpu: ProviderPlan = { provider: 'cpu', executionProviders: ['cpu'] };
    let cpuWorks = false;
    try {
      const probe = await InferenceSession.create(setup.textModelPath, sessionOptions(cpu, 1));
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
  return modelLoadFailed(setup.textModelPath, 'text', error);
}

async function createOrExplain(
  path: string,
  tower: 'text' | 'vision',
  plan: ProviderPlan,
  setup: WorkerSetup,
): Promise<InferenceSession> {
  try {
    return await InferenceSession.create(path, sessionOptions(plan, setup.intraOpNumThreads));
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
