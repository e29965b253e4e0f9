// SearchService: a description (or an image) in, the best-matching images the asker may see
// out, with their similarity scores. Scope comes from the event; filters only narrow it.
import type { Logger } from 'pino';
import type { Embedder, PreparedImage } from '../embedding/embedder.js';
import { dot, normalize } from '../embedding/vector-math.js';
import { FindimageError } from '../errors.js';
import type { PointFilter, ScoredPoint, VectorStore } from '../store/vector-store.js';

/**
 * Who is asking, derived from the chat event or the CLI, never from the query text: the tenant,
 * and the channels whose images may be shown (plus the tenant's public channels if allowed).
 */
export interface SearchScope {
  tenant: string;
  /** Channels whose images this conversation may see; omitted means every channel. */
  channels?: readonly string[];
  /** With `channels`: also allow images from the tenant's public channels. */
  includePublic?: boolean;
}

/** Narrowing the user asked for (in:#channel, from:@user, before:, after:). */
export interface SearchFilters {
  channels?: readonly string[];
  uploaders?: readonly string[];
  after?: Date;
  before?: Date;
}

export interface SearchRequest {
  scope: SearchScope;
  filters?: SearchFilters;
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
  /** With feedback: leave this query's own labels out (evaluation). */
  feedbackExcludeQueryId?: string;
}

/** Image ids people judged for a question before. */
export interface FeedbackExamples {
  positive: string[];
  negative: string[];
}

/** Where judged examples for a query come from (LabelFeedback reads the LabelStore). */
export interface RelevanceFeedback {
  /** Judged images for earlier queries with this text in this tenant. */
  examplesFor(tenant: string, text: string, excludeQueryId?: string): Promise<FeedbackExamples>;
}

export interface SearchResults {
  hits: ScoredPoint[];
  /** True when another page exists. */
  hasMore: boolean;
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
/** Hits fetched beyond the page when results must be post-filtered (negatives, scope). */
const OVERFETCH_FACTOR = 4;

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
    let query = await this.#embedder.embedQuery(request.text, { lane: 'interactive' });
    if (this.#feedback !== undefined && request.useFeedback !== false) {
      query = await this.#withFeedback(query, request, this.#feedback);
    }
    const negatives = await Promise.all(
      (request.negativeTerms ?? []).map((term) =>
        this.#embedder.embedQuery(term, { lane: 'interactive' }),
      ),
    );
    return this.#searchVector(query, request, negatives);
  }

  /** Images like an indexed image ("more like this"); the image itself is left out. */
  async searchSimilarTo(imageId: string, request: SearchRequest): Promise<SearchResults> {
    const [point] = await this.#store.get([imageId], { withVector: true });
    if (point === undefined || point.vector === undefined || point.payload.tenant !== request.scope.tenant) {
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

  /** Moves the query towards images judged relevant for the same question, away from the rest. */
  async #withFeedback(query: Float32Array, request: TextSearchRequest, feedback: RelevanceFeedback): Promise<Float32Array> {
    const tenant = request.scope.tenant;
    let examples: FeedbackExamples;
    try {
      examples = await feedback.examplesFor(tenant, request.text, request.feedbackExcludeQueryId);
    } catch (error) {
      // Feedback only refines a search: without the label store the plain search still answers.
      this.#logger.warn({ tenant, err: error }, 'relevance feedback unavailable; searching without it');
      return query;
    }
    if (examples.positive.length === 0 && examples.negative.length === 0) return query;
    const points = await this.#store.get([...examples.positive, ...examples.negative], { withVector: true });
    const vectors = new Map(
      points.filter((p) => p.payload.tenant === tenant && p.vector !== undefined).map((p) => [p.id, p.vector as Float32Array]),
    );
    const adjusted = Float32Array.from(query, (v) => v * ROCCHIO.query);
    const add = (ids: string[], weight: number) => {
      const found = ids.map((id) => vectors.get(id)).filter((v): v is Float32Array => v !== undefined);
      for (const vector of found) {
        for (let i = 0; i < adjusted.length; i++) adjusted[i] = (adjusted[i] as number) + (weight * (vector[i] as number)) / found.length;
      }
    };
    add(examples.positive, ROCCHIO.positive);
    add(examples.negative, -ROCCHIO.negative);
    this.#logger.debug({ tenant, positive: examples.positive.length, negative: examples.negative.length }, 'relevance feedback applied');
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
    const { filter, needsScopeCheck } = this.#filterFor(request, excludeIds);
    const postFiltered = negatives.length > 0 || needsScopeCheck;
    const wanted = offset + limit + 1;
    const candidates = await this.#store.query(vector, {
      filter,
      limit: postFiltered ? wanted * OVERFETCH_FACTOR : wanted,
    });

    let hits = candidates.filter((hit) => !needsScopeCheck || this.#inScope(hit, request.scope));
    if (negatives.length > 0) hits = await this.#dropNegatives(hits, vector, negatives);
    hits = this.#applyRelativeCutOff(hits);

    this.#logger.debug(
      { tenant: request.scope.tenant, candidates: candidates.length, kept: hits.length, offset, limit },
      'search done',
    );
    return { hits: hits.slice(offset, offset + limit), hasMore: hits.length > offset + limit };
  }

  /**
   * Builds the store filter. A channel filter from the query is intersected with the scope:
   * a channel the conversation may not see yields nothing. When the scope allows public
   * channels, requested channels outside the scope are fetched and each hit is checked for
   * being public (the store filter cannot express "in F and (in S or public)").
   */
  #filterFor(request: SearchRequest, excludeIds: string[]): { filter: PointFilter; needsScopeCheck: boolean } {
    const { scope, filters = {} } = request;
    const filter: PointFilter = { tenant: scope.tenant };
    let needsScopeCheck = false;
    if (filters.channels !== undefined && filters.channels.length > 0) {
      if (scope.channels === undefined) {
        filter.channels = filters.channels;
      } else if (scope.includePublic === true) {
        filter.channels = filters.channels;
        needsScopeCheck = filters.channels.some((c) => !scope.channels?.includes(c));
      } else {
        filter.channels = filters.channels.filter((c) => scope.channels?.includes(c));
      }
    } else if (scope.channels !== undefined) {
      filter.channels = scope.channels;
      filter.includePublic = scope.includePublic === true;
    }
    if (filters.uploaders !== undefined && filters.uploaders.length > 0) filter.uploaders = filters.uploaders;
    if (filters.after !== undefined) filter.after = filters.after;
    if (filters.before !== undefined) filter.before = filters.before;
    if (excludeIds.length > 0) filter.excludeIds = excludeIds;
    return { filter, needsScopeCheck };
  }

  #inScope(hit: ScoredPoint, scope: SearchScope): boolean {
    if (scope.channels === undefined) return true;
    const channel = hit.payload.channel;
    if (channel !== undefined && scope.channels.includes(channel)) return true;
    return scope.includePublic === true && hit.payload.channelIsPublic === true;
  }

  /** Drops hits that look more like any negative term than like the query. */
  async #dropNegatives(hits: ScoredPoint[], query: Float32Array, negatives: Float32Array[]): Promise<ScoredPoint[]> {
    if (hits.length === 0) return hits;
    const points = await this.#store.get(hits.map((h) => h.id), { withVector: true });
    const vectors = new Map(points.map((p) => [p.id, p.vector]));
    return hits.filter((hit) => {
      const vector = vectors.get(hit.id);
      if (vector === undefined) return false;
      const toQuery = dot(vector, query);
      return negatives.every((negative) => dot(vector, negative) < toQuery);
    });
  }

  #applyRelativeCutOff(hits: ScoredPoint[]): ScoredPoint[] {
    const best = hits[0]?.score;
    // A cut-off relative to a non-positive best score would keep nothing meaningful.
    if (best === undefined || best <= 0 || this.#minRelativeScore <= 0) return hits;
    const floor = best * this.#minRelativeScore;
    return hits.filter((hit) => hit.score >= floor);
  }
}
