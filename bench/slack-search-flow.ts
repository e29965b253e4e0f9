// One side of bench/slack-search.ts: drives the Slack end-to-end harness (the real Bolt App in
// Socket Mode against the fake Slack) through /findimage and Next, counts what reaches Slack and
// times command -> preview, and prints the figures as one JSON line. It imports nothing but Node
// and the harness named by FINDIMAGE_SLACK_HARNESS, so the same file runs against today's tree
// and, copied into a worktree of an older commit, against that commit's code.
// Run: node --import tsx bench/slack-search-flow.ts   (normally started by bench/slack-search.ts)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Images seeded into the public channel before any search. */
const SEEDED_IMAGES = 50;
/** Results on one page, in both the old and the new flow (PAGE_SIZE in core; 5 before it too). */
const RESULTS_PER_PAGE = 5;
/** Untimed searches before the timed series: the JIT, SQLite's cache and Bolt's sockets warm up. */
const WARMUP_SEARCHES = 5;
const SEQUENTIAL_SEARCHES = 50;
const CONCURRENT_SEARCHES = 20;
/** Longest wait for one page to reach the fake Slack before the bench gives up. */
const PAGE_TIMEOUT_MS = 60_000;
/**
 * After the counted search and its Next have arrived, calls still trickling in for this long are
 * counted too, so that a flow which keeps posting after the page shows is not undercounted.
 */
const STRAGGLER_WINDOW_MS = 500;
/** Printed before the JSON line so the parent can find it among any other output. */
export const RESULT_MARKER = 'SLACK_SEARCH_FLOW_RESULT ';

/** A Web API call as both versions of the fake Slack record it. */
interface FlowCall {
  method: string;
  args: Record<string, unknown>;
  reply?: unknown;
}

/** The part of SlackHarness this bench drives; the old (7cfdc30) and the new harness both have it. */
interface FlowHarness {
  api: { calls: FlowCall[]; responses: Record<string, unknown>[] };
  embedder: { know(text: string, vector: number[]): void };
  seed(colour: string, where: { channel: string; channelIsPublic: boolean }): Promise<string>;
  command(text: string, channel?: string, user?: string): Promise<unknown>;
  press(actionId: string, value: string | undefined, message: { channel: string; ts: string }, user?: string): Promise<unknown>;
  stop(): Promise<void>;
}

/** What the harness module exports that this bench uses. */
interface HarnessModule {
  SlackHarness: { start(): Promise<FlowHarness> };
  CHANNELS: { general: { id: string } };
  COLOURS: Record<string, unknown>;
}

/** Percentiles of one latency series, ms (nearest rank, as bench/latency-summary.ts). */
export interface FlowLatency {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/** Messages and calls one step (a search, or a Next) caused. */
export interface FlowCounts {
  /** chat.postMessage + chat.update: messages that appear in, or change in, the channel. */
  channelMessages: number;
  /** Bodies POSTed to a response_url (private to the person who searched). */
  responseUrlPosts: number;
  /** Every Web API call, by method. */
  callsByMethod: Record<string, number>;
  /** All Web API calls. */
  webApiCalls: number;
}

/** The figures one flow produced; printed as JSON after RESULT_MARKER. */
export interface FlowResult {
  /** Harness module the figures came from. */
  harness: string;
  seededImages: number;
  /** The first search after start (cold conversation cache), then Next on its result. */
  counts: { search: FlowCounts; next: FlowCounts; total: FlowCounts };
  /** Sequential searches: command sent -> first message showing the page reached the fake Slack. */
  sequentialPreview: FlowLatency;
  /** Sequential searches: command sent -> the last message of page 1 reached the fake Slack. */
  sequentialComplete: FlowLatency;
  /** The same, for searches sent all at once. */
  concurrentPreview: FlowLatency;
  concurrentComplete: FlowLatency;
  /** First command sent -> last concurrent search complete, ms. */
  concurrentWallMs: number;
}

function percentile(sorted: readonly number[], percent: number): number {
  const rank = Math.ceil((percent / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

function summarize(samples: readonly number[]): FlowLatency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) as number };
}

/** Where one search stands: when each page showed, and (old flow) its channel header and thread. */
interface SearchState {
  /** performance.now() when each page (1, then 2 after Next) first reached Slack. */
  shown: number[];
  /** The message that showed page 1 (a response_url body or chat.postMessage args): it holds Next. */
  firstPage?: Record<string, unknown>;
  /** Old flow: the header's chat.postMessage, whose reply has the ts its thread hangs from. */
  headerCall?: FlowCall;
  /** Old flow: arrival of each result posted in the header's thread. */
  threadTimes: number[];
}

/**
 * Watches what reaches the fake Slack, as it arrives: wraps the push of its `calls` and
 * `responses` arrays so each arrival is timed with performance.now() at the moment the fake
 * records it. A search is recognised by its query text, which every page message quotes.
 */
class FlowObserver {
  readonly calls: FlowCall[] = [];
  responses = 0;
  readonly #searches = new Map<string, SearchState>();
  readonly #waiters = new Set<() => void>();

  constructor(api: FlowHarness['api']) {
    const calls = api.calls;
    const pushCall = calls.push.bind(calls);
    calls.push = (...items: FlowCall[]) => {
      const length = pushCall(...items);
      for (const call of items) this.#onCall(call, performance.now());
      return length;
    };
    const responses = api.responses;
    const pushResponse = responses.push.bind(responses);
    responses.push = (...bodies: Record<string, unknown>[]) => {
      const length = pushResponse(...bodies);
      for (const body of bodies) this.#onResponse(body, performance.now());
      return length;
    };
  }

  /** Starts following a search for `text` (call before sending the command). */
  follow(text: string): SearchState {
    const state: SearchState = { shown: [], threadTimes: [] };
    this.#searches.set(text, state);
    return state;
  }

  /** Resolves when `pages` pages of the search have fully reached Slack. */
  async pagesDone(text: string, pages: number): Promise<SearchState> {
    const state = this.#searches.get(text);
    if (state === undefined) throw new Error(`not following "${text}"`);
    const done = () => state.shown.length >= pages && (state.headerCall === undefined || state.threadTimes.length >= pages * RESULTS_PER_PAGE);
    if (done()) return state;
    await new Promise<void>((resolveDone, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`page ${pages} of "${text}" did not reach Slack within ${PAGE_TIMEOUT_MS} ms`));
      }, PAGE_TIMEOUT_MS);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolveDone();
      };
      this.#waiters.add(check);
    });
    return state;
  }

  #searchQuoted(message: unknown): [string, SearchState] | undefined {
    const json = JSON.stringify(message);
    for (const entry of this.#searches) {
      if (json.includes(`“${entry[0]}”`)) return entry;
    }
    return undefined;
  }

  #pageShown(message: Record<string, unknown>, at: number, header?: FlowCall): void {
    const found = this.#searchQuoted(message);
    if (found === undefined) return;
    const [, state] = found;
    state.shown.push(at);
    if (state.firstPage === undefined) {
      state.firstPage = message;
      if (header !== undefined) state.headerCall = header;
    }
  }

  #onCall(call: FlowCall, at: number): void {
    this.calls.push(call);
    const threadTs = call.args.thread_ts;
    if (call.method === 'chat.postMessage' && threadTs !== undefined) {
      // A result in an old-flow thread; it quotes the query too, so it is matched by its thread.
      for (const state of this.#searches.values()) {
        if ((state.headerCall?.reply as { ts?: unknown } | undefined)?.ts === threadTs) state.threadTimes.push(at);
      }
    } else if (call.method === 'chat.postMessage') {
      this.#pageShown(call.args, at, call);
    } else if (call.method === 'chat.update') {
      this.#pageShown(call.args, at);
    }
    this.#wake();
  }

  #onResponse(body: Record<string, unknown>, at: number): void {
    this.responses++;
    this.#pageShown(body, at);
    this.#wake();
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }
}

/** The Next button in a page message (a carousel header or a private preview), wherever it sits. */
function nextButton(message: unknown): { action_id: string; value?: string } | undefined {
  if (Array.isArray(message)) {
    for (const item of message) {
      const found = nextButton(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const record = message as { action_id?: unknown; value?: unknown; text?: { text?: unknown } };
  if (typeof record.action_id === 'string' && record.text?.text === 'Next') {
    return { action_id: record.action_id, ...(typeof record.value === 'string' ? { value: record.value } : {}) };
  }
  for (const value of Object.values(message)) {
    const found = nextButton(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

function countsBetween(observer: FlowObserver, from: { calls: number; responses: number }, to: { calls: number; responses: number }): FlowCounts {
  const calls = observer.calls.slice(from.calls, to.calls);
  const callsByMethod: Record<string, number> = {};
  for (const call of calls) callsByMethod[call.method] = (callsByMethod[call.method] ?? 0) + 1;
  return {
    channelMessages: (callsByMethod['chat.postMessage'] ?? 0) + (callsByMethod['chat.update'] ?? 0),
    responseUrlPosts: to.responses - from.responses,
    callsByMethod,
    webApiCalls: calls.length,
  };
}

async function main(): Promise<void> {
  const harnessPath = resolve(process.env.FINDIMAGE_SLACK_HARNESS ?? 'test/slack/slack-harness.ts');
  const harnessModule = (await import(pathToFileURL(harnessPath).href)) as HarnessModule;
  const channel = harnessModule.CHANNELS.general.id;
  const colours = Object.keys(harnessModule.COLOURS);
  const h = await harnessModule.SlackHarness.start();
  try {
    for (let n = 0; n < SEEDED_IMAGES; n++) {
      await h.seed(colours[n % colours.length] as string, { channel, channelIsPublic: true });
    }
    const observer = new FlowObserver(h.api);
    let searches = 0;
    /** A fresh query text the embedder knows, so every search is told apart by its text. */
    const newQuery = (): string => {
      searches++;
      const text = `search ${String(searches).padStart(3, '0')}`;
      // Directions vary from search to search so rankings do too; all of them are colours.
      h.embedder.know(text, [1, (searches % 7) / 7, (searches % 3) / 3, 0]);
      return text;
    };
    const mark = () => ({ calls: observer.calls.length, responses: observer.responses });
    /** Sends one search and resolves to [ms to preview, ms to the page complete]. */
    const timedSearch = async (user: string): Promise<[number, number, SearchState, string]> => {
      const text = newQuery();
      observer.follow(text);
      const sent = performance.now();
      const [, state] = await Promise.all([h.command(text, channel, user), observer.pagesDone(text, 1)]);
      const preview = (state.shown[0] as number) - sent;
      const complete = Math.max(state.shown[0] as number, ...state.threadTimes) - sent;
      return [preview, complete, state, text];
    };

    // The counted search: the first after start, then Next.
    const beforeSearch = mark();
    const [, , counted, countedText] = await timedSearch('U1');
    const afterSearch = mark();
    const next = nextButton(counted.firstPage);
    if (next === undefined) throw new Error('the first page has no Next button (fewer results than two pages?)');
    const headerTs = (counted.headerCall?.reply as { ts?: unknown } | undefined)?.ts;
    await h.press(next.action_id, next.value, { channel, ts: typeof headerTs === 'string' ? headerTs : '1770000000.000001' }, 'U1');
    await observer.pagesDone(countedText, 2);
    await new Promise((resolveWait) => setTimeout(resolveWait, STRAGGLER_WINDOW_MS));
    const afterNext = mark();

    for (let i = 0; i < WARMUP_SEARCHES; i++) await timedSearch('U1');

    const sequential: [number, number][] = [];
    for (let i = 0; i < SEQUENTIAL_SEARCHES; i++) {
      const [preview, complete] = await timedSearch('U1');
      sequential.push([preview, complete]);
    }

    // Different people searching at the same moment, in the same channel.
    const concurrentStart = performance.now();
    const concurrent = await Promise.all(
      Array.from({ length: CONCURRENT_SEARCHES }, (_, i) => timedSearch(`U${100 + i}`).then(([preview, complete]) => [preview, complete] as const)),
    );
    const concurrentWallMs = performance.now() - concurrentStart;

    const result: FlowResult = {
      harness: harnessPath,
      seededImages: SEEDED_IMAGES,
      counts: {
        search: countsBetween(observer, beforeSearch, afterSearch),
        next: countsBetween(observer, afterSearch, afterNext),
        total: countsBetween(observer, beforeSearch, afterNext),
      },
      sequentialPreview: summarize(sequential.map(([preview]) => preview)),
      sequentialComplete: summarize(sequential.map(([, complete]) => complete)),
      concurrentPreview: summarize(concurrent.map(([preview]) => preview)),
      concurrentComplete: summarize(concurrent.map(([, complete]) => complete)),
      concurrentWallMs,
    };
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
  } finally {
    await h.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
