// ClipEmbedder's prompts: the configured templates by default, and a search's own templates
// in their place when it brings them ("none" is "{}": the words as typed).
import { describe, expect, it } from 'vitest';
import { ClipEmbedder } from './clip-embedder.js';
import type { EmbeddingRuntime } from './embedder.js';
import { normalizeClipQuery } from '../text/query-text.js';

describe('ClipEmbedder prompts', () => {
  const embedderSeeing = (prompts: string[]) => {
    const runtime: EmbeddingRuntime = {
      embedTokens: async () => Float32Array.from([1, 0]),
      embedPixels: async () => Float32Array.from([0, 1]),
      close: async () => {},
    };
    return new ClipEmbedder({
      modelId: 'm',
      dimension: 2,
      runtime,
      tokenizer: { encode: (text) => (prompts.push(text), new BigInt64Array(1)) },
      expandQuery: (query) => [`a photo of ${query}`],
      normalizeQuery: normalizeClipQuery,
    });
  };

  it('wraps the query in the configured templates, or in the ones the search brings', async () => {
    const prompts: string[] = [];
    const embedder = embedderSeeing(prompts);
    await embedder.embedQuery('red car');
    await embedder.embedQuery('red car', { templates: ['{}'] });
    await embedder.embedQuery('red car', { templates: ['a sketch of {}'] });
    expect(prompts).toEqual(['a photo of red car', 'red car', 'a sketch of red car']);
  });
});
