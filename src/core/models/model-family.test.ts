// What each model family tells the embedding workers about its text tower: OpenAI CLIP's reads
// nothing after the first end-of-text token (causal, pooled there), so its padding may be cut off;
// SigLIP's reads every position.
import { describe, expect, it } from 'vitest';
import { findFamily, textTowerSettings } from './model-family.js';
import { getModelSpec } from './model-registry.js';

describe('textTowerSettings', () => {
  it("names OpenAI CLIP's end-of-text id, after which the workers may cut the rows", () => {
    const text = getModelSpec('clip-vit-b32').text;
    expect(textTowerSettings(findFamily('openai-clip')!, text)).toEqual({ ...text, endOfTextId: 49407 });
  });

  it("leaves SigLIP's rows whole: its text tower reads the padding", () => {
    const text = getModelSpec('siglip-b16-224').text;
    expect(textTowerSettings(findFamily('siglip')!, text)).not.toHaveProperty('endOfTextId');
  });
});
