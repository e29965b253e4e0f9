// What `npm run bench` measures and how much of it: the full run (ViT-B/32-shaped model, 10k and
// 100k vectors) or --quick (tiny test model, 1k vectors, under a minute), with overrides.
import { parseArgs } from 'node:util';

/** Which model the bench loads. */
export type BenchModel =
  /** Random weights with ViT-B/32's shape, cost and I/O (built by build-vit-b32-model.py). */
  | 'vit-b32-random'
  /** The committed width-8 test model: fast, for a smoke run. */
  | 'tiny-test'
  /** vit-b32-random with int8 weights (scripts/quantize-bench-model.py): what clip-vit-b32-q8 costs. */
  | 'vit-b32-random-q8'
  /** tiny-test with int8 weights (bundled): a smoke run of a quantized variant. */
  | 'tiny-test-q8';

/** Every --model value, in the order --help lists them. */
const BENCH_MODELS: readonly BenchModel[] = ['vit-b32-random', 'tiny-test', 'vit-b32-random-q8', 'tiny-test-q8'];

export interface BenchOptions {
  quick: boolean;
  model: BenchModel;
  /** Store sizes at which query latency is measured, ascending. */
  storeSizes: number[];
  /** Timed queries per series. */
  queries: number;
  /** Untimed queries before each series. */
  warmupQueries: number;
  /** Distinct 12 MP photos generated and indexed. */
  photos: number;
  /** Throughput rounds (end to end, then model only, alternating). */
  rounds: number;
  /** Model-only tensors per round, as multiples of the photo count. */
  modelCopies: number;
  /** Where the JSON figures go. */
  resultsPath: string;
  /** Keep the bench's data folder (the filled store) instead of deleting it. */
  keepData: boolean;
  /** Tries per series when other processes take CPU; the quietest is kept. */
  attempts: number;
  /** A series counts as quiet when other processes used at most this many cores meanwhile. */
  maxOtherCores: number;
  /** Afterwards, run the companion benches (store scan, pool throughput, Qdrant adapter, Slack search). */
  all: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]
  --quick             smoke run: tiny-test model, 1k vectors, 4 photos (under a minute)
  --model NAME        vit-b32-random (default), tiny-test, or their int8 variants
                      vit-b32-random-q8 (scripts/quantize-bench-model.py builds it) and tiny-test-q8
  --sizes N,N         store sizes for query latency (default 10000,100000)
  --queries N         timed queries per series (default 200)
  --photos N          12 MP JPEGs to index (default 24)
  --rounds N          throughput rounds (default 2)
  --out PATH          results JSON (default .bench/results.json)
  --attempts N        tries per series while other processes take CPU (default 3, quick 1)
  --max-others C      a series is quiet when others used at most C cores (default 0.25)
  --keep-data         keep the filled store under .bench/data
  --all               then run bench/store-scan.ts, pool-throughput.ts, qdrant-adapter.ts and
                      slack-search.ts (Slack search before and after issue 7)
  --help              this text`;

function positiveInt(name: string, value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
  return n;
}

function nonNegative(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number of cores, 0 or more, not "${value}"`);
  return n;
}

/** Parses argv (without node and the script); throws with a message naming the bad option. */
export function parseBenchOptions(argv: readonly string[], defaultResultsPath: string): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      model: { type: 'string' },
      sizes: { type: 'string' },
      queries: { type: 'string' },
      photos: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      attempts: { type: 'string' },
      'max-others': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const model = values.model ?? (quick ? 'tiny-test' : 'vit-b32-random');
  if (!(BENCH_MODELS as readonly string[]).includes(model)) {
    throw new Error(`--model must be one of ${BENCH_MODELS.join(', ')}, not "${model}"`);
  }
  const storeSizes = (values.sizes ?? (quick ? '1000' : '10000,100000'))
    .split(',')
    .map((s) => positiveInt('sizes', s.trim()))
    .sort((a, b) => a - b);
  const queries = values.queries === undefined ? (quick ? 50 : 200) : positiveInt('queries', values.queries);
  return {
    quick,
    model: model as BenchModel,
    storeSizes,
    queries,
    warmupQueries: Math.max(5, Math.round(queries / 20)),
    photos: values.photos === undefined ? (quick ? 4 : 24) : positiveInt('photos', values.photos),
    rounds: values.rounds === undefined ? (quick ? 1 : 2) : positiveInt('rounds', values.rounds),
    modelCopies: 2,
    resultsPath: values.out ?? defaultResultsPath,
    keepData: values['keep-data'],
    attempts: values.attempts === undefined ? (quick ? 1 : 3) : positiveInt('attempts', values.attempts),
    maxOtherCores: values['max-others'] === undefined ? 0.25 : nonNegative('max-others', values['max-others']),
    all: values.all,
  };
}
