// The figures of one bench run: the JSON written to .bench/results.json and the table printed
// for people, with each goal of issue 2 checked against numbers measured in the same run.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BulkLoadReport } from './bulk-load.js';
import type { ThroughputResult } from './index-throughput.js';
import type { LatencySummary } from './latency-summary.js';
import type { LatencyBreakdown } from './query-latency.js';
import type { MachineInfo } from './machine-info.js';
import type { ResidentMemory } from './resident-memory.js';

/** Issue 2's goals on the 2-core reference machine. */
export const GOALS = {
  /** Text query p50, ms. */
  p50Ms: 60,
  /** Text query p99, ms. */
  p99Ms: 150,
  /** p99 while a bulk index runs, as a multiple of idle p99. */
  loadedP99Ratio: 2,
  /** End-to-end indexing images/s as a fraction of model-only images/s. */
  throughputRatio: 0.9,
} as const;

/** Query latency at one store size, idle and under a bulk index, measured back to back. */
export interface LatencyAtSize {
  /** Points in the store when the idle series ran. */
  storedVectors: number;
  /** Time to fill the store up to this size through store.upsert, ms. */
  fillMs: number;
  idle: LatencySummary;
  loaded: LatencySummary;
  /** What the background index did during the loaded series. */
  load: BulkLoadReport;
  /** loaded.p99 / idle.p99. */
  p99Ratio: number;
  /** loaded.p50 / idle.p50. */
  p50Ratio: number;
  /** Embedding and store query timed apart, idle. */
  breakdown: LatencyBreakdown;
  /** Cores' worth of CPU other processes used during each kept series (0 on a quiet machine). */
  otherProcessesCores: { idle: number; loaded: number };
  /** Attempts made for each series (the quietest was kept). */
  attempts: { idle: number; loaded: number };
}

export interface BenchResults {
  /** ISO time the run started. */
  startedAt: string;
  /** The command as typed. */
  command: string;
  machine: MachineInfo;
  /** The model and the config settings that shape performance. */
  setup: {
    model: string;
    modelDir: string;
    developmentOnly: boolean;
    workers: number;
    searchWorkers: number;
    maxBatch: string;
    batchWaitMs: number;
    device: string;
    promptTemplates: string[];
  };
  latency: LatencyAtSize[];
  /** otherProcessesCores: CPU other processes used during the throughput rounds. */
  throughput: ThroughputResult & { otherProcessesCores: number; attempts: number };
  memory: {
    /** Before openFindimage (the bench's own modules loaded, no photos yet). */
    beforeOpen: ResidentMemory;
    /** After openFindimage and one run of each tower. */
    towersLoaded: ResidentMemory;
    /** After the largest fill. */
    afterLargestFill: ResidentMemory;
    /** At the end of the run; peakMiB is the whole run's high-water mark since before open. */
    end: ResidentMemory;
    /** Whether the kernel's peak was reset before open (else peaks include the photo generation). */
    peakResetBeforeOpen: boolean;
  };
  /** CPU other processes used over the whole run, in cores. */
  otherProcessesCores: number;
  /** Wall time of the whole run, s. */
  durationSeconds: number;
}

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}

const ms = (n: number) => n.toFixed(1).padStart(7);
const count = (n: number) => n.toLocaleString('en-US');
const mib = (m: ResidentMemory) => `${m.rssMiB.toFixed(0)} MiB now, ${m.peakMiB.toFixed(0)} MiB peak`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const cores = (n: number) => `${n.toFixed(2)} cores`;

/** The table and goal checks, as lines of text. */
export function formatResults(r: BenchResults): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`findimage bench, ${r.startedAt}`);
  lines.push(`Command: ${r.command}`);
  lines.push(`Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, load ${m.loadAverageAtStart} at start`);
  lines.push(
    `Model: ${r.setup.model} from ${r.setup.modelDir}${r.setup.developmentOnly ? ' (random weights)' : ''}; ` +
      `${r.setup.workers} worker(s) + ${r.setup.searchWorkers} search worker(s), max batch ${r.setup.maxBatch}, batch wait ${r.setup.batchWaitMs} ms, device ${r.setup.device}, ` +
      `${r.setup.promptTemplates.length} prompt template(s)`,
  );
  lines.push('');
  lines.push('Text query latency, embed + search (SearchService.searchText, top 10), ms');
  lines.push('  vectors   | while        |     p50 |     p99 |    mean |     max |   n | background index');
  for (const l of r.latency) {
    lines.push(`  ${count(l.storedVectors).padEnd(9)} | idle         | ${ms(l.idle.p50)} | ${ms(l.idle.p99)} | ${ms(l.idle.mean)} | ${ms(l.idle.max)} | ${String(l.idle.count).padStart(3)} | (others used ${cores(l.otherProcessesCores.idle)}, quietest of ${l.attempts.idle})`);
    lines.push(
      `  ${''.padEnd(9)} | bulk index   | ${ms(l.loaded.p50)} | ${ms(l.loaded.p99)} | ${ms(l.loaded.mean)} | ${ms(l.loaded.max)} | ${String(l.loaded.count).padStart(3)} | ` +
        `${l.load.indexed} images, ${l.load.imagesPerSecond.toFixed(2)}/s (others used ${cores(l.otherProcessesCores.loaded)}, quietest of ${l.attempts.loaded})`,
    );
    lines.push(`  ${''.padEnd(9)} | loaded/idle  | ${l.p50Ratio.toFixed(2).padStart(7)} | ${l.p99Ratio.toFixed(2).padStart(7)} |`);
    const b = l.breakdown;
    lines.push(`  ${''.padEnd(9)} | embed only   | ${ms(b.embed.p50)} | ${ms(b.embed.p99)} | ${ms(b.embed.mean)} | ${ms(b.embed.max)} | ${String(b.embed.count).padStart(3)} |`);
    lines.push(`  ${''.padEnd(9)} | store only   | ${ms(b.storeQuery.p50)} | ${ms(b.storeQuery.p99)} | ${ms(b.storeQuery.mean)} | ${ms(b.storeQuery.max)} | ${String(b.storeQuery.count).padStart(3)} |`);
  }
  const t = r.throughput;
  lines.push('');
  lines.push('Indexing throughput, 12 MP JPEGs');
  lines.push(`  end to end (findimage index):      ${t.endToEnd.imagesPerSecond.toFixed(2)} images/s (${t.endToEnd.images} in ${t.endToEnd.seconds.toFixed(1)} s)`);
  lines.push(`  model only (preprocessed tensors): ${t.modelOnly.imagesPerSecond.toFixed(2)} images/s (${t.modelOnly.images} in ${t.modelOnly.seconds.toFixed(1)} s)`);
  lines.push(`  decode + preprocess only:          ${t.preprocessOnly.imagesPerSecond.toFixed(2)} images/s (${t.preprocessOnly.images} in ${t.preprocessOnly.seconds.toFixed(1)} s)`);
  lines.push(`  ratio end to end / model only:     ${t.ratio.toFixed(2)}`);
  lines.push(`  ceiling if decode and model share every core: ${t.sharedCoreCeiling.toFixed(2)}`);
  lines.push(`  other processes used ${cores(t.otherProcessesCores)} during these rounds (quietest of ${t.attempts} attempt(s))`);
  lines.push('');
  lines.push('Resident memory (whole process: main thread, embedding workers, native memory)');
  lines.push(`  before open:          ${mib(r.memory.beforeOpen)}`);
  lines.push(`  both towers loaded:   ${mib(r.memory.towersLoaded)} (+${(r.memory.towersLoaded.rssMiB - r.memory.beforeOpen.rssMiB).toFixed(0)} MiB over before open)`);
  lines.push(`  after largest fill:   ${mib(r.memory.afterLargestFill)}`);
  lines.push(`  end of run:           ${mib(r.memory.end)}`);
  lines.push('');
  lines.push('Goals (issue 2, 2-core machine)');
  for (const l of r.latency) {
    const at = `${count(l.storedVectors)} vectors`;
    lines.push(`  p50 <= ${GOALS.p50Ms} ms idle, ${at}: ${l.idle.p50.toFixed(1)} ms, ${verdict(l.idle.p50 <= GOALS.p50Ms)}`);
    lines.push(`  p99 <= ${GOALS.p99Ms} ms idle, ${at}: ${l.idle.p99.toFixed(1)} ms, ${verdict(l.idle.p99 <= GOALS.p99Ms)}`);
    lines.push(`  p99 loaded <= ${GOALS.loadedP99Ratio}x idle, ${at}: ${l.p99Ratio.toFixed(2)}x, ${verdict(l.p99Ratio <= GOALS.loadedP99Ratio)}`);
  }
  lines.push(`  throughput ratio >= ${GOALS.throughputRatio}: ${t.ratio.toFixed(2)}, ${verdict(t.ratio >= GOALS.throughputRatio)}`);
  lines.push('');
  lines.push(`Done in ${r.durationSeconds.toFixed(0)} s; other processes used ${cores(r.otherProcessesCores)} on average meanwhile.`);
  return lines.join('\n');
}
