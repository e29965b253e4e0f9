// The "Find similar images" message shortcut: searches with the images of the message it was
// used on, and shows the preview to the person who used it.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { fileRefsFrom } from './file-download.js';
import { SHORTCUT_FIND_SIMILAR } from './result-blocks.js';
import type { SlackContext, SlackSearch } from './slack-search.js';
import { answerPrivately } from './slack-replies.js';

export interface SimilarShortcutEventsOptions {
  /** Runs the search by the message's images. */
  search: Pick<SlackSearch, 'similarToFiles'>;
  logger: Logger;
}

/** Registers the message shortcut on `app`. */
export function listenForSimilarShortcut(app: App, options: SimilarShortcutEventsOptions): void {
  const { search, logger } = options;
  app.shortcut(SHORTCUT_FIND_SIMILAR, async ({ ack, shortcut, respond }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const tenant = shortcut.team?.id ?? shortcut.user.team_id;
    if (tenant === undefined || tenant === '') {
      // No workspace, no scope: searching would have nothing safe to search in.
      logger.warn({ channel: shortcut.channel.id }, 'a shortcut came without a team');
      return;
    }
    const context: SlackContext = { tenant, channel: shortcut.channel.id, user: shortcut.user.id };
    const files = fileRefsFrom((shortcut.message as { files?: unknown }).files);
    await answerPrivately(respond, 'finding similar images', logger, () => search.similarToFiles(context, files, respond));
  });
}
