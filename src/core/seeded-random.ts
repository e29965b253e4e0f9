// One seeded generator for everything in findimage that must be repeatable: the bootstrap's
// resampling, the partition index's k-means sample (a rebuild trains the same centroids from the
// same rows), and the generated data of tests and benchmarks.

/** A small, fast, seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
