// Slack events that change who may see a conversation, turned into core calls: a channel made
// private or public (a `message` of subtype channel_convert_to_private / channel_convert_to_public)
// changes whether its images count as public; a channel shared outside the workspace or unshared
// (channel_shared / channel_unshared) changes what a search there may show; a rename changes its
// name. Each drops the cached facts of that channel, so the next search or upload asks Slack
// again instead of trusting them for up to CONVERSATION_FACTS_TTL_MS.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ConversationPrivacy } from '../../core/conversations/conversation-privacy.js';
import type { ConversationDirectory } from './conversation-directory.js';

/** Message subtypes Slack posts in a channel when its privacy changes, and the privacy they mean. */
export const CONVERSION_SUBTYPES: Readonly<Record<string, boolean>> = {
  channel_convert_to_private: false,
  channel_convert_to_public: true,
};

/** Events (besides those message subtypes) after which a channel's cached facts are stale. */
export const FACT_CHANGING_EVENTS = ['channel_shared', 'channel_unshared', 'channel_rename', 'group_rename'] as const;

export interface VisibilityEventsOptions {
  /** Where the bot's cached facts about conversations live. */
  directory: Pick<ConversationDirectory, 'forget'>;
  /** The core's privacy service. */
  privacy: Pick<ConversationPrivacy, 'visibilityChanged'>;
  /** Where each failure to follow a conversion is logged. */
  logger: Logger;
}

/** Registers the listeners on `app`. */
export function listenForVisibilityChanges(app: App, options: VisibilityEventsOptions): void {
  const { directory, privacy, logger } = options;

  app.event('message', async ({ event, body }) => {
    const message = event as unknown as { subtype?: string; channel?: string };
    const isPublic = message.subtype === undefined ? undefined : CONVERSION_SUBTYPES[message.subtype];
    if (isPublic === undefined || typeof message.channel !== 'string') return;
    // Forgotten first: a search in the channel right after already sees it as it now is.
    directory.forget(message.channel);
    try {
      await privacy.visibilityChanged(body.team_id, message.channel, isPublic);
    } catch (error) {
      logger.error({ err: error, channel: message.channel, isPublic, code: 'privacy_change_failed' }, 'could not make a converted channel\'s images follow its new privacy');
    }
  });

  for (const type of FACT_CHANGING_EVENTS) {
    app.event(type, async ({ event }) => {
      const channel = channelOf(event);
      if (channel === undefined) {
        logger.warn({ type }, 'a channel event came without a channel id');
        return;
      }
      directory.forget(channel);
      logger.info({ type, channel }, 'a channel changed; its cached facts were dropped');
    });
  }
}

/** The channel id of a channel event: a string on channel_shared/unshared, an object on renames. */
function channelOf(event: unknown): string | undefined {
  const channel = (event as { channel?: unknown }).channel;
  if (typeof channel === 'string' && channel !== '') return channel;
  const id = (channel as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
