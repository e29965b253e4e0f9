// serve starts while the store is down: calls say "unavailable" (so uploads are queued and
// retried) until the background connection succeeds; a wrong key stops the retries.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import { waitUntil } from '../testing/wait-until.js';
import { ReconnectingStore } from './reconnecting-store.js';
import { openSqliteVectorStore } from './sqlite-vector-store.js';
import type { VectorStore } from './vector-store.js';

describe('ReconnectingStore', () => {
  let dir: string;
  const stores: VectorStore[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-reconnect-'));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers unavailable while the store is down, then serves once it comes up', async () => {
    let failures = 2;
    const store = new ReconnectingStore({
      open: async () => {
        if (failures-- > 0) throw new StoreError('store_unavailable', 'Qdrant at http://127.0.0.1:9 is unreachable.');
        return openSqliteVectorStore({ path: join(dir, 's.sqlite'), dimension: 2, logger: createSilentLogger() });
      },
      dimension: 2,
      description: 'test store',
      logger: createSilentLogger(),
      retryDelayMs: 5,
    });
    stores.push(store);
    await expect(store.count()).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('queued') });
    await store.whenConnected();
    expect(await store.count()).toBe(0);
  });

  it('stops retrying and reports the cause when the store refuses for good', async () => {
    let attempts = 0;
    const store = new ReconnectingStore({
      open: async () => {
        attempts++;
        throw new StoreError('store_auth', 'Qdrant refused the API key: check QDRANT_API_KEY.');
      },
      dimension: 2,
      description: 'test store',
      logger: createSilentLogger(),
      retryDelayMs: 1,
    });
    stores.push(store);
    await waitUntil(() => store.count().then(() => false, (e: unknown) => (e as StoreError).code === 'store_auth'), 'the refusal');
    // A retry would be due 1 ms after the refusal. A store refused in a way that is retried,
    // opened after it with the same delay, makes its second try only once that timer has fired.
    let controlAttempts = 0;
    const control = new ReconnectingStore({
      open: async () => {
        controlAttempts++;
        throw new StoreError('store_unavailable', 'Qdrant at http://127.0.0.1:9 is unreachable.');
      },
      dimension: 2,
      description: 'control store',
      logger: createSilentLogger(),
      retryDelayMs: 1,
    });
    stores.push(control);
    await waitUntil(() => controlAttempts >= 2, "the control store's retry");
    await expect(store.count()).rejects.toMatchObject({ code: 'store_auth' });
    expect(attempts).toBe(1);
  });
});
