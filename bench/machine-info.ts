// The machine a bench ran on, printed and stored with every result: figures without it mean little.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** Where and how a bench run happened. */
export interface MachineInfo {
  /** CPU model name from /proc/cpuinfo (or os.cpus()). */
  cpuModel: string;
  /** Cores the process may use. */
  cores: number;
  /** Physical memory, GiB. */
  memoryGiB: number;
  /** process.version. */
  node: string;
  /** Kernel and architecture. */
  platform: string;
  /** 1-minute load average when the run started: other work on a shared machine skews figures. */
  loadAverageAtStart: number;
}

function cpuModelName(): string {
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const match = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
    if (match?.[1] !== undefined) return match[1].trim();
  } catch {
    // Not Linux: os.cpus() below.
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function describeMachine(): MachineInfo {
  return {
    cpuModel: cpuModelName(),
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
