// Which ONNX Runtime execution providers to try for a Device, in order of preference, and the
// session options that go with them (after immich's sessions/ort.py).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { Device } from '../config.js';
import type { ProviderName } from './messages.js';

/** One way to create a session: the providers handed to ONNX Runtime, best first. */
export interface ProviderPlan {
  /** The provider that does the work when this plan loads. */
  provider: ProviderName;
  /** Passed as SessionOptions.executionProviders. */
  executionProviders: InferenceSession.ExecutionProviderConfig[];
}

/**
 * The plans to try, in order. `auto` prefers CUDA but, because ['cuda', 'cpu'] THROWS on a host
 * without the CUDA provider instead of falling back, it carries a second, CPU-only plan. An
 * explicit `cuda:N` has no fallback: the user asked for the GPU and must hear that it failed.
 * 'cpu' stays after 'cuda' in a CUDA plan so that operators CUDA lacks still run.
 */
export function providerPlans(device: Device): ProviderPlan[] {
  const cpu: ProviderPlan = { provider: 'cpu', executionProviders: ['cpu'] };
  switch (device.kind) {
    case 'cpu':
      return [cpu];
    case 'cuda':
      return [cudaPlan(device.deviceId)];
    case 'auto':
      return [cudaPlan(0), cpu];
  }
}

/**
 * Where onnxruntime-node looks for its CUDA provider: beside its native binding. The npm
 * install skips it (see README, "GPU"), so on most hosts it is absent.
 */
export function cudaProviderLibraryPath(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  const root = join(dirname(entry), '..');
  return join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

/**
 * The plans worth trying here. For `auto` without the CUDA provider library, the CUDA plan is
 * dropped up front: trying it would only make ONNX Runtime print a native error line on every
 * start of a CPU-only host. Returns the reason when a plan was dropped.
 */
export function plansForThisHost(
  device: Device,
  cudaLibraryPresent: boolean = existsSync(cudaProviderLibraryPath()),
): { plans: ProviderPlan[]; skippedReason?: string } {
  const plans = providerPlans(device);
  if (device.kind !== 'auto' || cudaLibraryPresent) return { plans };
  return {
    plans: plans.filter((plan) => plan.provider !== 'cuda'),
    skippedReason: 'the CUDA execution provider is not installed (onnxruntime-node was installed without it)',
  };
}

function cudaPlan(deviceId: number): ProviderPlan {
  return { provider: 'cuda', executionProviders: [{ name: 'cuda', deviceId }, 'cpu'] };
}

/**
 * Session options for one worker. Workers share the machine's cores, so each session gets its
 * share for intra-op parallelism and one inter-op thread (CLIP's graph is a chain; parallel
 * execution only adds contention, as immich found on CPU).
 */
export function sessionOptions(
  plan: ProviderPlan,
  intraOpNumThreads: number,
): InferenceSession.SessionOptions {
  return {
    executionProviders: plan.executionProviders,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads,
    interOpNumThreads: 1,
    // Idle ONNX Runtime threads spin by default, burning the cores that image decoding and the
    // other worker need; on a shared CPU, sleeping threads cut search latency under indexing.
    extra: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' },
  };
}

/** Cores divided among workers, at least one thread each. */
export function threadsPerWorker(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** How a Device reads in a log line or an error ("auto", "cpu", "cuda:1"). */
export function describeDevice(device: Device): string {
  return device.kind === 'cuda' ? `cuda:${device.deviceId}` : device.kind;
}

/** Why the workers run where they do, for the one startup log line. */
export function providerChoiceReason(device: Device, fallbackReason: string | undefined): string {
  if (fallbackReason !== undefined) return `device is ${describeDevice(device)} and ${fallbackReason}`;
  if (device.kind === 'auto') return 'device is auto and the CUDA execution provider loaded';
  return `device is ${describeDevice(device)}`;
}
