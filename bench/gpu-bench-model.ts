// The GPU bench's models: the ViT-B/32-shaped towers in a folder of the bench's layout (fp32 as
// built by build-vit-b32-model.py, or fp16 as converted by gpu-fp16-model.py), loaded through
// openFindimage with their manifest's sizes and hashes.
import { resolve } from 'node:path';
import { RANDOM_VIT_B32_ID, randomVitB32Spec, type BenchModelChoice } from './bench-model.js';

/** How openFindimage loads the bench model in `dir` (a folder with manifest.json). */
export function benchModelIn(root: string, dir: string): BenchModelChoice {
  const absolute = resolve(dir);
  return {
    env: { FINDIMAGE_MODEL: RANDOM_VIT_B32_ID, FINDIMAGE_MODEL_DIR: absolute },
    spec: randomVitB32Spec(root, absolute),
  };
}
