// SearchService: a description (or an image) in, the best-matching images the asker may see
// out, with their similarity scores. Scope comes from the event; filters only narrow it.
import type { Logger } from 'pino';
import type { Embedder, PreparedImage } from '../embedding/embedder.js';
import { dot, normalize } from '../embedding/vector-math.js';
import { FindimageError } from '../errors.js';
import { MAX_QUERY_WINDOW } from '../store/point-validation.js';
import type { PointFilter, PointScope, ScoredPoint, ShareFilter, VectorStore } from '../store/vector-store.js';

/**
 * Who is asking, derived from the chat event or the CLI, never from the query text: the tenant,
 * and the channels whose images may be shown (plus the tenant's public channels if allowed).
 * Persisted inside QueryRecord, so its shape stays as it is.
 */
export interface SearchScope {
  /** Workspace, guild or "local". */
  tenant: string;
  /** Channels whose images this conversation may see; omitted means every channel. */
  channels?: readonly string[];
  /** With `channels`: also allow images shared in the tenant's public channels. */
  includePublic?: boolean;
}

/**
 * Narrowing the user asked for (in:#channel, from:@user, before:, after:). The channel and
 * uploader apply to the same share as the scope: in:#private typed where #private is not
 * visible finds nothing, even for an image also shared publicly elsewhere.
 */
/**
 * The store's scope for a search scope: the tenant, and the conversations it may see when it is
 * restricted. Every store call a search makes, by vector or by id, is limited by it.
 */
export function storeScopeOf(scope: SearchScope): PointScope {
  const { tenant, channels } = scope;
  return channels === undefined
    ? { tenant }
    : { tenant, scope: { conversations: channels, includePublic: scope.includePublic === true } };
}

export interface SearchFilters {
  /** in:#channel: shared in one of these; an empty list narrows nothing. */
  channels?: readonly string[];
  /** from:@user: shared by one of these; an empty list narrows nothing. */
  uploaders?: readonly string[];
  /** Images first shared at or after this instant. */
  after?: Date;
  /** Images first shared before this instant. */
  before?: Date;
}

/**
 * One search's own settings in place of the server's: a person trying another cut-off or prompt
 * wording for a single search. Omitted fields keep the configured ones. (Not the embedded
 * store's SearchTuning, which holds its index knobs.)
 */
export interface SearchOverrides {
  /** Relative cut-off for this search (0 keeps all), in place of minRelativeScore. */
  minRelativeScore?: number;
  /** Prompt templates for this search's text (each holds "{}"; ["{}"] embeds the words as typed). */
  templates?: readonly string[];
}

export interface SearchRequest {
  scope: SearchScope;
  filters?: SearchFilters;
  /** This search's cut-off and prompt templates, when they differ from the server's. */
  tuning?: SearchOverrides;
  /** Results per page. */
  limit: number;
  /** Results to skip (page * limit). */
  offset?: number;
}

export interface TextSearchRequest extends SearchRequest {
  text: string;
  /** Words the results should not look like ("-dog"). */
  negativeTerms?: readonly string[];
  /** Apply relevance feedback from earlier labels (default: when configured). */
  useFeedback?: boolean;
  /** With feedback: leave these queries' own labels out (evaluation: the query graded, or every held-out query). */
  feedbackExcludeQueryIds?: readonly string[];
}

/** Image ids people judged for a question before. */
export interface FeedbackExamples {
  positive: string[];
  negative: string[];
}

/** Where judged examples for a query come from (LabelFeedback reads the LabelStore). */
export interface RelevanceFeedback {
  /** Judged images for earlier queries with this text in this tenant; the search keeps only those its scope may see. */
  examplesFor(tenant: string, text: string, excludeQueryIds?: readonly string[]): Promise<FeedbackExamples>;
}

export interface SearchResults {
  hits: ScoredPoint[];
  /** True when another page exists. */
  hasMore: boolean;
  /** What the relative cut-off did; absent for pages that were not ranked now (an image search's snapshot). */
  cutOff?: CutOffReport;
}

/** What the relative cut-off did to one search, so a front end can say that more exist and offer them. */
export interface CutOffReport {
  /** The relative cut-off applied (0: none). */
  applied: number;
  /** Hits it dropped among those the search read (up to the page's end plus one). */
  below: number;
  /** True when the search read a full window, so more than `below` may lie under the cut-off. */
  mayBeMore: boolean;
}

export interface SearchServiceOptions {
  embedder: Embedder;
  store: VectorStore;
  /**
   * Hits scoring below this fraction of the best hit's score are dropped (0 keeps all). CLIP's
   * text-image cosines sit in a narrow band (about 0.15 to 0.35), so a relative cut-off is
   * steadier than an absolute one.
   */
  minRelativeScore: number;
  /** Labels that improve repeated questions; omitted means no feedback. */
  feedback?: RelevanceFeedback;
  logger: Logger;
}

/**
 * Rocchio weights: the query keeps full weight, judged-relevant images pull with 0.75 and
 * judged-irrelevant ones push with 0.15 (the classic values from Manning et al., "Introduction
 * to Information Retrieval", ch. 9: negative feedback is weighted low because it is noisier).
 */
const ROCCHIO = { query: 1, positive: 0.75, negative: 0.15 } as const;

/** Largest page a caller may ask for: 10 cards fill a Slack carousel or Discord gallery. */
export const MAX_PAGE_SIZE = 100;
/**
 * With negative terms, how many times the hits still needed are fetched at first: the store
 * cannot tell how an image compares to a negative term, so some candidates are dropped here
 * (scope and filters never are: the store applies them). The window doubles until the page
 * fills or the store runs out.
 */
const NEGATIVE_OVERFETCH_FACTOR = 4;

export class SearchService {
  readonly #embedder: Embedder;
  readonly #store: VectorStore;
  readonly #minRelativeScore: number;
  readonly #feedback: RelevanceFeedback | undefined;
  readonly #logger: Logger;

  constructor(options: SearchServiceOptions) {
    this.#embedder = options.embedder;
    this.#store = options.store;
    this.#minRelativeScore = options.minRelativeScore;
    this.#feedback = options.feedback;
    this.#logger = options.logger;
  }

  /** Text to images. Throws InvalidQueryError for an empty query. */
  async searchText(request: TextSearchRequest): Promise<SearchResults> {
    const templates = request.tuning?.templates;
    let query = await this.#embedder.embedQuery(request.text, { lane: 'interactive', ...(templates === undefined ? {} : { templates }) });
    if (this.#feedback !== undefined && request.useFeedback !== false) {
      query = await this.#withFeedback(query, request, this.#feedback);
    }
    const negatives = await Promise.all(
      (request.negativeTerms ?? []).map((term) =>
        // The same templates as the query: "-truck" must be worded as the description is, or
        // the comparison of the two scores is skewed and more images are dropped than asked.
        this.#embedder.embedQuery(term, { lane: 'interactive', ...(templates === undefined ? {} : { templates }) }),
      ),
    );
    return this.#searchVector(query, request, negatives);
  }

  /**
   * Images like an indexed image ("more like this"); the image itself is left out. An image
   * the scope may not see is answered as if it did not exist (not_found).
   */
  async searchSimilarTo(imageId: string, request: SearchRequest): Promise<SearchResults> {
    const [point] = await this.#store.get([imageId], { ...storeScopeOf(request.scope), withVector: true });
    if (point?.vector === undefined) {
      throw new FindimageError('not_found', 'That image is no longer in the index.', {
        details: { imageId },
      });
    }
    return this.#searchVector(point.vector, request, [], [imageId]);
  }

  /** Images like an image that was just given (not necessarily indexed). */
  async searchSimilarToImage(image: PreparedImage, request: SearchRequest): Promise<SearchResults> {
    const vector = await this.#embedder.embedImage(image, { lane: 'interactive' });
    return this.#searchVector(vector, request, []);
  }

  /**
   * Moves the query towards images judged relevant for the same question, away from the rest.
   * Only images the asker may see count: labels given in a private channel they are not in
   * must not steer their results (nor reveal, through them, what that channel holds).
   */
  async #withFeedback(query: Float32Array, request: TextSearchRequest, feedback: RelevanceFeedback): Promise<Float32Array> {
    const tenant = request.scope.tenant;
    let examples: FeedbackExamples;
    try {
      examples = await feedback.examplesFor(tenant, request.text, request.feedbackExcludeQueryIds);
    } catch (error) {
      // Feedback only refines a search: without the label store the plain search still answers.
      this.#logger.warn({ tenant, err: error }, 'relevance feedback unavailable; searching without it');
      return query;
    }
    if (examples.positive.length === 0 && examples.negative.length === 0) return query;
    const points = await this.#store.get([...examples.positive, ...examples.negative], {
      ...storeScopeOf(request.scope),
      withVector: true,
    });
    const vectors = new Map(points.flatMap((p) => (p.vector === undefined ? [] : [[p.id, p.vector] as const])));
    const adjusted = Float32Array.from(query, (v) => v * ROCCHIO.query);
    const add = (ids: string[], weight: number) => {
      const found = ids.map((id) => vectors.get(id)).filter((v): v is Float32Array => v !== undefined);
      for (const vector of found) {
        for (let i = 0; i < adjusted.length; i++) adjusted[i] = (adjusted[i] as number) + (weight * (vector[i] as number)) / found.length;
      }
    };
    add(examples.positive, ROCCHIO.positive);
    add(examples.negative, -ROCCHIO.negative);
    this.#logger.debug(
      { tenant, positive: examples.positive.length, negative: examples.negative.length, visible: vectors.size },
      'relevance feedback applied',
    );
    return normalize(adjusted);
  }

  async #searchVector(
    vector: Float32Array,
    request: SearchRequest,
    negatives: Float32Array[],
    excludeIds: string[] = [],
  ): Promise<SearchResults> {
    const limit = Math.min(Math.max(1, Math.floor(request.limit)), MAX_PAGE_SIZE);
    const offset = Math.max(0, Math.floor(request.offset ?? 0));
    const filter = this.#filterFor(request, excludeIds);
    // One hit beyond the page says whether another page exists.
    const wanted = Math.min(offset + limit + 1, MAX_QUERY_WINDOW);
    let hits =
      negatives.length === 0
        ? await this.#store.query(vector, { filter, limit: wanted })
        : await this.#queryWithoutNegatives(vector, filter, negatives, wanted);
    const found = hits.length;
    const cutOff = request.tuning?.minRelativeScore ?? this.#minRelativeScore;
    hits = applyRelativeCutOff(hits, cutOff);

    this.#logger.debug(
      { tenant: request.scope.tenant, found, kept: hits.length, offset, limit, cutOff },
      'search done',
    );
    return {
      hits: hits.slice(offset, offset + limit),
      hasMore: hits.length > offset + limit,
      cutOff: { applied: cutOff, below: found - hits.length, mayBeMore: found - hits.length > 0 && found >= wanted },
    };
  }

  /**
   * Builds the store filter: the scope from the event, and the user's in: and from: as
   * conditions on the same share, so the store decides visibility before ranking and pages
   * are exact. Nothing is checked again after the store answers.
   */
  #filterFor(request: SearchRequest, excludeIds: string[]): PointFilter {
    const { scope, filters = {} } = request;
    const filter: PointFilter = { ...storeScopeOf(scope) };
    const share: ShareFilter = {};
    if (filters.channels !== undefined && filters.channels.length > 0) {
      share.conversations = filters.channels;
    }
    if (filters.uploaders !== undefined && filters.uploaders.length > 0) {
      share.uploaders = filters.uploaders;
    }
    if (share.conversations !== undefined || share.uploaders !== undefined) filter.share = share;
    if (filters.after !== undefined) filter.after = filters.after;
    if (filters.before !== undefined) filter.before = filters.before;
    if (excludeIds.length > 0) filter.excludeIds = excludeIds;
    return filter;
  }

  /**
   * The best `wanted` hits within `filter` that look more like the query than like every
   * negative term. Fetches a growing window until enough survive or the store has no more, so
   * the result is exact up to the store's deepest window (MAX_QUERY_WINDOW candidates).
   */
  async #queryWithoutNegatives(
    vector: Float32Array,
    filter: PointFilter,
    negatives: Float32Array[],
    wanted: number,
  ): Promise<ScoredPoint[]> {
    let window = Math.min(wanted * NEGATIVE_OVERFETCH_FACTOR, MAX_QUERY_WINDOW);
    // Verdicts by id, kept across windows: a wider window reads only the vectors it adds.
    const verdicts = new Map<string, boolean>();
    for (;;) {
      const candidates = await this.#store.query(vector, { filter, limit: window });
      await this.#judgeNegatives(candidates.filter((hit) => !verdicts.has(hit.id)), filter, vector, negatives, verdicts);
      const kept = candidates.filter((hit) => verdicts.get(hit.id) === true);
      const exhausted = candidates.length < window || window >= MAX_QUERY_WINDOW;
      if (kept.length >= wanted || exhausted) return kept.slice(0, wanted);
      window = Math.min(window * 2, MAX_QUERY_WINDOW);
    }
  }

  /** Records, for each hit, whether it looks less like every negative term than like the query. */
  async #judgeNegatives(
    hits: readonly ScoredPoint[],
    filter: PointFilter,
    query: Float32Array,
    negatives: readonly Float32Array[],
    verdicts: Map<string, boolean>,
  ): Promise<void> {
    if (hits.length === 0) return;
    const points = await this.#store.get(hits.map((h) => h.id), { tenant: filter.tenant, scope: filter.scope, withVector: true });
    const vectors = new Map(points.map((p) => [p.id, p.vector]));
    for (const hit of hits) {
      const vector = vectors.get(hit.id);
      // An image deleted since the query answered is dropped with the rest.
      if (vector === undefined) {
        verdicts.set(hit.id, false);
        continue;
      }
      const toQuery = dot(vector, query);
      verdicts.set(hit.id, negatives.every((negative) => dot(vector, negative) < toQuery));
    }
  }

}

/** The hits scoring at least `cutOff` times the best one (all of them when `cutOff` is 0). */
function applyRelativeCutOff(hits: ScoredPoint[], cutOff: number): ScoredPoint[] {
  const best = hits[0]?.score;
  // A cut-off relative to a non-positive best score would keep nothing meaningful.
  if (best === undefined || best <= 0 || cutOff <= 0) return hits;
  const floor = best * cutOff;
  return hits.filter((hit) => hit.score >= floor);
}
