// Turns ONNX Runtime's telemetry off before any worker thread creates the ONNX Runtime environment.
//
// onnxruntime-node 1.29 on Linux starts Microsoft's 1DS telemetry when the first session creates
// the process-wide OrtEnv. Collecting the "appId" field, it reads /proc/self/cmdline and matches
// it against the std::regex "(.*)[ ]*.*[\n]*"; libstdc++'s regex recurses three frames, about
// 290 bytes of stack, per character. A worker thread has a 4 MiB stack, so a command line over
// about 14,500 characters (`findimage search "<16,000 characters>"`) overflowed it: SIGSEGV,
// exit 139, before any query was tokenised. It was never the query: any long argument crashed, on
// the 8 MiB main thread from about 30,000 characters. ONNX Runtime skips telemetry when
// ORT_DISABLE_TELEMETRY=1 or when a CI variable (CI, GITHUB_ACTIONS, TF_BUILD, ...) is set, which
// is why CI=true hid the crash. A bigger thread stack only moves the limit; turning off the
// component that parses the command line removes it; and findimage, which indexes private
// images, has no reason to let a library collect usage data (its 1DS client uploads over HTTPS).

/** ONNX Runtime's own switch, read with getenv() when the first OrtEnv is created. */
export const ORT_DISABLE_TELEMETRY = 'ORT_DISABLE_TELEMETRY';

/**
 * Sets ORT_DISABLE_TELEMETRY=1 in the process environment. Call it on the main thread before the
 * first worker starts: only the main thread's process.env writes through to the C environment
 * that ONNX Runtime reads (a worker's process.env is a private copy), and the OrtEnv, created
 * once per process, reads it only once. A value set by the user is overridden, since "0" would
 * bring the crash back.
 */
export function disableOnnxTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env[ORT_DISABLE_TELEMETRY] = '1';
}
