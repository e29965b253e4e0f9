// Private replies to the person who ran a command or pressed a button, shared by the Slack
// listeners: a failed request is explained to them (never to the channel), and a reply that
// cannot be sent is logged instead of failing the listener.
import type { RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { explainToUser } from './slack-api-error.js';

/** Runs a request and, when it fails, tells the user privately why (`doing` names the request). */
export async function answerPrivately(respond: RespondFn, doing: string, logger: Logger, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await respondPrivately(respond, explainToUser(error, doing, logger), logger);
  }
}

/** Sends `text` to the user alone; a reply Slack no longer takes is logged, not thrown. */
export async function respondPrivately(respond: RespondFn, text: string, logger: Logger): Promise<void> {
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (error) {
    logger.warn({ err: error, text }, 'could not send a private reply (response_url expired?)');
  }
}
