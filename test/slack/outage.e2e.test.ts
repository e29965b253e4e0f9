// A Slack user searching while the image index is down or broken gets a short private answer
// without internal URLs or docker advice; the full operator message goes to the log. The
// harness's store is embedded, so its search is pointed at a real Qdrant store on the fake
// server, down (store_unavailable) or with its collection deleted (store_failed).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_BROKEN_PUBLIC_MESSAGE, STORE_UNAVAILABLE_PUBLIC_MESSAGE } from '../../src/core/errors.js';
import { openQdrantStore, type QdrantStore } from '../../src/core/store/qdrant/qdrant-store.js';
import type { RetryPolicy } from '../../src/core/store/qdrant/retry-policy.js';
import { ReconnectingStore } from '../../src/core/store/reconnecting-store.js';
import type { VectorStore } from '../../src/core/store/vector-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { eventually } from '../fakes/slack/eventually.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { CHANNELS, SlackHarness } from './slack-harness.js';

const GENERAL = CHANNELS.general.id;
/** One quick try per call: these tests are about the message, not the waiting. */
const ONE_TRY: RetryPolicy = { attempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 };
/** Words that belong in the log, never in chat. */
const INTERNALS = /https?:|127\.0\.0\.1|docker|QDRANT_|collection/i;

describe('searching in Slack while the image index fails', () => {
  let h: SlackHarness;
  let qdrant: FakeQdrantServer;
  const opened: Array<{ close(): Promise<void> }> = [];

  beforeEach(async () => {
    h = await SlackHarness.start();
    qdrant = await FakeQdrantServer.start();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await h.stop();
    await qdrant.stop();
  });

  /** Makes the bot's searches go to `failing` until the returned function is called. */
  function searchesGoTo(failing: VectorStore): () => void {
    const store = h.store as VectorStore & { query: VectorStore['query'] };
    const own = Object.getOwnPropertyDescriptor(store, 'query');
    store.query = (vector, options) => failing.query(vector, options);
    return () => {
      if (own === undefined) delete (store as Partial<VectorStore>).query;
      else Object.defineProperty(store, 'query', own);
    };
  }

  const openQdrant = async (): Promise<QdrantStore> => {
    const store = await openQdrantStore({
      url: qdrant.url,
      modelId: 'known-vectors',
      dimension: 4,
      onDisk: false,
      quantization: false,
      logger: createSilentLogger(),
      retry: ONE_TRY,
      startupRetry: ONE_TRY,
    });
    opened.push(store);
    return store;
  };

  /** Runs /findimage `text` and returns the private answer's text. */
  async function answerTo(text: string): Promise<string> {
    const before = h.api.responses.length;
    await h.command(text, GENERAL);
    return String((await eventually(() => h.api.responses[before], 'a private answer')).text);
  }

  it('says search is unavailable for now, with no URL or docker advice, and logs the full reason', async () => {
    await h.seed('red', { channel: GENERAL, channelIsPublic: true });
    await qdrant.goDown();
    const down = new ReconnectingStore({
      open: openQdrant,
      dimension: 4,
      description: `Qdrant at ${qdrant.url}`,
      logger: createSilentLogger(),
      retryDelayMs: 60_000,
    });
    opened.push(down);
    // The store has tried once, and its "unavailable" error says what the try saw.
    await eventually(
      () => down.count().then(() => false, (error: Error) => error.message.includes('connection refused')),
      'a failed try to reach Qdrant',
    );
    const restore = searchesGoTo(down);

    const answer = await answerTo('red');
    expect(answer).toBe(STORE_UNAVAILABLE_PUBLIC_MESSAGE);
    expect(answer).not.toMatch(INTERNALS);
    expect(h.api.posted()).toEqual([]);

    const [logged] = h.logged('told the user a request failed for a while; the reason is for an admin');
    expect(logged).toMatchObject({ level: 40, code: 'store_unavailable', doing: 'searching' });
    expect(String(logged?.reason)).toContain(`Cannot reach Qdrant at ${qdrant.url} (connection refused)`);
    expect(String(logged?.reason)).toContain('docker compose up -d qdrant');

    // Once the index is back, the same search shows results.
    restore();
    expect(await answerTo('red')).toBe('Results for “red” (1–1)');
  });

  it('says the index has a problem an admin must fix when Qdrant says the collection is gone, and logs that at error level', async () => {
    const store = await openQdrant();
    expect((await fetch(`${qdrant.url}/collections/${store.collection}`, { method: 'DELETE' })).status).toBe(200);
    searchesGoTo(store);

    const answer = await answerTo('red');
    expect(answer).toBe(STORE_BROKEN_PUBLIC_MESSAGE);
    expect(answer).not.toMatch(INTERNALS);

    const [logged] = h.logged('told the user a request failed; the reason is for an admin');
    expect(logged).toMatchObject({ level: 50, code: 'store_failed', doing: 'searching' });
    expect(String(logged?.reason)).toContain('Was the collection deleted?');
  });
});
