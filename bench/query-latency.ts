// Text query latency as a user waiting on a search sees it: embed the query and search the
// store through SearchService.searchText, one query at a time, timed end to end.
import type { Embedder } from '../src/core/embedding/embedder.js';
import type { SearchService } from '../src/core/search/search-service.js';
import type { VectorStore } from '../src/core/store/vector-store.js';
import { seededRandom } from './jpeg-corpus.js';
import { summarizeLatencies, type LatencySummary } from './latency-summary.js';
import { randomUnitVector } from './vector-fill.js';

/** Things people type when looking for a picture someone shared. */
const QUERIES = [
  'a dog on the beach',
  'whiteboard with the architecture diagram',
  'screenshot of the error message',
  'team lunch at the pizza place',
  'red car parked in front of the office',
  'sunset over the mountains',
  'the new logo draft in blue',
  'cat sleeping on a keyboard',
  'birthday cake with candles',
  'chart of monthly revenue',
  'people at the conference booth',
  'a receipt from the hotel',
  'snow on the parking lot',
  'meme about deploying on friday',
  'floor plan of the new office',
  'close-up of a broken laptop screen',
  'group photo at the offsite',
  'handwritten notes from the meeting',
  'a bicycle leaning against a wall',
  'coffee cup next to a notebook',
  'mockup of the mobile app login screen',
  'fireworks over the river',
  'kids playing football in the park',
  'slide with the quarterly roadmap',
  '猫の写真',
  'pizza 🍕 party',
] as const;

export interface QueryLatencyOptions {
  search: SearchService;
  tenant: string;
  /** Timed queries. */
  queries: number;
  /** Untimed queries first, so that lazily built state (first batches, caches) is not counted. */
  warmup: number;
  /** Results per query: a Slack carousel's 10. */
  limit: number;
  /**
   * Mean pause between queries, ms, drawn from an exponential distribution (seeded), as
   * people's searches arrive; 0 (the default) sends the next query as soon as one answers.
   */
  gapMs?: number;
}

/** One timing per query, ms, and their summary; also how many hits the last query returned. */
export interface QueryLatencyResult {
  samples: number[];
  summary: LatencySummary;
  lastHitCount: number;
}

export async function measureQueryLatency(options: QueryLatencyOptions): Promise<QueryLatencyResult> {
  const samples: number[] = [];
  let lastHitCount = 0;
  const gapMs = options.gapMs ?? 0;
  const random = seededRandom(11);
  for (let i = 0; i < options.warmup + options.queries; i++) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, -Math.log(1 - random()) * gapMs));
    const text = QUERIES[i % QUERIES.length] as string;
    const started = performance.now();
    const results = await options.search.searchText({ text, scope: { tenant: options.tenant }, limit: options.limit });
    const elapsed = performance.now() - started;
    lastHitCount = results.hits.length;
    if (i >= options.warmup) samples.push(elapsed);
  }
  return { samples, summary: summarizeLatencies(samples), lastHitCount };
}

/** The two halves of a query timed apart, to say where the time goes. */
export interface LatencyBreakdown {
  /** embedder.embedQuery alone (tokenize, text tower, average): ms. */
  embed: LatencySummary;
  /** store.query alone with a ready vector (top 10 within the tenant): ms. */
  storeQuery: LatencySummary;
}

export interface LatencyBreakdownOptions {
  embedder: Embedder;
  store: VectorStore;
  tenant: string;
  /** Timed calls of each kind. */
  samples: number;
  limit: number;
}

export async function measureLatencyBreakdown(options: LatencyBreakdownOptions): Promise<LatencyBreakdown> {
  const embed: number[] = [];
  const storeQuery: number[] = [];
  const random = seededRandom(7);
  // One untimed call of each first, like the warm-up of the full series.
  for (let i = -1; i < options.samples; i++) {
    const text = QUERIES[(i + QUERIES.length) % QUERIES.length] as string;
    let started = performance.now();
    await options.embedder.embedQuery(text, { lane: 'interactive' });
    if (i >= 0) embed.push(performance.now() - started);
    const vector = randomUnitVector(options.store.dimension, random);
    started = performance.now();
    await options.store.query(vector, { filter: { tenant: options.tenant }, limit: options.limit });
    if (i >= 0) storeQuery.push(performance.now() - started);
  }
  return { embed: summarizeLatencies(embed), storeQuery: summarizeLatencies(storeQuery) };
}
