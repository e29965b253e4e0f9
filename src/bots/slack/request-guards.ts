// What every Slack request passes through before a feature's listener: a listener that throws is
// logged under one code, and a request Slack retries is acted on once.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ReplayMemory } from '../../core/conversations/replay-guard.js';

export interface RequestGuardsOptions {
  /** Remembers the request ids already acted on (across replicas in a fleet). */
  replays: ReplayMemory;
  logger: Logger;
}

/** Registers the error handler and the replay filter on `app`; call before any feature's listeners. */
export function listenForFailuresAndReplays(app: App, options: RequestGuardsOptions): void {
  const { replays, logger } = options;
  app.error(async (error) => {
    logger.error({ err: error, code: 'slack_listener_failed' }, 'a Slack listener failed');
  });

  // Slack retries a request it thinks failed (x-slack-retry-num in HTTP mode, retry_attempt in
  // Socket Mode) with the same trigger or event id: act on each once, acknowledge every copy.
  app.use(async (args) => {
    const key = requestKeyOf(args.body);
    if (key !== undefined && !(await replays.firstTime(key))) {
      const ack = (args as { ack?: () => Promise<void> }).ack;
      if (ack !== undefined) await ack();
      logger.info({ key, retryNum: args.context.retryNum }, 'ignored a replayed Slack request');
      return;
    }
    await args.next();
  });
}

/** The id Slack repeats when it retries a request: the event id, or the interaction's trigger id. */
function requestKeyOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as { event_id?: unknown; trigger_id?: unknown; actions?: Array<{ action_ts?: unknown }> };
  if (typeof fields.event_id === 'string') return `event:${fields.event_id}`;
  if (typeof fields.trigger_id === 'string') return `trigger:${fields.trigger_id}:${String(fields.actions?.[0]?.action_ts ?? '')}`;
  return undefined;
}
