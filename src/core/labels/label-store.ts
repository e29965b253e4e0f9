// The seam for what people teach findimage: the log of queries that were run, which posted
// message shows which (query, image) pair, and the +1/-1 labels given on those messages.
import type { SearchFilters, SearchScope, SearchOverrides } from '../search/search-service.js';

/** A thumbs-up (+1) or thumbs-down (-1) on one result of one query. */
export type LabelValue = 1 | -1;

/** One hit as it was shown, kept when a query's results cannot be recomputed later. */
export interface SnapshotHit {
  /** Point id of the image. */
  imageId: string;
  /** Its score when the query ran. */
  score: number;
}

/** A query as it was run, so that paging, "more like this" and labels can find it later. */
export interface QueryRecord {
  /** Unique id, carried by the buttons and result messages of this query. */
  queryId: string;
  /** The tenant the query ran in; every lookup is keyed by it. */
  tenant: string;
  /** "text": a description; "image": similar to an image. */
  kind: 'text' | 'image';
  /** The description as typed (filters included), or a short description of the image query. */
  text: string;
  /** The description that was embedded (filters and negative terms removed). */
  searchText: string;
  /** Words the results should not look like. */
  negativeTerms: string[];
  /** The scope the query ran with, built from the event. Paging rebuilds it from its own event. */
  scope: SearchScope;
  /** The filters the user asked for, resolved to platform ids. */
  filters: SearchFilters;
  /** For "image" queries on an indexed image: its point id, so pages can be recomputed. */
  sourceImageId?: string;
  /**
   * For "image" queries on an image that is not indexed: the hits as found, in order, because
   * the query vector is not kept. Pages are served from this list.
   */
  snapshot?: SnapshotHit[];
  /** The search's own cut-off and prompt templates, when the person chose them; its pages use them too. */
  tuning?: SearchOverrides;
  /** Who ran it. */
  user: string;
  /** The conversation the results were posted in. */
  conversation: string;
  /** When it ran. */
  createdAt: Date;
}

/**
 * One result shown by a posted message: a message may show several results (a shared page of
 * results is one message with vote buttons on every card), so a message has one of these per
 * image it shows, all answering the same query.
 */
export interface ResultMessage {
  /** Tenant of the conversation. */
  tenant: string;
  /** Conversation (channel) the message is in. */
  conversation: string;
  /** Platform message id (Slack ts). Unique within the conversation. */
  messageId: string;
  /** The query whose result this is; every result of one message answers the same query. */
  queryId: string;
  /** Point id of the image shown. */
  imageId: string;
  /** 1-based position of the image in the query's results. */
  rank: number;
  /** The score shown. */
  score: number;
  /** Platform user id of whoever sent or shared the message; absent when not known. */
  postedBy?: string;
}

/** A person's judgement of one result. */
export interface Label {
  /** Tenant the label belongs to. */
  tenant: string;
  /** The query the result answered. */
  queryId: string;
  /** The query's text at the time, copied so an exported label stands on its own. */
  queryText: string;
  /** Point id of the image judged. */
  imageId: string;
  /** Platform user id of whoever judged. */
  user: string;
  /** +1 (good result) or -1 (bad result). */
  value: LabelValue;
  /** When the label was given. */
  createdAt: Date;
  /** The model the search ran with when the result was shown; absent for labels from before it was kept. */
  modelId?: string;
}

/** Identifies one label: a user may give both +1 and -1 to one result, and remove either. */
export type LabelKey = Pick<Label, 'tenant' | 'queryId' | 'imageId' | 'user' | 'value'>;

/** Which labels to list; `tenant` is required so that nothing crosses tenants. */
export interface LabelFilter {
  /** Tenant whose labels to list. */
  tenant: string;
  /** Only labels on this query's results. */
  queryId?: string;
  /** Only labels on this image. */
  imageId?: string;
  /** Only labels given by this user. */
  user?: string;
}

/**
 * Durable store of queries, result messages and labels. Implementations: SqliteLabelStore (under
 * FINDIMAGE_DATA) and QdrantLabelStore (when QDRANT_URL is set). Every read takes the tenant, and a record of one tenant is never returned
 * for another.
 */
export interface LabelStore {
  /** Saves a query; resolves once durable. Saving the same queryId twice replaces it. */
  recordQuery(query: QueryRecord): Promise<void>;

  /** The query with this id in this tenant, or undefined. */
  getQuery(tenant: string, queryId: string): Promise<QueryRecord | undefined>;

  /**
   * Saves one result a posted message shows. Recording the same (message, image) again is a
   * no-op (the first record is kept); another image of the same message adds a result. A
   * result of another query on the same message throws, because a vote on that message could
   * no longer be attributed to one query.
   */
  recordResultMessage(message: ResultMessage): Promise<void>;

  /**
   * The results shown by this message, by rank; empty when it is not a findimage result (or
   * belongs to another tenant or conversation).
   */
  findResultMessages(tenant: string, conversation: string, messageId: string): Promise<ResultMessage[]>;

  /** Every result posted for a query (one per message and image), by rank. */
  resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]>;

  /**
   * Records a label (a vote: +1 or -1 by one user on one (query, image)); giving the same label
   * again keeps the first, model id included. Resolves to the stored label.
   */
  addLabel(label: Omit<Label, 'createdAt'> & { createdAt?: Date }): Promise<Label>;

  /** Removes a label (the reaction was taken back); resolves to whether it existed. */
  removeLabel(key: LabelKey): Promise<boolean>;

  /** Labels matching the filter, oldest first. */
  listLabels(filter: LabelFilter): Promise<Label[]>;

  /**
   * Every record of every tenant, for `findimage migrate` (which copies labels along with the
   * vectors). Loads everything into memory: labels are small, and a migration runs rarely.
   */
  exportAll(): Promise<LabelStoreContents>;

  /** Releases the store's files. Further calls fail. */
  close(): Promise<void>;
}

/** All that a LabelStore holds. */
export interface LabelStoreContents {
  /** Every logged query, oldest first. */
  queries: QueryRecord[];
  /** Every result shown by a posted message (one per message and image), by tenant, query and rank. */
  resultMessages: ResultMessage[];
  /** Every label, oldest first. */
  labels: Label[];
}
