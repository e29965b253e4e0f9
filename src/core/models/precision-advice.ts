// What findimage says about a model's precision on the device it landed on: an fp16 variant is
// for GPUs, and on a CPU it is usually slower than the fp32 model (few of ONNX Runtime's CPU
// kernels take float16, so the graph spends its time converting; measured in docs/benchmarks.md,
// "Issue 20, part 3: fp16"). A bare model name is always the fp32 model: fp16 only when asked.
import type { ModelSpec } from './model-spec.js';

/** A warning about the precision on this device, or undefined when there is nothing to say. */
export interface PrecisionAdvice {
  /** The line a person reads in the log. */
  message: string;
  /** The model that would suit this device better (the fp32 one). */
  suggestedModel: string;
}

/**
 * Advice for `spec` running on `provider` ("cpu" or "cuda"): an fp16 variant on the CPU gets a
 * warning naming its fp32 model; anything else gets none.
 */
export function precisionAdvice(spec: Pick<ModelSpec, 'id' | 'variantOf'>, provider: string): PrecisionAdvice | undefined {
  if (spec.variantOf?.precision !== 'fp16' || provider !== 'cpu') return undefined;
  const fp32 = spec.variantOf.model;
  return {
    message:
      `${spec.id} is an fp16 model running on the CPU, where fp16 is usually slower than fp32; ` +
      `FINDIMAGE_MODEL=${fp32} (the bare name picks fp32) is faster here, fp16 pays off on a GPU`,
    suggestedModel: fp32,
  };
}
