// SearchSessions: the life of a search in a conversation, whatever the front end (Slack, Discord,
// the web app). It runs a text, image or "more like this" search in the conversation's scope,
// pages it, records the places its results were shared, and hands votes on its results to
// SessionVotes (session-votes.ts).
// Adapters only turn events and requests into these calls and SessionPages into messages.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PreparedImage } from '../embedding/embedder.js';
import { InvalidQueryError, SessionError } from '../errors.js';
import { contentHashOf, pointIdFor } from '../indexing/point-id.js';
import type { LabelStore, LabelValue, QueryRecord } from '../labels/label-store.js';
import type { ParsedQuery } from '../search/query-syntax.js';
import {
  storeScopeOf,
  type CutOffReport,
  type SearchFilters,
  type SearchResults,
  type SearchScope,
  type SearchService,
  type SearchOverrides,
} from '../search/search-service.js';
import type { ImagePayload, ImageShare, ScoredPoint, VectorStore } from '../store/vector-store.js';
import { visibleShares } from './conversation-scope.js';
import {
  IMAGE_GONE,
  SessionVotes,
  type GivenVote,
  type ReactionInput,
  type ReactionResult,
  type VoteResult,
  type VoteState,
} from './session-votes.js';

export type { GivenVote, ReactionInput, ReactionResult, VoteResult, VoteState } from './session-votes.js';

/** Results per page: five cards fit a Slack carousel or a Discord gallery on a laptop screen. */
export const PAGE_SIZE = 5;

/**
 * Hits kept for a search by an image that is not indexed: its vector is not stored, so pages are
 * served from this list. Twenty chat pages, or five of the web page's 20, is more than anyone
 * pages through; a page of the web's largest size (100) is the whole list.
 */
export const SNAPSHOT_SIZE = 100;

/** Which results of a search a page shows. Chat pages are PAGE_SIZE long; the web asks for its own. */
export interface PageWindow {
  /** Results skipped before the page (0 or more). */
  offset: number;
  /** Results on the page (1 or more). */
  limit: number;
}

/** The first chat page. */
const FIRST_PAGE: PageWindow = { offset: 0, limit: PAGE_SIZE };

/** Where a session call comes from, built by the adapter from the platform event. */
export interface SessionContext {
  /** The tenant and the conversations whose images may be shown here (never from the query text). */
  scope: SearchScope;
  /** The conversation the person acts in; results may be shared here. */
  conversation: string;
  /** Who acts (searches, pages, votes, shares). */
  user: string;
}

/** One result as shown to people. */
export interface ShownHit {
  /** Point id of the image. */
  imageId: string;
  /** Cosine score. */
  score: number;
  /** 1-based position in the query's results. */
  rank: number;
  /** What is known about the image. */
  payload: ImagePayload;
  /** The share to show (uploader, conversation, date): one visible in the scope, this conversation's first. */
  share?: ImageShare;
}

/** One page of a search, ready to render. */
export interface SessionPage {
  /** The query as logged: its id goes into every button of the page. */
  query: QueryRecord;
  /** 0-based page number (the window's offset over its size). */
  page: number;
  /** The page's hits, best first; empty when nothing matched. */
  hits: ShownHit[];
  /** Whether a next page exists. */
  hasMore: boolean;
  /** What the relative cut-off did to this page's search; absent for a snapshot's pages. */
  cutOff?: CutOffReport;
}

/** A text search as the adapter read it from the platform. */
export interface TextSearchInput {
  /** The query as typed, filters included, with platform escapes decoded (kept in the log). */
  typed: string;
  /** The parsed query (description, negative terms), platform escapes decoded. */
  parsed: ParsedQuery;
  /** The parsed filters with platform ids (the adapter resolves names). */
  filters: SearchFilters;
  /** This search's own cut-off and prompt templates (kept with the query, so its pages match). */
  tuning?: SearchOverrides;
}


export interface SearchSessionsOptions {
  /** Runs the searches, in the scope each session gives. */
  search: Pick<SearchService, 'searchText' | 'searchSimilarTo' | 'searchSimilarToImage'>;
  /** Reads an image again before a vote or "more like this", to check it is still visible. */
  store: Pick<VectorStore, 'get'>;
  /** Where queries, shown results and votes are recorded. */
  labels: LabelStore;
  /** Decodes and preprocesses image bytes (throws InvalidImageError). */
  prepareImage: (bytes: Uint8Array) => Promise<PreparedImage>;
  /** The model searches run with; stored with every label so exported labels say which. */
  modelId: string;
  /** Where searches, votes and shares are logged. */
  logger: Logger;
}

const GONE = 'That search is no longer available here. Please run it again.';
const ELSEWHERE = 'That search belongs to another conversation. Run it again here to use it.';

export class SearchSessions {
  readonly #search: SearchSessionsOptions['search'];
  readonly #store: Pick<VectorStore, 'get'>;
  readonly #labels: LabelStore;
  readonly #prepareImage: (bytes: Uint8Array) => Promise<PreparedImage>;
  readonly #logger: Logger;
  /** The votes on this tenant's searches: buttons, the web page's states and reactions. */
  readonly #votes: SessionVotes;

  constructor(options: SearchSessionsOptions) {
    this.#search = options.search;
    this.#store = options.store;
    this.#labels = options.labels;
    this.#prepareImage = options.prepareImage;
    this.#logger = options.logger;
    this.#votes = new SessionVotes({
      labels: options.labels,
      modelId: options.modelId,
      logger: options.logger,
      queryHere: (context, queryId) => this.#queryHere(context, queryId),
      visiblePoint: (scope, imageId) => this.#visiblePoint(scope, imageId),
    });
  }

  /**
   * A description: its first page (or `window`, for a link to a later page that names no earlier
   * search). Throws InvalidQueryError for an empty description.
   */
  async startText(context: SessionContext, input: TextSearchInput, window: PageWindow = FIRST_PAGE): Promise<SessionPage> {
    checkWindow(window);
    const { parsed, filters } = input;
    const query = this.#newQuery(context, {
      kind: 'text',
      text: input.typed.trim(),
      searchText: parsed.text,
      negativeTerms: parsed.negativeTerms,
      filters,
      ...(input.tuning === undefined ? {} : { tuning: copyTuning(input.tuning) }),
    });
    const results = await this.#search.searchText({
      scope: context.scope,
      filters,
      text: parsed.text,
      negativeTerms: parsed.negativeTerms,
      limit: window.limit,
      offset: window.offset,
      ...(input.tuning === undefined ? {} : { tuning: input.tuning }),
    });
    return this.#firstPage(query, results, window);
  }

  /** "More like this" on an indexed image the person can see, with this search's own cut-off when given. */
  async startLike(context: SessionContext, imageId: string, window: PageWindow = FIRST_PAGE, tuning?: SearchOverrides): Promise<SessionPage> {
    checkWindow(window);
    const point = await this.#visiblePoint(context.scope, imageId);
    if (point === undefined) throw new SessionError('not_found', 'That image is no longer in the index.');
    return this.#likeIndexed(context, imageId, point.filename, window, tuning);
  }

  /**
   * Images like an image the person pointed at (a message's attachment): indexed ones are paged
   * live; others are embedded once and their hits kept as a snapshot to page through.
   */
  async startImage(context: SessionContext, image: { bytes: Uint8Array; name: string }, window: PageWindow = FIRST_PAGE, tuning?: SearchOverrides): Promise<SessionPage> {
    checkWindow(window);
    const id = pointIdFor(context.scope.tenant, contentHashOf(image.bytes));
    if ((await this.#visiblePoint(context.scope, id)) !== undefined) return this.#likeIndexed(context, id, image.name, window, tuning);
    const prepared = await this.#prepareImage(image.bytes);
    const found = await this.#search.searchSimilarToImage(prepared, { scope: context.scope, limit: SNAPSHOT_SIZE, ...(tuning === undefined ? {} : { tuning }) });
    const snapshot = found.hits.filter((hit) => hit.id !== id).map((hit) => ({ imageId: hit.id, score: hit.score }));
    const query = this.#newQuery(context, { kind: 'image', text: image.name, snapshot, ...(tuning === undefined ? {} : { tuning: copyTuning(tuning) }) });
    const first = await this.#snapshotPage(query, context.scope, window);
    // The first page tells what the cut-off dropped when the snapshot was taken; later pages of a snapshot cannot.
    return this.#firstPage(query, found.cutOff === undefined ? first : { ...first, cutOff: found.cutOff }, window);
  }

  /** Chat page `page` (PAGE_SIZE results each) of an earlier search, in the conversation it was run in. */
  async page(context: SessionContext, queryId: string, page: number): Promise<SessionPage> {
    // A page number comes from a button: a bad one is a forged or stale button, not bad input.
    if (!Number.isInteger(page) || page < 0) {
      await this.#queryHere(context, queryId);
      throw new SessionError('session_refused', GONE);
    }
    return this.results(context, queryId, { offset: page * PAGE_SIZE, limit: PAGE_SIZE });
  }

  /**
   * The results in `window` of an earlier search, in the conversation it was run in: text and
   * "more like this" searches run again in today's scope, image searches page their snapshot.
   * Throws InvalidQueryError for a window that is not whole numbers (offset 0 or more, limit 1 or more).
   */
  async results(context: SessionContext, queryId: string, window: PageWindow): Promise<SessionPage> {
    const query = await this.#queryHere(context, queryId);
    checkWindow(window);
    const { offset, limit } = window;
    const scope = context.scope;
    let results: SearchResults;
    if (query.kind === 'text') {
      results = await this.#search.searchText({
        scope,
        filters: query.filters,
        text: query.searchText,
        negativeTerms: query.negativeTerms,
        limit,
        offset,
        ...(query.tuning === undefined ? {} : { tuning: query.tuning }),
      });
    } else if (query.sourceImageId !== undefined) {
      results = await this.#search.searchSimilarTo(query.sourceImageId, { scope, limit, offset, ...(query.tuning === undefined ? {} : { tuning: query.tuning }) });
    } else {
      results = await this.#snapshotPage(query, scope, window);
    }
    return this.#sessionPage(query, results, window, scope);
  }

  /**
   * One result of a search, checked for sending here: the search was run in this conversation,
   * and the image still exists and may be shown here. `rank` and `score` are as first shown.
   */
  async result(context: SessionContext, queryId: string, imageId: string, shown: { rank: number; score: number }): Promise<{ query: QueryRecord; hit: ShownHit }> {
    const query = await this.#queryHere(context, queryId);
    const payload = await this.#visiblePoint(context.scope, imageId);
    if (payload === undefined) throw new SessionError('not_found', IMAGE_GONE);
    const hit: ShownHit = { imageId, score: shown.score, rank: shown.rank, payload };
    const share = visibleShares(payload, context.scope)[0];
    if (share !== undefined) hit.share = share;
    return { query, hit };
  }

  /** Records that `hits` of a query were posted as message `messageId` in the context's conversation. */
  async recordShare(context: SessionContext, queryId: string, messageId: string, hits: readonly ShownHit[]): Promise<void> {
    for (const hit of hits) {
      await this.#labels.recordResultMessage({
        tenant: context.scope.tenant,
        conversation: context.conversation,
        messageId,
        queryId,
        imageId: hit.imageId,
        rank: hit.rank,
        score: hit.score,
        postedBy: context.user,
      });
    }
    this.#logger.info({ tenant: context.scope.tenant, queryId, messageId, results: hits.length }, 'results shared');
  }

  /** See SessionVotes.vote: a vote button, pressing the same vote again takes it back. */
  vote(context: SessionContext, queryId: string, imageId: string, value: LabelValue): Promise<VoteResult> {
    return this.#votes.vote(context, queryId, imageId, value);
  }

  /** See SessionVotes.setVote: sets this person's vote on one result to the state asked for. */
  setVote(context: SessionContext, queryId: string, imageId: string, value: LabelValue | 0): Promise<VoteState> {
    return this.#votes.setVote(context, queryId, imageId, value);
  }

  /** See SessionVotes.votesOf: this person's votes on a search run in this conversation. */
  votesOf(context: SessionContext, queryId: string): Promise<GivenVote[]> {
    return this.#votes.votesOf(context, queryId);
  }

  /** See SessionVotes.reaction: a vote reaction added to or taken off a posted message. */
  reaction(input: ReactionInput): Promise<ReactionResult> {
    return this.#votes.reaction(input);
  }

  async #likeIndexed(context: SessionContext, imageId: string, name: string, window: PageWindow, tuning: SearchOverrides | undefined): Promise<SessionPage> {
    const results = await this.#search.searchSimilarTo(imageId, { scope: context.scope, limit: window.limit, offset: window.offset, ...(tuning === undefined ? {} : { tuning }) });
    const query = this.#newQuery(context, { kind: 'image', text: name, sourceImageId: imageId, ...(tuning === undefined ? {} : { tuning: copyTuning(tuning) }) });
    return this.#firstPage(query, results, window);
  }

  /** Logs a query that found something (an empty search has nothing to page, vote on or share). */
  async #firstPage(query: QueryRecord, results: SearchResults, window: PageWindow): Promise<SessionPage> {
    if (results.hits.length > 0) await this.#labels.recordQuery(query);
    this.#logger.info({ queryId: query.queryId, tenant: query.tenant, kind: query.kind, hits: results.hits.length }, 'search run');
    return this.#sessionPage(query, results, window, query.scope);
  }

  #sessionPage(query: QueryRecord, results: SearchResults, window: PageWindow, scope: SearchScope): SessionPage {
    const page: SessionPage = { query, page: Math.floor(window.offset / window.limit), hits: this.#shown(results.hits, scope, window.offset), hasMore: results.hasMore };
    if (results.cutOff !== undefined) page.cutOff = results.cutOff;
    return page;
  }

  #newQuery(
    context: SessionContext,
    fields: Pick<QueryRecord, 'kind' | 'text'> & Partial<Pick<QueryRecord, 'searchText' | 'negativeTerms' | 'filters' | 'sourceImageId' | 'snapshot' | 'tuning'>>,
  ): QueryRecord {
    return {
      queryId: randomUUID(),
      tenant: context.scope.tenant,
      searchText: '',
      negativeTerms: [],
      filters: {},
      ...fields,
      scope: context.scope,
      user: context.user,
      conversation: context.conversation,
      createdAt: new Date(),
    };
  }

  /** The query `queryId` of this tenant, if it was run in this conversation; else a polite refusal. */
  async #queryHere(context: SessionContext, queryId: string): Promise<QueryRecord> {
    const query = await this.#labels.getQuery(context.scope.tenant, queryId);
    if (query === undefined) throw new SessionError('session_refused', GONE);
    if (query.conversation !== context.conversation) throw new SessionError('session_refused', ELSEWHERE);
    return query;
  }

  /** The payload of an image visible under `scope`; undefined when absent or not visible, so not even its name leaks. */
  async #visiblePoint(scope: SearchScope, imageId: string): Promise<ImagePayload | undefined> {
    const [point] = await this.#store.get([imageId], storeScopeOf(scope));
    return point?.payload;
  }

  /** A page of a snapshot, re-checked against today's scope and index (deleted images drop out). */
  async #snapshotPage(query: QueryRecord, scope: SearchScope, window: PageWindow): Promise<SearchResults> {
    const { offset, limit } = window;
    const snapshot = query.snapshot ?? [];
    const page = snapshot.slice(offset, offset + limit);
    const points = new Map((await this.#store.get(page.map((h) => h.imageId), storeScopeOf(scope))).map((p) => [p.id, p]));
    const hits: ScoredPoint[] = [];
    for (const { imageId, score } of page) {
      const point = points.get(imageId);
      if (point !== undefined) hits.push({ id: imageId, score, payload: point.payload });
    }
    return { hits, hasMore: snapshot.length > offset + limit };
  }

  #shown(hits: readonly ScoredPoint[], scope: SearchScope, offset: number): ShownHit[] {
    return hits.map((hit, i) => {
      const shown: ShownHit = { imageId: hit.id, score: hit.score, rank: offset + i + 1, payload: hit.payload };
      const share = visibleShares(hit.payload, scope)[0];
      if (share !== undefined) shown.share = share;
      return shown;
    });
  }
}

/** A plain copy of a search's tuning to keep with its query record (stored as JSON). */
function copyTuning(tuning: SearchOverrides): SearchOverrides {
  return {
    ...(tuning.minRelativeScore === undefined ? {} : { minRelativeScore: tuning.minRelativeScore }),
    ...(tuning.templates === undefined ? {} : { templates: [...tuning.templates] }),
  };
}

/** Refuses a window that is not whole numbers, offset 0 or more and limit 1 or more. */
function checkWindow(window: PageWindow): void {
  const { offset, limit } = window;
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidQueryError('A page starts at a whole number of results (0 or more) and shows at least one.');
  }
}
