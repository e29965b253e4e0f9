#!/usr/bin/env node
// The findimage command. `npm run build` bundles the TypeScript sources into dist/
// (scripts/build-cli.mjs; npm ci runs it through the prepare script): this loads the bundle's
// entry, which loads the chunks a command uses.

// sharp decodes and resizes images on libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE
// says otherwise: with the model on a GPU, a machine's other cores would sit idle while images
// decode on 4. One thread per core (at least libuv's 4), set before anything uses the pool (libuv
// reads the variable when it starts its threads); a value the user set is kept.
const { availableParallelism } = await import('node:os');
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));

// Stack traces name the src/ files and lines (the bundle's linked source maps); turned on before
// the bundle loads, since Node reads a module's map as it loads it.
process.setSourceMapsEnabled(true);
// Node keeps the bundle's compiled code on disk (in the OS temporary folder, or NODE_COMPILE_CACHE)
// so a later start skips parsing and compiling it: tens of milliseconds of every one-shot command.
// Node 22.1 and later; a Node without it simply compiles as before.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// A search starts its embedding thread now, so the thread's boot and onnxruntime-node's import
// overlap the loading of the bundle below; the pool adopts it (src/gpu-worker/early-worker.ts).
const { startEarlyWorker, stopUnadoptedEarlyWorker } = await import('../dist/early-worker.js');
startEarlyWorker(new URL('../dist/embedding-worker.js', import.meta.url), process.argv.slice(2));
const { exitQuietlyWhenOutputCloses, main } = await import('../dist/findimage.js');

// `findimage ... | head -1`: the reader leaving ends the process quietly, not with EPIPE's trace.
exitQuietlyWhenOutputCloses();
// ownsProcess: a command that may leave abandoned work behind (doctor) ends the process when done.
process.exitCode = await main(process.argv.slice(2), { ownsProcess: true });
// A search that failed before its pool took the early thread (a usage error) stops the thread
// before the process ends, rather than exiting while it still loads onnxruntime-node.
await stopUnadoptedEarlyWorker();
