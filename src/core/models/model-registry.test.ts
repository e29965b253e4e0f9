// The registry: ids, pins, and that the bundled tiny-test files are the ones pinned.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../errors.js';
import { DEFAULT_MODEL_ID, MODEL_REGISTRY, canonicalModelId, getModelSpec } from './model-registry.js';
import { packageRoot } from './package-root.js';

describe('model registry', () => {
  it('refuses an unknown model id with model_unknown, listing the known ids', () => {
    let error: unknown;
    try {
      getModelSpec('clip-vit-huge');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model_unknown');
    expect((error as ModelError).message).toBe(
      'Unknown model "clip-vit-huge". Set FINDIMAGE_MODEL to one of: clip-vit-b32, clip-vit-b32-q8, clip-vit-b32-fp16, clip-vit-b16-q8, clip-vit-b16-fp16, siglip-b16-224, siglip-b16-224-fp16, tiny-test, tiny-test-q8, tiny-test-fp16, tiny-siglip, tiny-siglip-fp16 (run "findimage model list" for details).',
    );
  });

  it('defaults to clip-vit-b32, a real model downloaded from a pinned hub commit', () => {
    const spec = getModelSpec(DEFAULT_MODEL_ID);
    expect(spec.id).toBe('clip-vit-b32');
    expect(spec.developmentOnly).toBe(false);
    expect(spec.source).toEqual({
      kind: 'huggingface',
      repo: 'Xenova/clip-vit-base-patch32',
      revision: 'd15189d7028b43f1d3e65039190477f6af591c2a',
    });
    expect(spec.files.visionModel).toEqual({
      path: 'onnx/vision_model.onnx',
      size: 351_685_709,
      sha256: 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40',
    });
    expect(spec.text.inputName).toBe('input_ids');
    expect(spec.text.outputName).toBe('text_embeds');
    expect(spec.vision.inputName).toBe('pixel_values');
    expect(spec.vision.outputName).toBe('image_embeds');
  });

  it('pins every file of every model with a positive size and a 64-hex sha256, ids unique', () => {
    expect(new Set(MODEL_REGISTRY.map((m) => m.id)).size).toBe(MODEL_REGISTRY.length);
    for (const spec of MODEL_REGISTRY) {
      if (spec.source.kind === 'huggingface') expect(spec.source.revision).toMatch(/^[0-9a-f]{40}$/);
      for (const file of Object.values(spec.files)) {
        expect(file.size, `${spec.id} ${file.path}`).toBeGreaterThan(0);
        expect(file.sha256, `${spec.id} ${file.path}`).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it.each(['tiny-test', 'tiny-test-q8', 'tiny-test-fp16', 'tiny-siglip', 'tiny-siglip-fp16'])('pins the bundled %s files at exactly their size and sha256 on disk', async (id) => {
    const spec = getModelSpec(id);
    expect(spec.developmentOnly).toBe(true);
    if (spec.source.kind !== 'bundled') throw new Error(`${id} is not bundled`);
    for (const file of Object.values(spec.files)) {
      const bytes = await readFile(join(packageRoot(), spec.source.dir, file.path));
      expect({ path: file.path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(file);
    }
  });

  it('knows SigLIP base/16 224 with its family, its tensor names and 768-d vectors', () => {
    const spec = getModelSpec('siglip-b16-224');
    expect(spec.family).toBe('siglip');
    expect(spec.dimension).toBe(768);
    expect(spec.text).toMatchObject({ contextLength: 64, eosId: 1, padId: 1, inputName: 'input_ids', outputName: 'pooler_output' });
    expect(spec.text.bosId).toBeUndefined();
    expect(spec.vision).toMatchObject({ imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 'squash', outputName: 'pooler_output' });
  });

  it('names a quantized variant model-q8 or model:q8, and says what it is a variant of', () => {
    expect(getModelSpec('clip-vit-b32:q8')).toBe(getModelSpec('clip-vit-b32-q8'));
    expect(getModelSpec('clip-vit-b32-q8').variantOf).toEqual({ model: 'clip-vit-b32', precision: 'q8' });
    expect(getModelSpec('clip-vit-b32-q8').source).toEqual(getModelSpec('clip-vit-b32').source);
    expect(() => getModelSpec('clip-vit-b32:q4')).toThrow(ModelError);
  });

  it('names an fp16 variant model-fp16 or model:fp16, from the same pinned revision, with the fp16 files', () => {
    for (const model of ['clip-vit-b32', 'clip-vit-b16', 'siglip-b16-224']) {
      const variant = getModelSpec(`${model}:fp16`);
      expect(variant.id).toBe(`${model}-fp16`);
      expect(variant.variantOf).toEqual({ model, precision: 'fp16' });
      expect(variant.files.textModel.path).toBe('onnx/text_model_fp16.onnx');
      expect(variant.files.visionModel.path).toBe('onnx/vision_model_fp16.onnx');
      expect(variant.description).toContain('on a CPU it is usually slower than fp32');
    }
    expect(getModelSpec('clip-vit-b32-fp16').source).toEqual(getModelSpec('clip-vit-b32').source);
    expect(getModelSpec('siglip-b16-224-fp16').source).toEqual(getModelSpec('siglip-b16-224').source);
    expect(getModelSpec('clip-vit-b16-fp16').source).toEqual(getModelSpec('clip-vit-b16-q8').source);
  });

  it('spells every variant precision "model:precision" as the id "model-precision", and leaves other names alone', () => {
    expect(canonicalModelId('clip-vit-b32:fp16')).toBe('clip-vit-b32-fp16');
    expect(canonicalModelId('clip-vit-b32:q8')).toBe('clip-vit-b32-q8');
    expect(canonicalModelId('clip-vit-b32-q8')).toBe('clip-vit-b32-q8');
    expect(canonicalModelId('clip-vit-b32')).toBe('clip-vit-b32');
    expect(canonicalModelId('clip-vit-b32:int4')).toBe('clip-vit-b32:int4');
    expect(canonicalModelId('a:fp16:q8')).toBe('a:fp16-q8');
  });

  it('gives a bare model name the fp32 files: fp16 only when asked for', () => {
    expect(getModelSpec('clip-vit-b32').files.visionModel.path).toBe('onnx/vision_model.onnx');
    expect(getModelSpec('clip-vit-b32').variantOf).toBeUndefined();
    expect(getModelSpec('siglip-b16-224').files.textModel.path).toBe('onnx/text_model.onnx');
  });

  it('gives every published model its languages and a quality figure with a source', () => {
    for (const spec of MODEL_REGISTRY.filter((m) => !m.developmentOnly)) {
      expect(spec.languages?.length, spec.id).toBeGreaterThan(0);
      expect(spec.quality?.source.length, spec.id).toBeGreaterThan(10);
    }
  });
});
