// Resident memory of this process, from the kernel's own accounting. Worker threads share the
// process, so VmRSS and its high-water mark VmHWM cover the main thread, every embedding worker
// and native memory (ONNX Runtime sessions, sharp, SQLite).
import { readFileSync, writeFileSync } from 'node:fs';

/** One reading, in MiB. */
export interface ResidentMemory {
  /** Resident set size now. */
  rssMiB: number;
  /** Highest resident set size since the process started or since resetPeak(). */
  peakMiB: number;
}

const KIB_PER_MIB = 1024;

function statusField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) return Number.NaN;
  return Number(match[1]) / KIB_PER_MIB;
}

/** Reads VmRSS and VmHWM from /proc (Linux); falls back to process.memoryUsage() elsewhere. */
export function readResidentMemory(): ResidentMemory {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return { rssMiB: statusField(status, 'VmRSS'), peakMiB: statusField(status, 'VmHWM') };
  } catch {
    const rss = process.memoryUsage.rss() / (KIB_PER_MIB * KIB_PER_MIB);
    return { rssMiB: rss, peakMiB: Number.NaN };
  }
}

/**
 * Resets the kernel's high-water mark to the current RSS (writing 5 to clear_refs, Linux 4.0+),
 * so that the next reading's peak covers only what follows. Returns false where that is not
 * possible; peaks then cover the whole run.
 */
export function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}
