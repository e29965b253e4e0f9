// Reactions on messages, turned into votes: a thumb added to or removed from an image the bot sent
// labels that result or takes the label back (which reactions count is SlackSearch's concern).
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackContext, SlackSearch } from './slack-search.js';

export interface ReactionEventsOptions {
  /** Turns a reaction into a label. */
  search: Pick<SlackSearch, 'reaction'>;
  logger: Logger;
}

/** Registers the reaction_added and reaction_removed listeners on `app`. */
export function listenForReactions(app: App, options: ReactionEventsOptions): void {
  const { search, logger } = options;
  for (const type of ['reaction_added', 'reaction_removed'] as const) {
    app.event(type, async ({ event, body }) => {
      if (event.item.type !== 'message') return;
      const context: SlackContext = { tenant: body.team_id, channel: event.item.channel, user: event.user };
      try {
        await search.reaction(context, event.item.ts, event.reaction, type === 'reaction_added');
      } catch (error) {
        logger.error({ err: error, ...context, reaction: event.reaction }, 'could not record a reaction as a label');
      }
    });
  }
}
