// /metrics counts the events each chat bot hands to the core: the core a bot gets from
// `findimage serve` counts searches, pages, votes, uploads and deletions by platform.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Findimage } from '../../src/findimage.js';
import { createSilentLogger } from '../../src/logger.js';
import type { BotFactory } from '../../src/serve/bot-registry.js';
import { countingFactories } from '../../src/serve/chat-event-counter.js';
import { jpegOf, startWebHarness, type WebHarness } from './web-harness.js';

describe('chat events in /metrics', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => h.close());

  it('counts what a bot asks of the core, by its platform, and passes every call through', async () => {
    let view: Findimage | undefined;
    const factory: BotFactory = async (_config, findimage) => {
      view = findimage;
      return { platform: 'slack', start: async () => {}, stop: async () => {} };
    };
    const [counting] = countingFactories([factory], h.server.metrics.chatEvents);
    await counting?.({} as never, h.findimage, createSilentLogger());
    if (view === undefined) throw new Error('the factory was not called');

    const jobId = view.uploads.enqueue({ tenant: 'T1', source: 'slack', filename: 'a.jpg', bytes: await jpegOf([1, 2, 3]) });
    expect(typeof jobId).toBe('string');
    expect(view.uploads.pending()).toBeGreaterThanOrEqual(0);
    await h.findimage.uploads.whenIdle();
    const context = { scope: { tenant: 'T1' }, conversation: 'C1', user: 'U1' };
    const page = await view.sessions.startText(context, { typed: 'a thing', parsed: { text: 'a thing', channelRefs: [], userRefs: [], negativeTerms: [], truncated: false }, filters: {} });
    await view.sessions.page(context, page.query.queryId, 0).catch(() => undefined);
    await view.deletions.messageDeleted('T1', 'C1', 'M1');

    const metrics = await h.server.metrics.registry.metrics();
    expect(metrics).toContain('findimage_chat_events_total{platform="slack",event="upload"} 1');
    expect(metrics).toContain('findimage_chat_events_total{platform="slack",event="search"} 1');
    expect(metrics).toContain('findimage_chat_events_total{platform="slack",event="page"} 1');
    expect(metrics).toContain('findimage_chat_events_total{platform="slack",event="delete"} 1');
    // Reads are not events.
    expect(metrics).not.toMatch(/event="pending"/);
  });
});
