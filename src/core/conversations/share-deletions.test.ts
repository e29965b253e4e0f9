// ShareDeletions: deleting a message, file or conversation takes its shares out of the index; an
// image goes with its last share, and an upload that finishes after its message was deleted is
// taken out again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { openSqliteVectorStore, type SqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare } from '../store/vector-store.js';
import { ShareDeletions } from './share-deletions.js';

const logger = createSilentLogger();
const ID = '00000000-0000-4000-8000-000000000001';

function share(conversation: string, messageId: string, fileId: string): ImageShare {
  return { conversation, isPublic: true, sharedAt: '2026-01-15T12:00:00.000Z', messageId, fileId };
}

describe('ShareDeletions', () => {
  let dir: string;
  let store: SqliteVectorStore;
  let deletions: ShareDeletions;

  const sharesOf = async () => (await store.get([ID]))[0]?.payload.shares.map((s) => s.conversation);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-deletions-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 2, logger });
    deletions = new ShareDeletions({ store, logger });
    await store.upsert([
      {
        id: ID,
        vector: Float32Array.from([1, 0]),
        payload: {
          tenant: 'T1',
          source: 'slack',
          filename: 'a.png',
          contentHash: 'h',
          modelId: 'm',
          createdAt: '2026-01-15T12:00:00.000Z',
          width: 1,
          height: 1,
          shares: [share('C1', 'm1', 'F1'), share('C2', 'm2', 'F2'), share('C3', 'm3', 'F3')],
        },
      },
    ]);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes only the deleted message share, then the file share, then the conversation, and the image with the last', async () => {
    expect(await deletions.messageDeleted('T1', 'C1', 'm1')).toEqual({ shares: 1, points: 0 });
    expect(await sharesOf()).toEqual(['C2', 'C3']);
    expect(await deletions.fileDeleted('T1', 'F2')).toEqual({ shares: 1, points: 0 });
    expect(await sharesOf()).toEqual(['C3']);
    expect(await deletions.conversationDeleted('T1', 'C3')).toEqual({ shares: 0, points: 1 });
    expect(await store.get([ID])).toEqual([]);
  });

  it('never touches another tenant, or a message of the same id in another conversation', async () => {
    expect(await deletions.messageDeleted('T2', 'C1', 'm1')).toEqual({ shares: 0, points: 0 });
    expect(await deletions.messageDeleted('T1', 'C2', 'm1')).toEqual({ shares: 0, points: 0 });
    expect(await sharesOf()).toEqual(['C1', 'C2', 'C3']);
  });

  it('takes out again an upload that finished indexing after its message was deleted', async () => {
    await deletions.messageDeleted('T1', 'C9', 'm9');
    await store.addShares('T1', ID, [share('C9', 'm9', 'F9')]);
    expect(await deletions.recheck({ tenant: 'T1', conversation: 'C9', messageId: 'm9', fileId: 'F9' })).toBe(true);
    expect(await sharesOf()).toEqual(['C1', 'C2', 'C3']);
    expect(await deletions.recheck({ tenant: 'T1', conversation: 'C1', messageId: 'm1', fileId: 'F1' })).toBe(false);
  });
});
