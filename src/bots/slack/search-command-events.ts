// The /findimage slash command (help, `index #channel`, and searches) and the buttons of its
// private preview (pages, votes, send, share all, more like this), turned into core calls.
import type { App, BlockAction, ButtonAction, RespondFn, StaticSelectAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { InvalidQueryError } from '../../core/errors.js';
import { parseQuery } from '../../core/search/query-syntax.js';
import type { BackfillThread } from './backfill-thread.js';
import {
  ACTION_MORE_LIKE_THIS,
  ACTION_OPEN_ORIGINAL,
  ACTION_PAGE,
  ACTION_SEND,
  ACTION_SHARE_ALL,
  ACTION_VOTE_DOWN,
  ACTION_VOTE_UP,
  parseHitButtonValue,
  parsePageButtonValue,
  renderHelp,
} from './result-blocks.js';
import type { SlackContext, SlackSearch } from './slack-search.js';
import { answerPrivately, respondPrivately } from './slack-replies.js';
import { escapeMrkdwn } from './slack-text.js';

/** The slash command registered in slack-app-manifest.yaml. */
export const SLASH_COMMAND = '/findimage';

/** What a stale or foreign button is told. */
const STALE_BUTTON = 'That button is from an older version of findimage. Please run the search again.';

export interface SearchCommandEventsOptions {
  /** Runs searches and the preview's button presses. */
  search: Pick<SlackSearch, 'searchText' | 'showPage' | 'shareAll' | 'send' | 'vote' | 'moreLikeThis'>;
  /** Runs `/findimage index #channel`. */
  backfillThread: Pick<BackfillThread, 'run'>;
  logger: Logger;
}

/** Registers the slash command and the preview's buttons on `app`. */
export function listenForSearchCommands(app: App, options: SearchCommandEventsOptions): void {
  const { search, backfillThread, logger } = options;

  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    const text = command.text.trim();
    const context: SlackContext = { tenant: command.team_id, channel: command.channel_id, user: command.user_id };
    if (text === '' || /^help$/i.test(text)) {
      await ack({ response_type: 'ephemeral', ...renderHelp() });
      return;
    }
    const index = /^index(?:\s+(.*))?$/is.exec(text);
    if (index !== null) {
      await ack({ response_type: 'ephemeral', text: 'Checking that channel before indexing its history…' });
      await backfillThread.run(context, (index[1] ?? '').trim(), (reply) => respondPrivately(respond, reply, logger));
      return;
    }
    try {
      parseQuery(text);
    } catch (error) {
      if (!(error instanceof InvalidQueryError)) throw error;
      // A malformed query is answered in the acknowledgement itself, at once.
      await ack({ response_type: 'ephemeral', text: `${escapeMrkdwn(error.message)}\nType \`/findimage help\` for the syntax.` });
      return;
    }
    // Acknowledged at once (Slack wants an answer within 3 s); the preview follows privately.
    await ack();
    await answerPrivately(respond, 'searching', logger, () => search.searchText(context, text, respond));
  });

  /**
   * Listens to a button (or select) family: acknowledges at once, then runs `work` with the
   * pressed value, telling the person privately when it fails.
   */
  const onButton = (
    actionId: string,
    doing: string,
    work: (context: SlackContext, value: string | undefined, respond: RespondFn) => Promise<void>,
  ): void => {
    app.action<BlockAction<ButtonAction | StaticSelectAction>>(new RegExp(`^${actionId}:`), async ({ ack, body, action, respond }) => {
      await ack();
      const context = actionContextOf(body, logger);
      if (context === undefined) return;
      const value = action.type === 'static_select' ? action.selected_option?.value : action.value;
      await answerPrivately(respond, doing, logger, () => work(context, value, respond));
    });
  };
  const stale = (respond: RespondFn): Promise<void> => respondPrivately(respond, STALE_BUTTON, logger);

  onButton(ACTION_PAGE, 'showing that page', async (context, value, respond) => {
    const target = parsePageButtonValue(value);
    if (target === undefined) return stale(respond);
    await search.showPage(context, target.queryId, target.page, respond);
  });
  onButton(ACTION_SHARE_ALL, 'sharing the results', async (context, value, respond) => {
    const target = parsePageButtonValue(value);
    if (target === undefined) return stale(respond);
    await search.shareAll(context, target.queryId, target.page, respond);
  });
  onButton(ACTION_SEND, 'sending that image', async (context, value, respond) => {
    const target = parseHitButtonValue(value);
    if (target === undefined) return stale(respond);
    await search.send(context, target, respond);
  });
  for (const [actionId, vote] of [[ACTION_VOTE_UP, 1], [ACTION_VOTE_DOWN, -1]] as const) {
    onButton(actionId, 'recording your vote', async (context, value, respond) => {
      const target = parseHitButtonValue(value);
      if (target === undefined) return stale(respond);
      await search.vote(context, target, vote, respond);
    });
  }
  onButton(ACTION_MORE_LIKE_THIS, 'finding similar images', async (context, value, respond) => {
    if (value === undefined || value === '') return stale(respond);
    await search.moreLikeThis(context, value, respond);
  });

  // A link button still sends an action, which must be acknowledged.
  app.action(new RegExp(`^${ACTION_OPEN_ORIGINAL}:`), async ({ ack }) => {
    await ack();
  });
}

/** Who pressed a button, where: undefined (and a warning) when Slack left the team or channel out. */
function actionContextOf(body: BlockAction, logger: Logger): SlackContext | undefined {
  const tenant = body.team?.id ?? body.user.team_id;
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (tenant === undefined || channel === undefined) {
    logger.warn({ actionTeam: tenant, channel }, 'a button press came without a team or channel');
    return undefined;
  }
  return { tenant, channel: String(channel), user: body.user.id };
}
