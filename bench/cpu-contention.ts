// How much CPU other processes took while a series ran. On a shared 2-core machine the bench's
// figures are only as good as the quiet around them, so every series reports this beside its
// numbers: the machine's busy time (/proc/stat) minus this process's own (all its threads).
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc/stat (USER_HZ, 100 on every mainstream Linux). */
const USER_HZ = 100;

/** A reading to diff against later. */
export interface CpuSnapshot {
  /** Seconds all CPUs spent busy (user, nice, system, irq, softirq); NaN off Linux. */
  machineBusy: number;
  /** Seconds this process spent on CPU, all threads. */
  own: number;
  /** Monotonic clock, seconds. */
  at: number;
}

function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [, user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  return { machineBusy: machineBusySeconds(), own: (usage.user + usage.system) / 1e6, at: performance.now() / 1000 };
}

/** Cores' worth of CPU that other processes used on average since `since` (0 = a quiet machine). */
export function otherProcessesCores(since: CpuSnapshot): number {
  const now = cpuSnapshot();
  const elapsed = now.at - since.at;
  if (!(elapsed > 0)) return Number.NaN;
  const others = now.machineBusy - since.machineBusy - (now.own - since.own);
  // Tick rounding can make a quiet machine read a hair below zero.
  return Math.round(Math.max(0, others / elapsed) * 100) / 100;
}

/** A measurement and how much CPU others took while it ran. */
export interface Contended<T> {
  result: T;
  /** Cores' worth of CPU other processes used during the kept attempt. */
  otherProcessesCores: number;
  /** Attempts made (1 when the first was quiet enough). */
  attempts: number;
}

/**
 * Runs `measure` until other processes used at most `maxOtherCores` during it, or `attempts` times,
 * and keeps the quietest attempt. On a machine other people share, a series that ran beside
 * someone's test suite says more about the suite than about findimage.
 */
export async function quietestOf<T>(
  attempts: number,
  maxOtherCores: number,
  measure: () => Promise<T>,
): Promise<Contended<T>> {
  let best: Contended<T> | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const since = cpuSnapshot();
    const result = await measure();
    const others = otherProcessesCores(since);
    // Off Linux nothing is known about others: keep the first attempt.
    if (Number.isNaN(others)) return { result, otherProcessesCores: others, attempts: attempt };
    if (best === undefined || others < best.otherProcessesCores) best = { result, otherProcessesCores: others, attempts: attempt };
    best.attempts = attempt;
    if (others <= maxOtherCores) break;
  }
  return best as Contended<T>;
}
