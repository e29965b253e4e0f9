// What every Slack request goes through before a feature sees it: a failing listener is logged
// under slack_listener_failed, and a request Slack sends again is acknowledged but acted on once.
import { App, type Receiver } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../core/conversations/replay-guard.js';
import { listenForFailuresAndReplays } from './request-guards.js';

/** A receiver with no network: the test hands requests to the app itself. */
const offlineReceiver: Receiver = { init: () => undefined, start: async () => undefined, stop: async () => undefined };

function guardedApp(): { app: App; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = new App({ receiver: offlineReceiver, authorize: async () => ({ botToken: 'xoxb-test' }) });
  listenForFailuresAndReplays(app, { replays: new ReplayGuard(), logger });
  return { app, lines };
}

function reactionEvent(eventId: string): Record<string, unknown> {
  return {
    type: 'event_callback',
    team_id: 'T1',
    event_id: eventId,
    event: { type: 'reaction_added', user: 'U1', reaction: '+1', item: { type: 'message', channel: 'C1', ts: '1.0' } },
  };
}

/** Sends `body` to the app and returns how many times it was acknowledged. */
async function deliver(app: App, body: Record<string, unknown>): Promise<number> {
  let acks = 0;
  await app.processEvent({ body, ack: async () => void acks++ });
  return acks;
}

describe('Slack request guards', () => {
  it('logs a listener that throws at error level with code slack_listener_failed', async () => {
    const { app, lines } = guardedApp();
    app.event('reaction_added', async () => {
      throw new Error('the index is down');
    });

    await deliver(app, reactionEvent('Ev1'));

    const failures = lines.filter((line) => line.code === 'slack_listener_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 50, msg: 'a Slack listener failed', err: { message: 'the index is down' } });
  });

  it('acknowledges every copy of an event Slack sends again, but passes it to the listeners once', async () => {
    const { app, lines } = guardedApp();
    let handled = 0;
    app.event('reaction_added', async () => void handled++);

    const acks = [await deliver(app, reactionEvent('Ev1')), await deliver(app, reactionEvent('Ev1')), await deliver(app, reactionEvent('Ev2'))];

    expect(acks).toEqual([1, 1, 1]);
    expect(handled).toBe(2);
    expect(lines.filter((line) => line.msg === 'ignored a replayed Slack request')).toMatchObject([{ key: 'event:Ev1' }]);
  });
});
