// The doctor's look at ONNX Runtime: its version, the execution providers this build offers, and
// CUDA where FINDIMAGE_DEVICE asks for it (cuda:N must load; auto only prefers it). CUDA is proven
// the one way that counts: a session is created on it, with the bundled tiny model's vision graph.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { env, listSupportedBackends } from 'onnxruntime-node';
import type { Device } from '../config.js';
import { fail, ok, warn, type Check, type CheckResult } from '../core/doctor/check.js';
import { packageRoot } from '../core/models/package-root.js';
import { runInChild } from './child-probe.js';
import { cudaProviderLibraryPath, describeDevice } from './execution-providers.js';

/** A 115 KB graph bundled with findimage: enough to prove a provider loads, in milliseconds. */
const PROBE_GRAPH = join('models', 'tiny-test', 'onnx', 'vision_model.onnx');

/**
 * Loading the CUDA provider and cuDNN and creating a first session takes a few seconds on a
 * healthy GPU host; 60 s covers a cold driver without hanging on a broken one.
 */
export const CUDA_PROBE_TIMEOUT_MS = 60_000;

export interface OnnxRuntimeDoctorOptions {
  /** FINDIMAGE_DEVICE. */
  device: Device;
  /** Whether the CUDA provider library is installed (default: looked up beside the binding). */
  cudaLibraryPresent?: boolean;
  /**
   * Creates a session on CUDA device `deviceId`, or throws why not, and stops once `signal`
   * aborts (default: a real session on the probe graph, in a child process).
   */
  probeCuda?: (deviceId: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Creates and releases a session on CUDA device `argv[3]` from graph `argv[2]` with the
 * onnxruntime-node at `argv[1]` (only CUDA: no silent CPU fallback); writes why not to stdout.
 */
const CUDA_PROBE_SCRIPT = `
const ort = require(process.argv[1]);
ort.InferenceSession.create(process.argv[2], { executionProviders: [{ name: 'cuda', deviceId: Number(process.argv[3]) }] })
  .then((session) => session.release())
  .then(() => process.exit(0), (error) => { process.stdout.write(String(error && error.message || error) + '\\n'); process.exit(1); });
`;

/** The CUDA probe in a child process: a driver that hangs is killed when the check runs out of time. */
export function probeCudaSession(deviceId: number, signal: AbortSignal): Promise<void> {
  const runtime = createRequire(import.meta.url).resolve('onnxruntime-node');
  return runInChild(CUDA_PROBE_SCRIPT, [runtime, join(packageRoot(), PROBE_GRAPH), String(deviceId)], signal);
}

/** The ONNX Runtime checks: the runtime and its providers, then CUDA. */
export function onnxRuntimeChecks(options: OnnxRuntimeDoctorOptions): Check[] {
  return [
    { name: 'onnx runtime', run: async () => checkRuntime() },
    { name: 'cuda', timeoutMs: CUDA_PROBE_TIMEOUT_MS, run: (signal) => checkCuda(options, signal) },
  ];
}

function checkRuntime(): CheckResult {
  const backends = listSupportedBackends();
  const names = backends.map((b) => (b.bundled ? b.name : `${b.name} (needs its provider library)`));
  return ok(`ONNX Runtime ${env.versions.common ?? 'unknown'}; execution providers: ${names.join(', ')}`);
}

async function checkCuda(options: OnnxRuntimeDoctorOptions, signal: AbortSignal): Promise<CheckResult> {
  const { device } = options;
  if (device.kind === 'cpu') return ok('FINDIMAGE_DEVICE is cpu: CUDA is not used');
  const present = options.cudaLibraryPresent ?? existsSync(cudaProviderLibraryPath());
  const install = 'Install the CUDA provider (README, "GPU": ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install) on a host with CUDA and cuDNN 9';
  if (!present) {
    if (device.kind === 'auto') return ok('FINDIMAGE_DEVICE is auto and the CUDA provider is not installed: findimage runs on the CPU');
    return fail(`FINDIMAGE_DEVICE is ${describeDevice(device)} but the CUDA execution provider is not installed`, `${install}, or set FINDIMAGE_DEVICE=cpu.`);
  }
  const deviceId = device.kind === 'cuda' ? device.deviceId : 0;
  try {
    await (options.probeCuda ?? probeCudaSession)(deviceId, signal);
  } catch (error) {
    // Out of time: the report already has the line; the probe was stopped.
    signal.throwIfAborted();
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (device.kind === 'auto') {
      return warn(`FINDIMAGE_DEVICE is auto and CUDA does not load (${reason}): findimage falls back to the CPU`, `Fix the CUDA libraries (LD_LIBRARY_PATH, driver, cuDNN 9), or set FINDIMAGE_DEVICE=cpu to say the CPU is meant.`);
    }
    return fail(`FINDIMAGE_DEVICE is ${describeDevice(device)} and CUDA does not load: ${reason}`, `${install}; check the driver and LD_LIBRARY_PATH, or set FINDIMAGE_DEVICE=cpu.`);
  }
  return ok(`a session runs on CUDA device ${deviceId} (FINDIMAGE_DEVICE is ${describeDevice(device)})`);
}
