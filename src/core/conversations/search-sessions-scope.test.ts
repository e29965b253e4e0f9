// SearchSessions never reads, names, labels or pages an image outside the conversation's scope:
// an image id from a forged button, a stale message or another workspace is answered as absent.
// Real stores in a temporary folder and an embedder with known vectors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteLabelStore, type SqliteLabelStore } from '../labels/sqlite-label-store.js';
import { parseQuery } from '../search/query-syntax.js';
import { SearchService } from '../search/search-service.js';
import { openSqliteVectorStore, type SqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare } from '../store/vector-store.js';
import { imageWithVector, KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { createSilentLogger } from '../../logger.js';
import { SearchSessions, type SessionContext } from './search-sessions.js';

const logger = createSilentLogger();
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** #general (public) as seen from itself: its own images and every public share of T1. */
const GENERAL: SessionContext = { scope: { tenant: 'T1', channels: ['CGENERAL'], includePublic: true }, conversation: 'CGENERAL', user: 'U1' };

function share(conversation: string, isPublic: boolean, messageId = `m-${conversation}`): ImageShare {
  return { conversation, isPublic, sharedAt: '2026-01-15T12:00:00.000Z', messageId };
}

describe('SearchSessions within the conversation’s scope', () => {
  let dir: string;
  let store: SqliteVectorStore;
  let labels: SqliteLabelStore;
  let sessions: SearchSessions;

  async function addImage(n: number, shares: ImageShare[], tenant = 'T1'): Promise<string> {
    await store.upsert([
      {
        id: uuid(n),
        vector: Float32Array.from([1, n / 10].map((v) => v / Math.hypot(1, n / 10))),
        payload: { tenant, source: 'slack', filename: `img${n}.png`, contentHash: `h${n}`, modelId: 'known-vectors', createdAt: '2026-01-15T12:00:00.000Z', width: 8, height: 8, shares },
      },
    ]);
    return uuid(n);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-sessions-scope-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 2, logger });
    labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger });
    const embedder = new KnownVectorEmbedder(2, { red: [1, 0] });
    const search = new SearchService({ embedder, store, minRelativeScore: 0, logger });
    sessions = new SearchSessions({ search, store, labels, prepareImage: async () => imageWithVector([1, 0.05]), modelId: 'known-vectors', logger });
    // 1 is public; 2 only in #secret; 3 is another workspace's, in a channel with #general's id.
    await addImage(1, [share('CGENERAL', true)]);
    await addImage(2, [share('CSECRET', false)]);
    await addImage(3, [share('CGENERAL', true)], 'T2');
  });
  afterEach(async () => {
    await labels.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const searchRed = () => sessions.startText(GENERAL, { typed: 'red', parsed: parseQuery('red'), filters: {} });

  it('records no vote on an image of a private channel or of another workspace', async () => {
    const { query, hits } = await searchRed();
    expect(hits.map((h) => h.imageId)).toEqual([uuid(1)]);
    for (const hidden of [uuid(2), uuid(3)]) {
      await expect(sessions.vote(GENERAL, query.queryId, hidden, 1)).rejects.toThrow('no longer shown here');
    }
    expect(await labels.listLabels({ tenant: 'T1' })).toEqual([]);
  });

  it('refuses to send, or to search like, an image the conversation may not see, without naming it', async () => {
    const { query } = await searchRed();
    for (const hidden of [uuid(2), uuid(3)]) {
      await expect(sessions.result(GENERAL, query.queryId, hidden, { rank: 1, score: 0.9 })).rejects.toThrow('no longer shown here');
      await expect(sessions.startLike(GENERAL, hidden)).rejects.toThrow('no longer in the index');
    }
  });

  it('drops from an image search’s snapshot an image whose last visible share has gone', async () => {
    await store.addShares('T1', uuid(2), [share('CGENERAL', true, 'm-2')]);
    const first = await sessions.startImage(GENERAL, { bytes: new Uint8Array([1, 2, 3]), name: 'photo.png' });
    expect(first.hits.map((h) => h.imageId)).toEqual([uuid(1), uuid(2)]);
    // Image 2's #general message is deleted; its #secret share stays.
    expect(await store.removeShares({ tenant: 'T1', share: { messageId: 'm-2' } })).toEqual({ shares: 1, points: 0 });
    const again = await sessions.page(GENERAL, first.query.queryId, 0);
    expect(again.hits.map((h) => h.imageId)).toEqual([uuid(1)]);
  });
});
