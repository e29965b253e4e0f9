// The points the kill -9 durability test writes: each one is a pure function of its number, so
// the test can recompute exactly what a killed writer acknowledged and compare bit for bit.
import type { PointInput } from '../vector-store.js';

/** Point number `n` of `dimension`, with a unit vector no other number shares. */
export function durabilityPoint(n: number, dimension: number): PointInput {
  const vector = new Float32Array(dimension);
  let sum = 0;
  for (let j = 0; j < dimension; j++) {
    const x = Math.sin(n * 0.7 + j * 1.3 + 0.1);
    vector[j] = x;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  for (let j = 0; j < dimension; j++) vector[j] = (vector[j] as number) / norm;
  return {
    id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    vector,
    payload: {
      tenant: 'durability',
      source: 'local',
      filename: `${n}.png`,
      contentHash: n.toString(16).padStart(64, '0'),
      modelId: 'durability-test',
      createdAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
      width: 1,
      height: 1,
      shares: [],
    },
  };
}

/** The number a durabilityPoint id encodes. */
export function durabilityNumberOf(id: string): number {
  return Number.parseInt(id.slice(-12), 16);
}
