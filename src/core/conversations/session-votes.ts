// SessionVotes: the votes people give on a search's results, whatever the front end: a vote
// button (press again to take it back), the web page's vote states (set, idempotent), and vote
// reactions on posted messages. One person's votes on one result of one query run one after
// another, so a quick 👍 then 👎 stores one label, the last. SearchSessions owns one and checks,
// through the two functions it passes, that the query was run here and the image is visible.
import type { Logger } from 'pino';
import { SessionError } from '../errors.js';
import type { LabelStore, LabelValue, QueryRecord, ResultMessage } from '../labels/label-store.js';
import type { SearchScope } from '../search/search-service.js';
import { KeyedLock } from '../store/keyed-lock.js';
import type { ImagePayload } from '../store/vector-store.js';
import type { SessionContext } from './search-sessions.js';

/** The polite refusal of a vote on an image deleted, or no longer visible, since the search. */
export const IMAGE_GONE = 'That image has since been deleted or is no longer shown here, so nothing was recorded.';

/** What a vote button did. */
export interface VoteResult {
  /** "added": the vote now counts; "removed": pressing the same vote again took it back. */
  status: 'added' | 'removed';
  /** The vote pressed. */
  value: LabelValue;
  /** The image voted on (for the confirmation). */
  payload: ImagePayload;
}

/** One person's vote on one result, as a front end that shows the vote's state sets it. */
export interface VoteState {
  /** The vote now given: 1, -1, or 0 for none. */
  value: LabelValue | 0;
  /** The image voted on. */
  payload: ImagePayload;
}

/** A vote given on a result of a search. */
export interface GivenVote {
  /** The result voted on. */
  imageId: string;
  /** The vote. */
  value: LabelValue;
}

/** What a reaction on a posted message did. */
export type ReactionResult =
  /** The message is not a findimage result, or the reaction is not a vote: nothing to do. */
  | { status: 'not_ours' }
  /** The message shows several results: a reaction cannot say which; tell the person how to vote. */
  | { status: 'several'; results: number }
  /** The label was recorded or removed. */
  | { status: 'labelled' | 'unlabelled'; message: ResultMessage };

/** A reaction on a posted message, as the adapter read it. */
export interface ReactionInput {
  /** Tenant of the conversation. */
  tenant: string;
  /** Conversation of the message. */
  conversation: string;
  /** Platform message id. */
  messageId: string;
  /** Who reacted. */
  user: string;
  /** The vote the reaction stands for. */
  value: LabelValue;
  /** True when the reaction was added, false when it was taken back. */
  added: boolean;
}

export interface SessionVotesOptions {
  /** Where votes (labels) are kept. */
  labels: LabelStore;
  /** The model searches run with; stored with every label. */
  modelId: string;
  /** Where votes given and taken back are logged. */
  logger: Logger;
  /** The query `queryId` if it was run in this conversation; else throws a polite SessionError. */
  queryHere: (context: SessionContext, queryId: string) => Promise<QueryRecord>;
  /** The payload of an image visible under `scope`, or undefined. */
  visiblePoint: (scope: SearchScope, imageId: string) => Promise<ImagePayload | undefined>;
}

export class SessionVotes {
  readonly #labels: LabelStore;
  readonly #modelId: string;
  readonly #logger: Logger;
  readonly #queryHere: SessionVotesOptions['queryHere'];
  readonly #visiblePoint: SessionVotesOptions['visiblePoint'];
  /** One lock per (tenant, query, image, person): that person's votes on the pair run in turn. */
  readonly #voting = new KeyedLock();

  constructor(options: SessionVotesOptions) {
    this.#labels = options.labels;
    this.#modelId = options.modelId;
    this.#logger = options.logger;
    this.#queryHere = options.queryHere;
    this.#visiblePoint = options.visiblePoint;
  }

  /**
   * A vote button: +1 or -1 from this person on one (query, image) pair. Pressing the same vote
   * again takes it back; pressing the other one replaces it. Refused from another conversation
   * or workspace, and for an image since deleted.
   */
  async vote(context: SessionContext, queryId: string, imageId: string, value: LabelValue): Promise<VoteResult> {
    return this.#oneVoteAtATime(context, queryId, imageId, async () => {
      const target = await this.#voteTarget(context, queryId, imageId);
      if (target.given.includes(value)) {
        await this.#replaceVote(context, target, 0);
        return { status: 'removed', value, payload: target.payload };
      }
      await this.#replaceVote(context, target, value);
      return { status: 'added', value, payload: target.payload };
    });
  }

  /**
   * Sets this person's vote on one (query, image) pair to `value`, 0 for none, whatever it was:
   * for a front end that shows the vote's state and sends the state wanted (the web page), so a
   * repeated request changes nothing. Refused as `vote` refuses.
   */
  async setVote(context: SessionContext, queryId: string, imageId: string, value: LabelValue | 0): Promise<VoteState> {
    return this.#oneVoteAtATime(context, queryId, imageId, async () => {
      const target = await this.#voteTarget(context, queryId, imageId);
      const unchanged = value === 0 ? target.given.length === 0 : target.given.length === 1 && target.given[0] === value;
      if (!unchanged) await this.#replaceVote(context, target, value);
      return { value, payload: target.payload };
    });
  }

  /**
   * Runs one vote of this person on one (query, image) pair after the ones before it: a vote
   * reads the votes given and then replaces them, so two quick clicks (👍 then 👎) must not both
   * read "none" and leave both labels. One process only; the web page and each bot have one.
   */
  async #oneVoteAtATime<T>(context: SessionContext, queryId: string, imageId: string, vote: () => Promise<T>): Promise<T> {
    return this.#voting.withKeys([JSON.stringify([context.scope.tenant, queryId, imageId, context.user])], vote);
  }

  /** This person's votes on a search run in this conversation (refused as `page` refuses). */
  async votesOf(context: SessionContext, queryId: string): Promise<GivenVote[]> {
    await this.#queryHere(context, queryId);
    const labels = await this.#labels.listLabels({ tenant: context.scope.tenant, queryId, user: context.user });
    return labels.map((label) => ({ imageId: label.imageId, value: label.value }));
  }

  /**
   * A vote reaction added to or taken off a posted message. On a message showing one result it
   * labels exactly that (query, image) pair for that person; on one showing several it cannot.
   */
  async reaction(input: ReactionInput): Promise<ReactionResult> {
    const messages = await this.#labels.findResultMessages(input.tenant, input.conversation, input.messageId);
    const [message] = messages;
    if (message === undefined) return { status: 'not_ours' };
    if (messages.length > 1) return { status: 'several', results: messages.length };
    const key = { tenant: input.tenant, queryId: message.queryId, imageId: message.imageId, user: input.user, value: input.value };
    if (!input.added) {
      await this.#labels.removeLabel(key);
      this.#logger.info({ tenant: input.tenant, queryId: message.queryId, imageId: message.imageId }, 'label removed');
      return { status: 'unlabelled', message };
    }
    const query = await this.#labels.getQuery(input.tenant, message.queryId);
    await this.#labels.addLabel({ ...key, queryText: query?.text ?? '', modelId: this.#modelId });
    this.#logger.info({ tenant: input.tenant, queryId: message.queryId, imageId: message.imageId, value: input.value }, 'label recorded');
    return { status: 'labelled', message };
  }

  /** The query and image a vote is on, checked, with the votes this person already gave on the pair. */
  async #voteTarget(context: SessionContext, queryId: string, imageId: string): Promise<{ query: QueryRecord; imageId: string; payload: ImagePayload; given: LabelValue[] }> {
    const query = await this.#queryHere(context, queryId);
    const payload = await this.#visiblePoint(context.scope, imageId);
    if (payload === undefined) throw new SessionError('not_found', IMAGE_GONE);
    const given = await this.#labels.listLabels({ tenant: context.scope.tenant, queryId, imageId, user: context.user });
    return { query, imageId, payload, given: given.map((label) => label.value) };
  }

  /** Replaces this person's votes on the pair by `value` (0: none), recording the model with a new label. */
  async #replaceVote(context: SessionContext, target: { query: QueryRecord; imageId: string; given: LabelValue[] }, value: LabelValue | 0): Promise<void> {
    const { query, imageId } = target;
    const tenant = context.scope.tenant;
    const key = { tenant, queryId: query.queryId, imageId, user: context.user };
    for (const given of target.given) await this.#labels.removeLabel({ ...key, value: given });
    if (value !== 0) await this.#labels.addLabel({ ...key, queryText: query.text, value, modelId: this.#modelId });
    this.#logger.info({ tenant, queryId: query.queryId, imageId, value }, value === 0 ? 'vote taken back' : 'vote recorded');
  }
}
