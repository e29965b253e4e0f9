// The searches a Slack user can start: /findimage <description>, a page of an earlier search,
// "More like this" on a result, and the "Find similar images" shortcut on a message's image.
// Each builds its scope from the event, runs core search, logs the query and posts the results.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PreparedImage } from '../../core/embedding/embedder.js';
import { contentHashOf, pointIdFor } from '../../core/indexing/point-id.js';
import type { LabelStore, QueryRecord } from '../../core/labels/label-store.js';
import { MAX_QUERY_TEXT_CHARS, parseQuery } from '../../core/search/query-syntax.js';
import type { SearchFilters, SearchResults, SearchScope, SearchService } from '../../core/search/search-service.js';
import type { ScoredPoint, VectorStore } from '../../core/store/vector-store.js';
import type { ConversationDirectory, ConversationFacts } from './conversation-directory.js';
import { isImageFile, type SlackFileDownloader, type SlackFileRef } from './file-download.js';
import { isVisibleIn, scopeForConversation } from './permission-scope.js';
import { PAGE_SIZE, parsePageButtonValue, renderNoResults, type ResultsView, type ShownHit } from './result-blocks.js';
import type { ResultPublisher } from './result-publisher.js';
import { decodeSlackEntities, escapeAndTruncate } from './slack-text.js';
import { resolveFilters } from './slack-query.js';

/** Where a search was started and by whom, from the event. */
export interface SearchContext {
  /** Team id: the tenant. */
  tenant: string;
  /** The conversation results go to. */
  channel: string;
  /** Who asked. */
  user: string;
}

/** What to tell the user privately; undefined when the results were posted. */
export type SearchReply = string | undefined;

/**
 * Hits kept for a "Find similar images" search on an image that is not indexed: its vector is
 * not stored, so pages are served from this list. Ten pages is more than anyone pages through.
 */
export const SNAPSHOT_SIZE = 10 * PAGE_SIZE;

export interface SlackSearchOptions {
  search: SearchService;
  store: VectorStore;
  prepareImage: (bytes: Uint8Array) => Promise<PreparedImage>;
  labels: LabelStore;
  publisher: ResultPublisher;
  directory: ConversationDirectory;
  downloader: SlackFileDownloader;
  logger: Logger;
}

export class SlackSearch {
  readonly #search: SearchService;
  readonly #store: VectorStore;
  readonly #prepareImage: (bytes: Uint8Array) => Promise<PreparedImage>;
  readonly #labels: LabelStore;
  readonly #publisher: ResultPublisher;
  readonly #directory: ConversationDirectory;
  readonly #downloader: SlackFileDownloader;
  readonly #logger: Logger;

  constructor(options: SlackSearchOptions) {
    this.#search = options.search;
    this.#store = options.store;
    this.#prepareImage = options.prepareImage;
    this.#labels = options.labels;
    this.#publisher = options.publisher;
    this.#directory = options.directory;
    this.#downloader = options.downloader;
    this.#logger = options.logger;
  }

  /** `/findimage <text>`. Throws InvalidQueryError or SlackApiError with a message for the user. */
  async searchText(context: SearchContext, commandText: string): Promise<SearchReply> {
    const parsed = parseQuery(commandText);
    const text = decodeSlackEntities(parsed.text);
    const negativeTerms = parsed.negativeTerms.map(decodeSlackEntities);
    const scope = await this.#scopeFor(context);
    if (typeof scope === 'string') return scope;
    const filters = await resolveFilters(parsed, this.#directory);
    const results = await this.#search.searchText({ scope, filters, text, negativeTerms, limit: PAGE_SIZE, offset: 0 });
    const view: Pick<ResultsView, 'heading' | 'kind'> = { heading: text, kind: 'text' };
    if (results.hits.length === 0) return renderNoResults(view, hasFilters(filters, negativeTerms));

    const query: QueryRecord = {
      queryId: randomUUID(),
      tenant: context.tenant,
      kind: 'text',
      text: decodeSlackEntities(commandText.trim()),
      searchText: text,
      negativeTerms,
      scope,
      filters,
      user: context.user,
      conversation: context.channel,
      createdAt: new Date(),
    };
    await this.#labels.recordQuery(query);
    const notes = filterNotes(filters, negativeTerms);
    if (parsed.truncated) notes.push(`Your description was shortened to its first ${MAX_QUERY_TEXT_CHARS} characters.`);
    await this.#publisher.post(context.tenant, context.channel, this.#view(query, 0, results, notes));
    this.#logger.info({ queryId: query.queryId, tenant: context.tenant, hits: results.hits.length }, 'search posted');
    return undefined;
  }

  /** A Next or Previous button on the header `headerTs`. */
  async showPage(context: SearchContext, headerTs: string, buttonValue: string | undefined): Promise<SearchReply> {
    const target = parsePageButtonValue(buttonValue);
    const query = target === undefined ? undefined : await this.#labels.getQuery(context.tenant, target.queryId);
    // A query is only paged in the conversation it was posted in.
    if (target === undefined || query === undefined || query.conversation !== context.channel) {
      return 'That search is no longer available here. Please run it again.';
    }
    const scope = await this.#scopeFor(context);
    if (typeof scope === 'string') return scope;
    const offset = target.page * PAGE_SIZE;
    let results: SearchResults;
    if (query.kind === 'text') {
      results = await this.#search.searchText({
        scope,
        filters: query.filters,
        text: query.searchText,
        negativeTerms: query.negativeTerms,
        limit: PAGE_SIZE,
        offset,
      });
    } else if (query.sourceImageId !== undefined) {
      results = await this.#search.searchSimilarTo(query.sourceImageId, { scope, limit: PAGE_SIZE, offset });
    } else {
      results = await this.#snapshotPage(query, scope, offset);
    }
    if (results.hits.length === 0) return 'There are no more results for that search.';
    const notes = query.kind === 'text' ? filterNotes(query.filters, query.negativeTerms) : [];
    await this.#publisher.update(context.tenant, context.channel, headerTs, this.#view(query, target.page, results, notes));
    return undefined;
  }

  /** "More like this" on the result showing `imageId`. */
  async moreLikeThis(context: SearchContext, imageId: string): Promise<SearchReply> {
    const scope = await this.#scopeFor(context);
    if (typeof scope === 'string') return scope;
    const [point] = await this.#store.get([imageId]);
    // An image the conversation may not see is treated as absent, so not even its name leaks.
    if (point === undefined || !isVisibleIn(point.payload, scope)) return 'That image is no longer in the index.';
    return this.#similarToIndexed(context, scope, imageId, point.payload.filename);
  }

  /** The "Find similar images" shortcut on a message with `files`. */
  async similarToFiles(context: SearchContext, files: readonly SlackFileRef[]): Promise<SearchReply> {
    const file = files.find(isImageFile);
    if (file === undefined) return 'That message has no image I can search with.';
    const scope = await this.#scopeFor(context);
    if (typeof scope === 'string') return scope;
    const bytes = await this.#downloader.download(file);
    const id = pointIdFor(context.tenant, contentHashOf(bytes));
    const [point] = await this.#store.get([id]);
    if (point !== undefined && isVisibleIn(point.payload, scope)) {
      return this.#similarToIndexed(context, scope, id, file.name);
    }
    const prepared = await this.#prepareImage(bytes);
    const found = await this.#search.searchSimilarToImage(prepared, { scope, limit: SNAPSHOT_SIZE });
    const snapshot = found.hits.filter((hit) => hit.id !== id).map((hit) => ({ imageId: hit.id, score: hit.score }));
    const view: Pick<ResultsView, 'heading' | 'kind'> = { heading: file.name, kind: 'image' };
    if (snapshot.length === 0) return renderNoResults(view, false);
    const query = this.#imageQuery(context, scope, file.name, { snapshot });
    await this.#labels.recordQuery(query);
    const first = await this.#snapshotPage(query, scope, 0);
    await this.#publisher.post(context.tenant, context.channel, this.#view(query, 0, first, []));
    return undefined;
  }

  async #similarToIndexed(context: SearchContext, scope: SearchScope, imageId: string, name: string): Promise<SearchReply> {
    const results = await this.#search.searchSimilarTo(imageId, { scope, limit: PAGE_SIZE, offset: 0 });
    if (results.hits.length === 0) return renderNoResults({ heading: name, kind: 'image' }, false);
    const query = this.#imageQuery(context, scope, name, { sourceImageId: imageId });
    await this.#labels.recordQuery(query);
    await this.#publisher.post(context.tenant, context.channel, this.#view(query, 0, results, []));
    return undefined;
  }

  #imageQuery(
    context: SearchContext,
    scope: SearchScope,
    name: string,
    source: Pick<QueryRecord, 'sourceImageId' | 'snapshot'>,
  ): QueryRecord {
    return {
      queryId: randomUUID(),
      tenant: context.tenant,
      kind: 'image',
      text: name,
      searchText: '',
      negativeTerms: [],
      scope,
      filters: {},
      ...source,
      user: context.user,
      conversation: context.channel,
      createdAt: new Date(),
    };
  }

  /** A page of a snapshot, re-checked against today's scope and index (deleted images drop out). */
  async #snapshotPage(query: QueryRecord, scope: SearchScope, offset: number): Promise<SearchResults> {
    const snapshot = query.snapshot ?? [];
    const page = snapshot.slice(offset, offset + PAGE_SIZE);
    const points = new Map((await this.#store.get(page.map((h) => h.imageId))).map((p) => [p.id, p]));
    const hits: ScoredPoint[] = [];
    for (const { imageId, score } of page) {
      const point = points.get(imageId);
      if (point !== undefined && isVisibleIn(point.payload, scope)) hits.push({ id: imageId, score, payload: point.payload });
    }
    return { hits, hasMore: snapshot.length > offset + PAGE_SIZE };
  }

  /** The scope of the conversation, or what to tell the user when results cannot be posted there. */
  async #scopeFor(context: SearchContext): Promise<SearchScope | string> {
    let facts: ConversationFacts | undefined;
    try {
      facts = await this.#directory.lookup(context.channel);
    } catch (error) {
      // Unknown facts narrow the scope to this conversation; posting will tell if it fails.
      this.#logger.warn({ err: error, channel: context.channel }, 'could not look up the conversation; searching it alone');
    }
    if (facts?.isMember === false) {
      return "I'm not a member of this channel, so I can't post results here. Invite me with /invite @findimage and try again.";
    }
    return scopeForConversation(context.tenant, context.channel, facts);
  }

  #view(query: QueryRecord, page: number, results: SearchResults, notes: string[]): ResultsView {
    const hits: ShownHit[] = results.hits.map((hit, i) => ({
      imageId: hit.id,
      score: hit.score,
      rank: page * PAGE_SIZE + i + 1,
      payload: hit.payload,
    }));
    return {
      queryId: query.queryId,
      heading: query.kind === 'text' ? query.searchText : query.text,
      kind: query.kind,
      page,
      hits,
      hasMore: results.hasMore,
      notes,
    };
  }
}

function hasFilters(filters: SearchFilters, negativeTerms: readonly string[]): boolean {
  return Object.keys(filters).length > 0 || negativeTerms.length > 0;
}

/** The filters in words, as mrkdwn lines (ids become mentions; user text is escaped). */
function filterNotes(filters: SearchFilters, negativeTerms: readonly string[]): string[] {
  const parts: string[] = [];
  if (filters.channels !== undefined) parts.push(`in ${filters.channels.map((c) => `<#${c}>`).join(', ')}`);
  if (filters.uploaders !== undefined) parts.push(`from ${filters.uploaders.map((u) => `<@${u}>`).join(', ')}`);
  if (filters.after !== undefined) parts.push(`from ${filters.after.toISOString().slice(0, 10)}`);
  if (filters.before !== undefined) {
    parts.push(`until ${new Date(filters.before.getTime() - 1).toISOString().slice(0, 10)}`);
  }
  if (negativeTerms.length > 0) parts.push(`not like ${negativeTerms.map((t) => `“${escapeAndTruncate(t, 50)}”`).join(', ')}`);
  return parts.length === 0 ? [] : [`Filters: ${parts.join(' · ')}`];
}
