// FINDIMAGE_MODEL names a precision variant either way the docs spell it: "clip-vit-b32:fp16" is
// the id "clip-vit-b32-fp16" (ids name store files and Qdrant collections, where ":" is not
// allowed), and a bare name stays the fp32 model.
import { describe, expect, it } from 'vitest';
import { ConfigError } from './core/errors.js';
import { loadConfig } from './config.js';

describe('FINDIMAGE_MODEL with a precision', () => {
  it('reads model:fp16 and model:q8 as the variants\' ids', () => {
    expect(loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32:fp16' }).model).toBe('clip-vit-b32-fp16');
    expect(loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32:q8' }).model).toBe('clip-vit-b32-q8');
    expect(loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32-fp16' }).model).toBe('clip-vit-b32-fp16');
  });

  it('keeps a bare name as it is: the fp32 model, on any device', () => {
    expect(loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32', FINDIMAGE_DEVICE: 'cpu' }).model).toBe('clip-vit-b32');
    expect(loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32', FINDIMAGE_DEVICE: 'cuda' }).model).toBe('clip-vit-b32');
    expect(loadConfig({}).model).toBe('clip-vit-b32');
  });

  it('refuses a precision findimage has no variant kind for, naming the setting', () => {
    expect(() => loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32:int4' })).toThrow(ConfigError);
    expect(() => loadConfig({ FINDIMAGE_MODEL: 'clip-vit-b32:int4' })).toThrow(/FINDIMAGE_MODEL/);
  });
});
