// What findimage says about a model's precision on the device it landed on: an fp16 variant is
// for GPUs, and on a CPU it is usually slower than the fp32 model (few of ONNX Runtime's CPU
// kernels take float16, so the graph spends its time converting; measured in docs/benchmarks.md,
// "Issue 20, part 3: fp16"). A bare model name is always the fp32 model: fp16 only when asked.
import { MODEL_REGISTRY } from './model-registry.js';
import type { ModelSpec } from './model-spec.js';

/** A warning about the precision on this device, or undefined when there is nothing to say. */
export interface PrecisionAdvice {
  /** The line a person reads in the log. */
  message: string;
  /**
   * The registry model that suits this device better: the fp32 model, or its int8 variant where
   * the registry has no fp32 entry (clip-vit-b16). Absent when it has neither.
   */
  suggestedModel?: string;
}

/** The fp32 model of a variant if the registry has it, else its int8 variant, else nothing. */
function cpuAlternative(fp32: string): string | undefined {
  return [fp32, `${fp32}-q8`].find((id) => MODEL_REGISTRY.some((spec) => spec.id === id));
}

/**
 * Advice for `spec` running on `provider` ("cpu" or "cuda"): an fp16 variant on the CPU gets a
 * warning naming the model to use there instead; anything else gets none.
 */
export function precisionAdvice(spec: Pick<ModelSpec, 'id' | 'variantOf'>, provider: string): PrecisionAdvice | undefined {
  if (spec.variantOf?.precision !== 'fp16' || provider !== 'cpu') return undefined;
  const alternative = cpuAlternative(spec.variantOf.model);
  const base = `${spec.id} is an fp16 model running on the CPU, where fp16 is usually slower than fp32`;
  if (alternative === undefined) return { message: `${base}; fp16 pays off on a GPU` };
  return {
    message: `${base}; FINDIMAGE_MODEL=${alternative} is faster here (a bare model name picks fp32), fp16 pays off on a GPU`,
    suggestedModel: alternative,
  };
}
