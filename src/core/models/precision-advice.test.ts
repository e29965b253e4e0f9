// What findimage says about precision on a device: fp16 on a CPU is called out with the fp32
// model to use instead; fp16 on CUDA, fp32 and int8 anywhere say nothing.
import { describe, expect, it } from 'vitest';
import { getModelSpec } from './model-registry.js';
import { precisionAdvice } from './precision-advice.js';

describe('precisionAdvice', () => {
  it('warns of an fp16 variant on the CPU and names its fp32 model', () => {
    const advice = precisionAdvice(getModelSpec('clip-vit-b32:fp16'), 'cpu');
    expect(advice?.suggestedModel).toBe('clip-vit-b32');
    expect(advice?.message).toBe(
      'clip-vit-b32-fp16 is an fp16 model running on the CPU, where fp16 is usually slower than fp32; ' +
        'FINDIMAGE_MODEL=clip-vit-b32 is faster here (a bare model name picks fp32), fp16 pays off on a GPU',
    );
  });

  it('names the int8 variant where the registry has no fp32 entry, and no model where it has neither', () => {
    expect(precisionAdvice(getModelSpec('clip-vit-b16:fp16'), 'cpu')?.suggestedModel).toBe('clip-vit-b16-q8');
    const advice = precisionAdvice({ id: 'ours-fp16', variantOf: { model: 'ours', precision: 'fp16' } }, 'cpu');
    expect(advice?.suggestedModel).toBeUndefined();
    expect(advice?.message).toBe('ours-fp16 is an fp16 model running on the CPU, where fp16 is usually slower than fp32; fp16 pays off on a GPU');
  });

  it.each([
    ['clip-vit-b32-fp16', 'cuda'],
    ['clip-vit-b32', 'cpu'],
    ['clip-vit-b32-q8', 'cpu'],
    ['siglip-b16-224', 'cuda'],
  ])('says nothing for %s on %s', (id, provider) => {
    expect(precisionAdvice(getModelSpec(id), provider)).toBeUndefined();
  });
});
