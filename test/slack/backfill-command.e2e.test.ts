// The CLI's Slack backfill against the fake Web API: same walk, same cursor file as the bot's
// `/findimage index`, progress reported to a callback instead of a thread.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSlackBackfillCommand } from '../../src/bots/slack/backfill-command.js';
import type { BackfillProgress } from '../../src/bots/slack/backfill.js';
import { SlackApiError } from '../../src/bots/slack/slack-api-error.js';
import { InvalidQueryError } from '../../src/core/errors.js';
import { localCoordination } from '../../src/core/fleet/coordination.js';
import { createSilentLogger } from '../../src/logger.js';
import { BOT_TOKEN, CHANNELS, SlackHarness, TEAM } from './slack-harness.js';

describe('runSlackBackfillCommand', () => {
  let h: SlackHarness;
  const run = (channel: string, botToken = BOT_TOKEN, onProgress?: (p: BackfillProgress) => void) =>
    runSlackBackfillCommand({
      config: { botToken, apiUrl: h.api.apiUrl, indexedReaction: '' },
      findimage: { uploads: h.uploads, coordination: localCoordination({ dataDir: join(h.dir, 'cli') }) },
      logger: createSilentLogger(),
      channel,
      pageSize: 1,
      retryConfig: { retries: 0 },
      ...(onProgress === undefined ? {} : { onProgress }),
    });

  beforeEach(async () => {
    h = await SlackHarness.start();
    const red = await h.servePng('red');
    const blue = await h.servePng('blue');
    h.api.setHistory(CHANNELS.random.id, [
      { type: 'message', ts: '1770000002.000100', user: 'U2', files: [blue] },
      { type: 'message', ts: '1770000001.000100', user: 'U1', files: [red] },
    ]);
  });
  afterEach(async () => {
    await h.stop();
  });

  it('indexes a channel named like #random and reports progress per page', async () => {
    const progress: BackfillProgress[] = [];
    const report = await run('#random', BOT_TOKEN, (p) => progress.push(p));
    expect(report).toMatchObject({ messagesSeen: 2, filesQueued: 2, indexed: 2, duplicates: 0, rejectedCount: 0, resumed: false });
    expect(progress).toEqual([{ messagesSeen: 1, filesQueued: 1, resumed: false }]);
    expect(await h.store.count({ tenant: TEAM, share: { conversations: [CHANNELS.random.id] } })).toBe(2);
    expect(h.api.callsTo('reactions.add')).toEqual([]);
  });

  it('refuses an unknown channel and a refused token with messages for the terminal', async () => {
    await expect(run('#nope')).rejects.toBeInstanceOf(InvalidQueryError);
    await expect(run('#nope')).rejects.toThrow('No channel named #nope is visible to the bot.');
    await expect(run(CHANNELS.random.id, 'xoxb-bad')).rejects.toBeInstanceOf(SlackApiError);
    await expect(run(CHANNELS.random.id, 'xoxb-bad')).rejects.toThrow(/\(invalid_auth\)\. An admin must reinstall the app or update SLACK_BOT_TOKEN\./);
  });
});
