// Durable deletions: a message, file or conversation deleted (or a message edited) while the
// store is down is recorded on disk, survives a restart, and is applied once the store is back,
// in order with the uploads of the same message: an upload queued before a deletion never comes
// back after it, and one queued after an edit is indexed after the edit's removal.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { ImageIndexer } from '../indexing/image-indexer.js';
import { UploadQueue, type UploadOutcome } from '../indexing/upload-queue.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { SwitchableStore } from '../testing/switchable-store.js';
import { captureLog } from '../testing/wait-until.js';
import { ShareDeletions } from './share-deletions.js';

const TENANT = 'T1';
/** Long enough for a queue on a loaded machine; conditions are polled, never slept on. */
const WAIT = { timeout: 15_000, interval: 10 };

function share(conversation: string, messageId: string, fileId: string): ImageShare {
  return { conversation, isPublic: true, sharedAt: '2026-01-02T03:04:05.000Z', messageId, fileId };
}

describe('deletions while the store is down', () => {
  let dir: string;
  let real: VectorStore;
  let switchable: SwitchableStore;
  const running: UploadQueue[] = [];

  /** A queue and its deletions on the data dir, as findimage opens them at start. */
  const start = (logger = createSilentLogger()) => {
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store: switchable.store, prepare: prepareJsonImage, logger });
    const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer, store: switchable.store, logger, retryDelayMs: 5, maxRetryDelayMs: 20, maxAttempts: 1_000 });
    running.push(queue);
    const outcomes: UploadOutcome[] = [];
    queue.onOutcome((o) => outcomes.push(o));
    queue.start();
    return { queue, outcomes, deletions: new ShareDeletions({ queue }) };
  };
  /** Stops the process's queue, as a restart does. */
  const restart = async (queue: UploadQueue) => {
    await queue.stop();
    running.splice(running.indexOf(queue), 1);
    return start();
  };
  const drained = async (queue: UploadQueue) => {
    await vi.waitFor(() => expect(queue.pending() + queue.pendingShareUpdates()).toBe(0), WAIT);
    await queue.whenIdle();
  };
  const refusedRemovals = () => switchable.refused.get('removeShares') ?? 0;
  const filenames = async () =>
    (await real.query(Float32Array.from([1, 1, 1, 1]), { filter: { tenant: TENANT }, limit: 20 })).map((hit) => hit.payload.filename).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-deletions-'));
    real = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger: createSilentLogger() });
    switchable = new SwitchableStore(real);
  });
  afterEach(async () => {
    for (const queue of running.splice(0)) await queue.stop().catch(() => undefined);
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Indexes one image per entry through the queue while the store is up. */
  async function indexed(queue: UploadQueue, images: Record<string, { vector: number[]; share: ImageShare }>): Promise<void> {
    for (const [filename, image] of Object.entries(images)) {
      queue.enqueue({ bytes: jsonImage(image.vector), filename, tenant: TENANT, source: 'chat', share: image.share });
    }
    await drained(queue);
    expect(await filenames()).toEqual(Object.keys(images).sort());
  }

  it('applies a message, file and channel deletion made during the outage once the store is back after a restart, and removes nothing else', async () => {
    const first = start();
    await indexed(first.queue, {
      'deleted-message.png': { vector: [1, 0, 0, 0], share: share('C1', 'M1', 'F1') },
      'same-ts-other-channel.png': { vector: [0, 1, 0, 0], share: share('C2', 'M1', 'F2') },
      'deleted-file.png': { vector: [0, 0, 1, 0], share: share('C1', 'M2', 'F3') },
      'deleted-channel.png': { vector: [0, 0, 0, 1], share: share('C9', 'M3', 'F4') },
      'kept.png': { vector: [1, 1, 0, 0], share: share('C1', 'M4', 'F5') },
    });

    switchable.down = true;
    first.deletions.messageDeleted(TENANT, 'C1', 'M1');
    first.deletions.fileDeleted(TENANT, 'F3');
    first.deletions.conversationDeleted(TENANT, 'C9');
    // Another workspace's message with the same ids is another message.
    first.deletions.messageDeleted('T2', 'C1', 'M4');
    await vi.waitFor(() => expect(refusedRemovals()).toBeGreaterThan(0), WAIT);
    expect(first.queue.pendingShareUpdates()).toBe(4);

    const refusedBeforeRestart = refusedRemovals();
    const second = await restart(first.queue);
    await vi.waitFor(() => expect(refusedRemovals()).toBeGreaterThan(refusedBeforeRestart), WAIT);
    expect(await filenames()).toHaveLength(5);

    switchable.down = false;
    await drained(second.queue);
    expect(await filenames()).toEqual(['kept.png', 'same-ts-other-channel.png']);
  });

  it('is idle only once a recorded deletion has reached the store', async () => {
    const { queue, deletions } = start();
    await indexed(queue, { 'deleted.png': { vector: [1, 0, 0, 0], share: share('C1', 'M1', 'F1') } });
    const release = switchable.holdWrites(undefined, 'removeShares');
    deletions.messageDeleted(TENANT, 'C1', 'M1');
    let idle = false;
    const idled = queue.whenIdle().then(() => void (idle = true));
    // The update is being applied (held in the store): it is not due any more, yet not done.
    await vi.waitFor(() => expect(switchable.heldWrites).toBe(1), WAIT);
    expect(idle).toBe(false);
    release();
    await idled;
    expect(await filenames()).toEqual([]);
  });

  it('withdraws an upload queued before the deletion of its message, even when both wait out the outage and a restart', async () => {
    const first = start();
    switchable.down = true;
    first.queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'deleted.png', tenant: TENANT, source: 'chat', share: share('C1', 'M1', 'F1') });
    first.queue.enqueue({ bytes: jsonImage([0, 1, 0, 0]), filename: 'kept.png', tenant: TENANT, source: 'chat', share: share('C1', 'M2', 'F2') });
    await vi.waitFor(() => expect(switchable.refused.size).toBeGreaterThan(0), WAIT);
    first.deletions.messageDeleted(TENANT, 'C1', 'M1');

    const second = await restart(first.queue);
    switchable.down = false;
    await drained(second.queue);
    expect(await filenames()).toEqual(['kept.png']);
    expect(second.outcomes.map((o) => [o.image.filename, o.status]).sort()).toEqual([
      ['deleted.png', 'withdrawn'],
      ['kept.png', 'indexed'],
    ]);
  });

  it('ends an edit made during the outage with the re-uploaded attachments indexed and the removed one gone', async () => {
    const first = start();
    await indexed(first.queue, {
      'removed-by-edit.png': { vector: [1, 0, 0, 0], share: share('C1', 'M1', 'F1') },
      'kept-by-edit.png': { vector: [0, 1, 0, 0], share: share('C1', 'M1', 'F2') },
    });
    switchable.down = true;
    // Queued before the edit: it goes with the message's old shares.
    first.queue.enqueue({ bytes: jsonImage([0, 0, 1, 0]), filename: 'before-edit.png', tenant: TENANT, source: 'chat', share: share('C1', 'M1', 'F3') });
    // The edit as an adapter reports an uncached one: the shares go, what the message still holds is queued again.
    first.deletions.messageReplaced(TENANT, 'C1', 'M1');
    first.queue.enqueue({ bytes: jsonImage([0, 1, 0, 0]), filename: 'kept-by-edit.png', tenant: TENANT, source: 'chat', share: share('C1', 'M1', 'F2') });
    await vi.waitFor(() => expect(refusedRemovals()).toBeGreaterThan(0), WAIT);

    const second = await restart(first.queue);
    // Writes come back before removals (say the delete endpoint still fails): the re-upload waits
    // for the edit's removal rather than landing first and being taken off by it.
    switchable.down = false;
    switchable.failing.add('removeShares');
    const refusedBefore = refusedRemovals();
    await vi.waitFor(() => expect(refusedRemovals()).toBeGreaterThan(refusedBefore + 2), WAIT);
    expect(second.queue.pending()).toBe(1);
    switchable.failing.clear();
    await drained(second.queue);
    expect(await filenames()).toEqual(['kept-by-edit.png']);
    // The upload queued before the edit may be withdrawn before the restart: that needs no store.
    // The re-upload is embedded again, as the edit's removal took the image's last share.
    expect([...first.outcomes.slice(2), ...second.outcomes].map((o) => [o.image.filename, o.status]).sort()).toEqual([
      ['before-edit.png', 'withdrawn'],
      ['kept-by-edit.png', 'indexed'],
    ]);
  });

  it('withdraws an upload of a deleted message queued after the deletion was applied (a download under way), also after a restart', async () => {
    const first = start();
    first.deletions.messageDeleted(TENANT, 'C1', 'M1');
    first.deletions.fileDeleted(TENANT, 'F9');
    first.deletions.conversationDeleted(TENANT, 'C8');
    await drained(first.queue);

    const second = await restart(first.queue);
    for (const [filename, where] of [['message.png', share('C1', 'M1', 'F1')], ['file.png', share('C2', 'M2', 'F9')], ['channel.png', share('C8', 'M3', 'F3')]] as const) {
      second.queue.enqueue({ bytes: jsonImage([filename.length, 1, 0, 0]), filename, tenant: TENANT, source: 'chat', share: where });
    }
    await drained(second.queue);
    expect(await filenames()).toEqual([]);
    expect(second.outcomes.map((o) => o.status)).toEqual(['withdrawn', 'withdrawn', 'withdrawn']);
  });

  it('applies a deletion only after an upload of its message already being written lands, so the upload does not come back, and reports that upload withdrawn', async () => {
    const log = captureLog();
    const { queue, outcomes, deletions } = start(log.logger);
    const release = switchable.holdWrites('M1');
    queue.enqueue({ bytes: jsonImage([1, 0, 0, 0]), filename: 'in-flight.png', tenant: TENANT, source: 'chat', share: share('C1', 'M1', 'F1') });
    await vi.waitFor(() => expect(switchable.heldWrites).toBe(1), WAIT);
    deletions.messageDeleted(TENANT, 'C1', 'M1');
    // An upload queued after the deletion and indexed meanwhile shows the queue has run since.
    queue.enqueue({ bytes: jsonImage([0, 1, 0, 0]), filename: 'other.png', tenant: TENANT, source: 'chat', share: share('C1', 'M2', 'F2') });
    await vi.waitFor(() => expect(outcomes.map((o) => o.image.filename)).toEqual(['other.png']), WAIT);
    expect(log.withMsg('message deleted; its shares left the index')).toEqual([]);
    release();
    await drained(queue);
    // The uploader is not told it was indexed: the deletion takes it off right after.
    expect(outcomes.map((o) => [o.image.filename, o.status])).toEqual([
      ['other.png', 'indexed'],
      ['in-flight.png', 'withdrawn'],
    ]);
    expect(log.withMsg('message deleted; its shares left the index')).toHaveLength(1);
    expect(await filenames()).toEqual(['other.png']);
  });

  it('withdraws uploads queued by an older findimage (no matching columns yet) when their message or file is deleted after the upgrade', async () => {
    // The queue file as findimage wrote it before deletions were queued: one row in the current
    // metadata format, one in findimage 1's flat fields, one of another message.
    const db = new Database(join(dir, 'uploads.sqlite'));
    db.exec(`CREATE TABLE uploads (id TEXT PRIMARY KEY, metadata TEXT NOT NULL, bytes BLOB NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`);
    const insert = db.prepare('INSERT INTO uploads (id, metadata, bytes, next_attempt_at) VALUES (?, ?, ?, 0)');
    const createdAt = '2026-01-02T03:04:05.000Z';
    insert.run('current', JSON.stringify({ tenant: TENANT, source: 'chat', filename: 'current.png', createdAt, share: share('C1', 'M1', 'F1') }), jsonImage([1, 0, 0, 0]));
    insert.run('flat', JSON.stringify({ tenant: TENANT, source: 'chat', filename: 'flat.png', createdAt, channel: 'C1', channelIsPublic: true, messageId: 'M2', fileId: 'F2' }), jsonImage([0, 1, 0, 0]));
    insert.run('other', JSON.stringify({ tenant: TENANT, source: 'chat', filename: 'other.png', createdAt, share: share('C1', 'M3', 'F3') }), jsonImage([0, 0, 1, 0]));
    db.close();

    switchable.down = true;
    const { queue, outcomes, deletions } = start();
    deletions.messageDeleted(TENANT, 'C1', 'M1');
    deletions.fileDeleted(TENANT, 'F2');
    switchable.down = false;
    await drained(queue);
    expect(await filenames()).toEqual(['other.png']);
    expect(outcomes.map((o) => [o.image.filename, o.status]).sort()).toEqual([
      ['current.png', 'withdrawn'],
      ['flat.png', 'withdrawn'],
      ['other.png', 'indexed'],
    ]);
  });

  it('refuses a deletion naming an empty message or file, records nothing, and removes nothing', async () => {
    const first = start();
    await indexed(first.queue, { 'a.png': { vector: [1, 0, 0, 0], share: share('C1', 'M1', 'F1') } });
    expect(() => first.deletions.messageDeleted(TENANT, 'C1', '')).toThrow(expect.objectContaining({ code: 'query_invalid' }));
    expect(() => first.deletions.fileDeleted('', 'F1')).toThrow(expect.objectContaining({ code: 'query_invalid' }));
    expect(first.queue.pendingShareUpdates()).toBe(0);
    expect(await filenames()).toEqual(['a.png']);
  });
});
