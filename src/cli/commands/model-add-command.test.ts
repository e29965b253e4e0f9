// `findimage model add` with the tiny models of both families: a valid folder is registered
// and then runs under its name, `model list` shows it, and each kind of invalid folder is refused
// with the file, the field and what to do, registering nothing.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../config.js';
import { ModelError } from '../../core/errors.js';
import { locateModelFiles } from '../../core/models/model-locator.js';
import { packageRoot } from '../../core/models/package-root.js';
import { findModelSpec, loadRegisteredModels } from '../../core/models/registered-models.js';
import { openEmbedding } from '../../findimage.js';
import { createSilentLogger } from '../../logger.js';
import type { Terminal } from '../terminal.js';
import { runModelAdd } from './model-add-command.js';
import { runModelList } from './model-command.js';

const logger = createSilentLogger();
let root: string;
let config: Config;

function recordingTerminal(): Terminal & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), err: () => {}, progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }) };
}

/** The tiny-test files with a complete findimage-model.json, as a team would write one. */
const CLIP_MANIFEST = {
  name: 'team-clip',
  family: 'openai-clip',
  description: 'Our fine-tuned CLIP (here: tiny-test).',
  dimension: 512,
  languages: ['en', 'de'],
  files: { textModel: 'onnx/text_model.onnx', visionModel: 'onnx/vision_model.onnx', tokenizer: 'tokenizer.json' },
  text: { inputName: 'input_ids', outputName: 'text_embeds', contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407 },
  vision: {
    inputName: 'pixel_values',
    outputName: 'image_embeds',
    imageSize: 224,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    resize: 'shortest-side-crop',
  },
  quality: { metric: 'Recall@5 on our captions', percent: 71.5, source: 'findimage eval, 2026-11-30' },
};

/** A SigLIP folder's findimage-model.json that gives only what differs from the family defaults. */
const SIGLIP_MANIFEST = {
  name: 'team-siglip',
  family: 'siglip',
  dimension: 768,
  languages: ['en', 'fr', 'es'],
  files: { textModel: 'onnx/text_model.onnx', visionModel: 'onnx/vision_model.onnx', tokenizer: 'tokenizer.json' },
};

/** Copies a bundled tiny model into a new folder with `manifest` as its findimage-model.json. */
async function modelFolder(name: string, from: 'tiny-test' | 'tiny-siglip', manifest: unknown): Promise<string> {
  const dir = join(root, 'models', name);
  await mkdir(dir, { recursive: true });
  await cp(join(packageRoot(), 'models', from, 'onnx', 'text_model.onnx'), join(dir, 'onnx', 'text_model.onnx'));
  await cp(join(packageRoot(), 'models', from, 'onnx', 'vision_model.onnx'), join(dir, 'onnx', 'vision_model.onnx'));
  await cp(join(packageRoot(), 'models', from, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  if (manifest !== undefined) {
    await writeFile(join(dir, 'findimage-model.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  }
  return dir;
}

async function refusal(dir: string): Promise<ModelError> {
  const error = await runModelAdd(config, dir, recordingTerminal(), logger).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

// A fresh data folder (so a fresh list of registered models) for every test: each registers
// what it needs itself, and no test sees another's registrations, whatever the order.
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'findimage-model-add-'));
  config = loadConfig({ FINDIMAGE_DATA: join(root, 'data'), FINDIMAGE_CACHE: join(root, 'cache'), FINDIMAGE_DEVICE: 'cpu' });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('findimage model add: valid folders', () => {
  it('registers a CLIP-family folder, pins its files, and the model then embeds under its name', async () => {
    const dir = await modelFolder('team-clip', 'tiny-test', CLIP_MANIFEST);
    const terminal = recordingTerminal();
    const spec = await runModelAdd(config, dir, terminal, logger);
    expect(terminal.lines[0]).toMatch(/^Registered team-clip: openai-clip family, 512-d, .* languages en, de\.$/);
    const stored = findModelSpec('team-clip', config.dataDir);
    expect(stored).toEqual(spec);
    expect(stored.source).toEqual({ kind: 'bundled', dir });
    expect(stored.files.tokenizer.sha256).toMatch(/^[0-9a-f]{64}$/);
    const opened = await openEmbedding({ config: { ...config, model: 'team-clip' }, logger, model: stored });
    try {
      expect(await opened.embedder.embedQuery('a red car')).toHaveLength(512);
    } finally {
      await opened.embedder.close();
    }
  });

  it('registers a SigLIP folder that gives only what differs from the family defaults', async () => {
    const dir = await modelFolder('team-siglip', 'tiny-siglip', SIGLIP_MANIFEST);
    const spec = await runModelAdd(config, dir, recordingTerminal(), logger);
    expect(spec.text).toMatchObject({ contextLength: 64, eosId: 1, padId: 1, inputName: 'input_ids', outputName: 'pooler_output' });
    expect(spec.vision).toMatchObject({ resize: 'squash', mean: [0.5, 0.5, 0.5] });
  });

  it('shows registered models in model list with size, dimension, languages and quality', async () => {
    await runModelAdd(config, await modelFolder('team-clip', 'tiny-test', CLIP_MANIFEST), recordingTerminal(), logger);
    await runModelAdd(config, await modelFolder('team-siglip', 'tiny-siglip', SIGLIP_MANIFEST), recordingTerminal(), logger);
    const terminal = recordingTerminal();
    await runModelList({ ...config, model: 'team-clip' }, terminal);
    const text = terminal.lines.join('\n');
    expect(text).toMatch(/team-clip +available \(registered folder\) \[selected; registered with model add\]/);
    expect(text).toContain('openai-clip, 3.1 MiB, 512-d, languages: en, de');
    expect(text).toContain('quality: Recall@5 on our captions 71.5% (findimage eval, 2026-11-30)');
    expect(text).toContain('siglip, 0.1 MiB, 768-d, languages: en, fr, es');
    expect(text).toMatch(/siglip-b16-224 +not downloaded \(778 MiB\)/);
    expect(text).toContain('quality: zero-shot ImageNet top-1 63.2% (Radford et al. 2021');
    expect(text).toContain('q8 variant of clip-vit-b32');
    expect(text).toContain('fp16 variant of clip-vit-b32');
    expect(text).toContain('clip-vit-b32 with fp16 weights (about 306 MB): for GPUs; on a CPU it is usually slower than fp32, which a bare model name picks.');
  });

  it('refuses to load a registered model whose file changed since it was added, saying what to do', async () => {
    await runModelAdd(config, await modelFolder('team-clip', 'tiny-test', CLIP_MANIFEST), recordingTerminal(), logger);
    const spec = findModelSpec('team-clip', config.dataDir);
    const source = spec.source.kind === 'bundled' ? spec.source.dir : '';
    const tokenizer = join(source, 'tokenizer.json');
    await writeFile(tokenizer, `${await readFile(tokenizer, 'utf8')} `);
    const error = await locateModelFiles(spec, { cacheDir: config.cacheDir, baseUrl: config.modelBaseUrl, logger }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`The model team-clip registered from ${source} has changed since "findimage model add"`);
    expect((error as Error).message).toContain(`run "findimage model add ${source}" again`);
  });
});

describe('findimage model add: each kind of invalid folder', () => {
  const files = CLIP_MANIFEST.files;
  const cases: Array<{ name: string; manifest: unknown; from?: 'tiny-test' | 'tiny-siglip'; expected: RegExp }> = [
    { name: 'no-manifest', manifest: undefined, expected: /findimage-model\.json does not exist\. Write it beside the model's files/ },
    { name: 'bad-json', manifest: '{"name": "x",', expected: /findimage-model\.json: the file is not valid JSON .* Fix the syntax/ },
    { name: 'bad-family', manifest: { ...CLIP_MANIFEST, family: 'blip' }, expected: /: "family" must be one of "openai-clip", "siglip"\. Correct it/ },
    { name: 'no-dimension', manifest: { ...CLIP_MANIFEST, dimension: undefined }, expected: /: "dimension" must be a whole number from 1 to 8192 \(a JSON number, not a string\)\. Correct it/ },
    { name: 'string-size', manifest: { ...CLIP_MANIFEST, vision: { ...CLIP_MANIFEST.vision, imageSize: '224' } }, expected: /: "vision.imageSize" must be a whole number from 16 to 1024 \(a JSON number, not a string\)/ },
    { name: 'bad-name', manifest: { ...CLIP_MANIFEST, name: 'Team CLIP' }, expected: /: "name" must be lowercase letters/ },
    { name: 'built-in-name', manifest: { ...CLIP_MANIFEST, name: 'clip-vit-b32' }, expected: /: "name" is "clip-vit-b32", which is a built-in model\. Choose another name/ },
    { name: 'unknown-key', manifest: { ...CLIP_MANIFEST, text: { ...CLIP_MANIFEST.text, context: 77 } }, expected: /: "text" has unknown keys "context"\. Remove them or check their spelling/ },
    { name: 'bad-mean', manifest: { ...CLIP_MANIFEST, vision: { ...CLIP_MANIFEST.vision, mean: [0.5, 0.5] } }, expected: /: "vision.mean" must be three numbers/ },
    { name: 'outside', manifest: { ...CLIP_MANIFEST, files: { ...files, tokenizer: '../team-clip/tokenizer.json' } }, expected: /: "files.tokenizer" is "\.\.\/team-clip\/tokenizer\.json", which is outside the model's folder\. Copy the file into the folder/ },
    { name: 'missing-file', manifest: { ...CLIP_MANIFEST, files: { ...files, visionModel: 'onnx/vision.onnx' } }, expected: /: "files.visionModel" names .*onnx\/vision\.onnx, which does not exist\. Put the file there/ },
    { name: 'wrong-output', manifest: { ...CLIP_MANIFEST, text: { ...CLIP_MANIFEST.text, outputName: 'pooler_output' } }, expected: /describes a model that does not run: .*the text graph has no output "pooler_output" \(it declares "text_embeds"\)[\s\S]*Correct findimage-model\.json/ },
    { name: 'wrong-dimension', manifest: { ...CLIP_MANIFEST, dimension: 768 }, expected: /does not run: .*expected \[1, 768\][\s\S]*Nothing was registered/ },
    { name: 'wrong-family', manifest: { ...CLIP_MANIFEST, family: 'siglip', text: undefined, vision: undefined }, expected: /does not run: .*has no end-of-text token with id 1|does not run: .*graph has no output "pooler_output"/ },
  ];
  it.each(cases)('$name', async ({ name, manifest, from, expected }) => {
    // Each case under its own name (unless the name is what is wrong), so "nothing registered" is checked per case.
    const named = typeof manifest === 'object' && manifest !== null && (manifest as { name?: string }).name === CLIP_MANIFEST.name ? { ...manifest, name: `bad-${name}` } : manifest;
    const dir = await modelFolder(`bad-${name}`, from ?? 'tiny-test', named);
    const error = await refusal(dir);
    expect(error.message).toMatch(expected);
    expect(loadRegisteredModels(config.dataDir).map((m) => m.id)).not.toContain(`bad-${name}`);
  });

  it('refuses a path that is not a folder', async () => {
    const error = await refusal(join(root, 'no-such-folder'));
    expect(error.message).toContain('is not a folder. Give the folder that holds findimage-model.json');
  });
});
