import { describe, expect, it } from 'vitest';
import { dot, normalize } from './vector-math.js';

describe('vector math', () => {
  it('scales a vector to unit length', () => {
    expect([...normalize(new Float32Array([3, 4]))]).toEqual([0.6000000238418579, 0.800000011920929]);
  });
  it('leaves a zero vector at zero instead of dividing by zero', () => {
    expect([...normalize(new Float32Array([0, 0]))]).toEqual([0, 0]);
  });
  it('computes the dot product', () => {
    expect(dot(new Float32Array([1, 2, 3]), new Float32Array([4, -5, 6]))).toBe(12);
  });
});
