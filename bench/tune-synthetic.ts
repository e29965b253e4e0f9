// How fast `findimage tune`'s trainer is at a real model's size, and what it lifts when there is
// something to learn: captions that are a random rotation of their images plus noise (the unit
// tests' data, at d = 512), and the same with captions unrelated to their images. Prints one
// JSON line per case. Run: node --import tsx bench/tune-synthetic.ts [images] [dimension]
import { distortedCaptions } from '../src/core/testing/distorted-captions.js';
import { tuneAdapter } from '../src/core/tuning/adapter-tuning.js';

const [images = '2000', dimension = '512'] = process.argv.slice(2);
for (const structure of [true, false]) {
  const source = distortedCaptions({ dimension: Number(dimension), images: Number(images), seed: 1, structure });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await tuneAdapter([source], { modelId: 'synthetic', dimension: Number(dimension), holdout: 0.2, seed: 12, ks: [1, 5, 10] });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU seconds as well as wall: on a shared machine the wall time says more about the load.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const pick = (which: 'plain' | 'adapted') => Object.fromEntries((report.sources[0]?.[which] ?? []).map((m) => [m.name, Number(m.estimate.value.toFixed(3))]));
  process.stdout.write(
    `${JSON.stringify({
      captions: structure ? 'rotated images + noise' : 'unrelated to images',
      images: Number(images),
      dimension: Number(dimension),
      seconds: Number(seconds.toFixed(1)),
      cpuSeconds: Number(cpuSeconds.toFixed(1)),
      epochs: report.training.epochs.length,
      bestEpoch: report.training.bestEpoch,
      plain: pick('plain'),
      adapted: pick('adapted'),
      ndcgChange: report.ndcgChange,
      helps: report.helps,
    })}\n`,
  );
}
