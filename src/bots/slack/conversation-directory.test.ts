// ConversationDirectory's cache against forget(): a conversion (or rename, or share) drops the
// cached facts, and an answer Slack gave before it, arriving after it, must not bring them back.
import type { webApi } from '@slack/bolt';
import { expect, test, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { ConversationDirectory } from './conversation-directory.js';

/**
 * A Slack client whose conversations.info answers are held until the test lets each go, with the
 * channel's facts as they were when Slack read them (at the call).
 */
function heldSlack(facts: { is_private: boolean }) {
  const pending: Array<() => void> = [];
  const calls: string[] = [];
  const client = {
    conversations: {
      info: async ({ channel }: { channel: string }) => {
        calls.push(channel);
        const answer = { ok: true, channel: { id: channel, name: 'general', is_channel: true, is_private: facts.is_private, is_member: true } };
        await new Promise<void>((resolve) => pending.push(resolve));
        return answer;
      },
    },
  } as unknown as webApi.WebClient;
  return { client, calls, releaseNext: () => pending.shift()?.() };
}

test('a lookup answered before forget() and arriving after it does not cache the old facts', async () => {
  const facts = { is_private: false };
  const slack = heldSlack(facts);
  const directory = new ConversationDirectory({ client: slack.client, logger: createSilentLogger() });
  // A search in #general asks Slack while the channel is still public...
  const early = directory.lookup('C1');
  await vi.waitFor(() => expect(slack.calls).toHaveLength(1));
  // ...then an admin makes it private and the bot hears of it before that answer arrives.
  facts.is_private = true;
  directory.forget('C1');
  slack.releaseNext();
  expect((await early).isPublic).toBe(true);

  // The next lookup asks Slack again and sees the channel as it now is.
  const next = directory.lookup('C1');
  await vi.waitFor(() => expect(slack.calls).toHaveLength(2));
  slack.releaseNext();
  expect((await next).isPublic).toBe(false);
});

test('a lookup with no forget() meanwhile is cached: the next one does not ask Slack', async () => {
  const slack = heldSlack({ is_private: false });
  const directory = new ConversationDirectory({ client: slack.client, logger: createSilentLogger() });
  const first = directory.lookup('C1');
  await vi.waitFor(() => expect(slack.calls).toHaveLength(1));
  slack.releaseNext();
  expect((await first).isPublic).toBe(true);
  expect((await directory.lookup('C1')).isPublic).toBe(true);
  expect(slack.calls).toHaveLength(1);
  // A forget() of another channel leaves this one cached.
  directory.forget('C2');
  expect((await directory.lookup('C1')).isPublic).toBe(true);
  expect(slack.calls).toHaveLength(1);
});
