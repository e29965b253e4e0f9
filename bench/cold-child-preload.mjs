// Loaded with `node --import` into each findimage process the cold-search bench spawns
// (bench/cold-search.ts). It changes nothing the CLI does; it only:
// - registers the bench's random ViT-B/32-shaped model under its own id, by adding its spec to the
//   build's model registry (the CLI could not load it otherwise: its files cannot match the real
//   model's pinned sha256; the bench's other runs pass the same spec to openFindimage);
// - writes the process's peak resident memory (VmHWM: the main thread, every worker thread and
//   native memory) and the CPU time it used (every thread) to a file as the process exits, after
//   the workers have been stopped.
// Plain JavaScript, so that it loads into the compiled CLI of any build, this one or an older one.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

// Worker threads inherit --import; only the main thread reads the registry and exits the process.
const spec = process.env.COLD_BENCH_MODEL_SPEC;
const registryUrl = process.env.COLD_BENCH_REGISTRY;
if (isMainThread && spec !== undefined && registryUrl !== undefined) {
  const { MODEL_REGISTRY } = await import(registryUrl);
  if (!Array.isArray(MODEL_REGISTRY)) {
    throw new Error(`${registryUrl} exports no MODEL_REGISTRY array to add the bench model to.`);
  }
  MODEL_REGISTRY.push(JSON.parse(spec));
}

const peakFile = process.env.COLD_BENCH_PEAK_FILE;
if (isMainThread && peakFile !== undefined) {
  process.on('exit', () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
    const cpu = process.cpuUsage();
    writeFileSync(peakFile, `${JSON.stringify({ peakKiB: kib, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  });
}
