// Reactions on result messages become labels: thumbs-up is +1, thumbs-down is -1, and taking
// the reaction back removes the label. Reactions anywhere else are ignored.
import type { Logger } from 'pino';
import type { Label, LabelStore, LabelValue } from '../../core/labels/label-store.js';

/** Slack's names for the thumbs (both spellings exist; skin tones are stripped first). */
const LABEL_REACTIONS: ReadonlyMap<string, LabelValue> = new Map([
  ['+1', 1],
  ['thumbsup', 1],
  ['-1', -1],
  ['thumbsdown', -1],
]);

/** The label a reaction gives, or undefined for reactions that are not a thumb. */
export function labelValueOf(reaction: string): LabelValue | undefined {
  return LABEL_REACTIONS.get(reaction.split('::')[0] ?? reaction);
}

/** A reaction_added or reaction_removed event, reduced to what matters. */
export interface ReactionEvent {
  /** Team id. */
  tenant: string;
  /** Who reacted. */
  user: string;
  /** Reaction name ("+1", "thumbsdown::skin-tone-3"). */
  reaction: string;
  /** Channel of the message reacted to. */
  channel: string;
  /** ts of the message reacted to. */
  ts: string;
}

export interface ReactionLabelsOptions {
  labels: LabelStore;
  logger: Logger;
}

export class ReactionLabels {
  readonly #labels: LabelStore;
  readonly #logger: Logger;

  constructor(options: ReactionLabelsOptions) {
    this.#labels = options.labels;
    this.#logger = options.logger;
  }

  /** Records the label a reaction gives; undefined when the reaction or message is not one of ours. */
  async added(event: ReactionEvent): Promise<Label | undefined> {
    const target = await this.#target(event);
    if (target === undefined) return undefined;
    const query = await this.#labels.getQuery(event.tenant, target.queryId);
    const label = await this.#labels.addLabel({
      tenant: event.tenant,
      queryId: target.queryId,
      queryText: query?.text ?? '',
      imageId: target.imageId,
      user: event.user,
      value: target.value,
    });
    this.#logger.info({ tenant: event.tenant, queryId: target.queryId, imageId: target.imageId, value: target.value }, 'label recorded');
    return label;
  }

  /** Removes the label a reaction gave; resolves to whether there was one. */
  async removed(event: ReactionEvent): Promise<boolean> {
    const target = await this.#target(event);
    if (target === undefined) return false;
    const removed = await this.#labels.removeLabel({
      tenant: event.tenant,
      queryId: target.queryId,
      imageId: target.imageId,
      user: event.user,
      value: target.value,
    });
    this.#logger.info({ tenant: event.tenant, queryId: target.queryId, imageId: target.imageId, removed }, 'label removed');
    return removed;
  }

  async #target(event: ReactionEvent): Promise<{ queryId: string; imageId: string; value: LabelValue } | undefined> {
    const value = labelValueOf(event.reaction);
    if (value === undefined) return undefined;
    const message = await this.#labels.findResultMessage(event.tenant, event.channel, event.ts);
    if (message === undefined) return undefined;
    return { queryId: message.queryId, imageId: message.imageId, value };
  }
}
