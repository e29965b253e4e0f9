// The adapter file: what is written is read back bit for bit, and anything damaged, of another
// format, or made for another model is refused with a message that says what to do.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { checkAdapterFits, decodeAdapterFile, encodeAdapterFile, weightsSha256 } from './adapter-file.js';
import { QueryAdapter } from './query-adapter.js';

function someAdapter(d = 6): QueryAdapter {
  const weights = Float32Array.from({ length: d * d }, (_, i) => Math.sin(i * 1.7) / 3 + (i % (d + 1) === 0 ? 1 : 0));
  return new QueryAdapter({ modelId: 'clip-vit-b32', dimension: d, weights });
}

describe('the adapter file', () => {
  it('round-trips the weights exactly, with the model, dimension, sha256 and training notes', () => {
    const adapter = someAdapter();
    const text = encodeAdapterFile(adapter, { sources: ['dataset x'], heldOutQuestions: 12 });
    const read = decodeAdapterFile(text, 'a.json');
    expect(read.adapter.modelId).toBe('clip-vit-b32');
    expect(read.adapter.dimension).toBe(6);
    expect(Buffer.from(read.adapter.weights.buffer)).toEqual(Buffer.from(adapter.weights.buffer));
    expect(read.sha256).toBe(weightsSha256(adapter.weights));
    expect(read.training).toEqual({ sources: ['dataset x'], heldOutQuestions: 12 });
    expect(JSON.parse(text)).toMatchObject({ format: 'findimage-query-adapter', version: 1, encoding: 'float32-le-row-major-base64', sha256: read.sha256 });
  });

  it('refuses weights that do not match their sha256', () => {
    const file = JSON.parse(encodeAdapterFile(someAdapter(), {})) as { weights: string };
    const bytes = Buffer.from(file.weights, 'base64');
    bytes[5] = (bytes[5] as number) ^ 1;
    file.weights = bytes.toString('base64');
    expect(() => decodeAdapterFile(JSON.stringify(file), 'a.json')).toThrow(/a.json is not a usable findimage query adapter: its weights do not match their sha256/);
  });

  it.each([
    ['not JSON', 'hello', /it is not JSON/],
    ['another format', JSON.stringify({ format: 'onnx' }), /"format" is not "findimage-query-adapter"/],
    ['a later version', JSON.stringify({ format: 'findimage-query-adapter', version: 2 }), /version 2/],
  ])('refuses %s', (_, text, message) => {
    expect(() => decodeAdapterFile(text, 'b.json')).toThrow(message);
    expect(() => decodeAdapterFile(text, 'b.json')).toThrow(ConfigError);
  });

  it('refuses weights of the wrong length for the dimension it states', () => {
    const file = JSON.parse(encodeAdapterFile(someAdapter(), {})) as { dimension: number };
    file.dimension = 5;
    expect(() => decodeAdapterFile(JSON.stringify(file), 'c.json')).toThrow(/its weights hold 144 bytes, and a 5 x 5 adapter needs 100/);
  });

  it('refuses an adapter made for another model, naming both models and what to do', () => {
    const adapter = someAdapter();
    expect(() => checkAdapterFits(adapter, { id: 'siglip-b16-224', dimension: 6 }, 'team.json')).toThrow(
      'The query adapter team.json was made for the model clip-vit-b32, but findimage runs siglip-b16-224. Run `findimage tune` with FINDIMAGE_MODEL=siglip-b16-224 to make one for it, or unset FINDIMAGE_ADAPTER.',
    );
    expect(() => checkAdapterFits(adapter, { id: 'clip-vit-b32', dimension: 512 }, 'team.json')).toThrow(/takes 6-float vectors, but clip-vit-b32 makes 512-float ones/);
    expect(() => checkAdapterFits(adapter, { id: 'clip-vit-b32', dimension: 6 }, 'team.json')).not.toThrow();
  });
});
