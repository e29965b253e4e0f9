// The upload queue's share-update runner on a real queue file: an update waits only for the
// uploads of its target that started before it was recorded (never for a backlog that keeps
// starting), forgetting applied updates reads the oldest upload through an index, an update that
// keeps failing is logged at error and counted while it is retried, and an outcome the queue file
// refuses leaves the update pending instead of crashing the process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { ShareUpdate, ShareUpdateStore } from '../conversations/share-updates.js';
import { FindimageError, StoreError } from '../errors.js';
import type { ImageShare } from '../store/vector-store.js';
import { captureLog } from '../testing/wait-until.js';
import type { ImageIndexer, ImageToIndex, IndexResult } from './image-indexer.js';
import { FORGET_APPLIED_SQL, RECENT_DELETIONS_KEPT } from './share-update-jobs.js';
import { SHARE_UPDATE_STUCK, SHARE_UPDATE_UNRECORDED, STUCK_AFTER_ATTEMPTS } from './share-update-runner.js';
import { UploadQueue } from './upload-queue.js';

const TENANT = 'T1';
/** Long enough for a queue on a loaded machine; conditions are polled, never slept on. */
const WAIT = { timeout: 20_000, interval: 5 };
/** Uploads of the backlog channel: many times what the queue hands the indexer at once. */
const BACKLOG = 40;
/** Uploads handed to the indexer at once. */
const HELD = 4;

/** An indexer whose every call waits until the test lets it finish, oldest first. */
class GatedIndexer {
  readonly batching = { size: 1, inFlight: 1 };
  /** The calls started, in order, with the share each upload was handed with. */
  readonly started: Array<{ filename: string; share: ImageShare | undefined }> = [];
  readonly #waiting: Array<() => void> = [];
  /** Once set, calls finish at once. */
  #open = false;

  index(image: ImageToIndex): Promise<IndexResult> {
    this.started.push({ filename: image.filename, share: image.share });
    const result = { status: 'indexed', id: image.filename } as unknown as IndexResult;
    if (this.#open) return Promise.resolve(result);
    return new Promise((resolve) => this.#waiting.push(() => resolve(result)));
  }

  /** Lets the oldest call still waiting finish. */
  releaseOldest(): void {
    this.#waiting.shift()?.();
  }

  /** Lets every call finish, now and from now on. */
  open(): void {
    this.#open = true;
    while (this.#waiting.length > 0) this.releaseOldest();
  }
}

/** A store that records the share updates made, and fails them while `failing` is set. */
class RecordingStore implements ShareUpdateStore {
  failing = false;
  readonly calls: string[] = [];

  removeShares: ShareUpdateStore['removeShares'] = async (filter) => {
    if (this.failing) throw new StoreError('store_unavailable', 'The vector store is unreachable.');
    this.calls.push(`removeShares ${JSON.stringify(filter.share)}`);
    return { shares: 0, points: 0 };
  };

  setSharesPublic: ShareUpdateStore['setSharesPublic'] = async (_tenant, conversation, isPublic) => {
    if (this.failing) throw new StoreError('store_unavailable', 'The vector store is unreachable.');
    this.calls.push(`setSharesPublic ${conversation} ${String(isPublic)}`);
    return 0;
  };
}

describe('share updates of the upload queue', () => {
  let dir: string;
  const queues: UploadQueue[] = [];
  const indexers: GatedIndexer[] = [];
  const open = (indexer: GatedIndexer, store: RecordingStore, logger = createSilentLogger(), beforeShareUpdate?: (update: ShareUpdate) => Promise<void>) => {
    const queue = new UploadQueue({
      ...(beforeShareUpdate === undefined ? {} : { beforeShareUpdate }),
      path: join(dir, 'uploads.sqlite'),
      indexer: indexer as unknown as ImageIndexer,
      store,
      logger,
      retryDelayMs: 1,
      maxRetryDelayMs: 2,
      held: HELD,
    });
    queues.push(queue);
    indexers.push(indexer);
    queue.start();
    return queue;
  };
  const upload = (queue: UploadQueue, filename: string, conversation: string, isPublic = true) =>
    queue.enqueue({ bytes: new Uint8Array([1]), filename, tenant: TENANT, source: 'chat', share: { conversation, isPublic, messageId: filename, sharedAt: '2026-01-01T00:00:00.000Z' } });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-share-updates-'));
  });
  afterEach(async () => {
    for (const indexer of indexers.splice(0)) indexer.open();
    for (const queue of queues.splice(0)) await queue.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('a privacy change, and a later deletion elsewhere, wait for the uploads started before them, not for the channel\'s backlog', async () => {
    const indexer = new GatedIndexer();
    const store = new RecordingStore();
    const queue = open(indexer, store);
    for (let i = 0; i < BACKLOG; i++) upload(queue, `c1-${i}.png`, 'C1');
    await vi.waitFor(() => expect(indexer.started).toHaveLength(HELD), WAIT);

    queue.recordShareUpdate({ kind: 'conversation_visibility_changed', tenant: TENANT, conversation: 'C1', isPublic: false });
    queue.recordShareUpdate({ kind: 'message_deleted', tenant: TENANT, conversation: 'C2', messageId: 'M9' });
    // Uploads finish one at a time, and each frees a place another upload of C1 takes: one is
    // always being indexed. The change waits for the HELD that started before it, and only them.
    for (let released = 1; released <= HELD; released++) {
      expect(store.calls).toEqual([]);
      indexer.releaseOldest();
      await vi.waitFor(() => expect(indexer.started).toHaveLength(HELD + released), WAIT);
    }
    await vi.waitFor(() => expect(store.calls).toEqual(['setSharesPublic C1 false', 'removeShares {"conversations":["C2"],"messageId":"M9"}']), WAIT);
    expect(queue.pending()).toBeGreaterThan(BACKLOG - 2 * HELD);
    // Those started after the change was recorded were handed the new flag when picked.
    expect(indexer.started.slice(0, HELD).map((call) => call.share?.isPublic)).toEqual(Array(HELD).fill(true));
    expect(indexer.started.slice(HELD).map((call) => call.share?.isPublic)).toEqual(Array(indexer.started.length - HELD).fill(false));
    indexer.open();
    await vi.waitFor(() => expect(queue.pending()).toBe(0), WAIT);
  });

  it('forgets applied updates by reading the oldest queued upload through an index, also in a file queued before the index existed', async () => {
    const path = join(dir, 'uploads.sqlite');
    const plan = (db: Database.Database) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${FORGET_APPLIED_SQL}`).all(RECENT_DELETIONS_KEPT) as Array<{ detail: string }>).map((row) => row.detail);
    await open(new GatedIndexer(), new RecordingStore()).stop();
    const db = new Database(path);
    expect(plan(db)).toContainEqual(expect.stringMatching(/^SEARCH uploads USING COVERING INDEX uploads_after_update/));
    // A file written by a findimage whose migration did not make the index yet: every row read.
    db.exec('DROP INDEX uploads_after_update');
    expect(plan(db)).toContainEqual(expect.stringMatching(/^(SCAN|SEARCH) uploads$/));
    db.close();

    await open(new GatedIndexer(), new RecordingStore()).stop();
    const reopened = new Database(path);
    expect(plan(reopened)).toContainEqual(expect.stringMatching(/^SEARCH uploads USING COVERING INDEX uploads_after_update/));
    reopened.close();
  });

  it(`an update failing ${STUCK_AFTER_ATTEMPTS} times is logged at error with a code and counted as stuck; it and those behind it are kept and applied once the store is back`, async () => {
    const log = captureLog('debug');
    const store = new RecordingStore();
    store.failing = true;
    const queue = open(new GatedIndexer(), store, log.logger);
    queue.recordShareUpdate({ kind: 'message_deleted', tenant: TENANT, conversation: 'C1', messageId: 'M1' });
    queue.recordShareUpdate({ kind: 'file_deleted', tenant: TENANT, fileId: 'F1' });

    const stuck = await log.waitFor((line) => line.code === SHARE_UPDATE_STUCK, 'a stuck share update');
    expect(stuck).toMatchObject({ level: 50, kind: 'message_deleted', errorCode: 'store_unavailable', attempts: STUCK_AFTER_ATTEMPTS });
    expect(log.lines.filter((line) => line.msg === 'share update will be retried')).toHaveLength(STUCK_AFTER_ATTEMPTS - 1);
    expect(queue.shareUpdateStats()).toEqual({ pending: 2, stuck: 1 });

    store.failing = false;
    await vi.waitFor(() => expect(queue.shareUpdateStats()).toEqual({ pending: 0, stuck: 0 }), WAIT);
    expect(store.calls).toEqual(['removeShares {"conversations":["C1"],"messageId":"M1"}', 'removeShares {"fileId":"F1"}']);
  });

  it('marks each update (the fleet\'s hook) before each try at the store; while marking fails it applies the update anyway and tries both again until the mark is set', async () => {
    const store = new RecordingStore();
    let failures = 3;
    const queue = open(new GatedIndexer(), store, createSilentLogger(), async (update) => {
      // Settles a turn later, as a Redis round trip does: an apply not waiting for it comes first.
      await new Promise((resolve) => setImmediate(resolve));
      if (failures-- > 0) {
        store.calls.push(`mark of ${update.kind} failed`);
        throw new FindimageError('internal', 'the mark could not be set');
      }
      store.calls.push(`marked ${update.kind}`);
    });
    queue.recordShareUpdate({ kind: 'message_deleted', tenant: TENANT, conversation: 'C1', messageId: 'M1' });
    await vi.waitFor(() => expect(queue.shareUpdateStats()).toEqual({ pending: 0, stuck: 0 }), WAIT);
    const apply = 'removeShares {"conversations":["C1"],"messageId":"M1"}';
    expect(store.calls).toEqual([
      ...Array.from({ length: 3 }, () => ['mark of message_deleted failed', apply]).flat(),
      'marked message_deleted',
      apply,
    ]);
  });

  it('an update whose outcome the queue file refuses (disk full) stays pending, is logged, and does not crash the process', async () => {
    const log = captureLog('debug');
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const store = new RecordingStore();
      const queue = open(new GatedIndexer(), store, log.logger);
      // What a full disk does to the queue's next write: marking the update applied fails.
      const other = new Database(join(dir, 'uploads.sqlite'));
      other.exec("CREATE TRIGGER disk_full BEFORE UPDATE OF applied ON share_updates BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
      queue.recordShareUpdate({ kind: 'conversation_deleted', tenant: TENANT, conversation: 'C1' });

      const refused = await log.waitFor((line) => line.code === SHARE_UPDATE_UNRECORDED, 'an outcome not written');
      expect(refused).toMatchObject({ level: 50, seq: 1 });
      expect(queue.pendingShareUpdates()).toBe(1);

      other.exec('DROP TRIGGER disk_full');
      other.close();
      await vi.waitFor(() => expect(queue.pendingShareUpdates()).toBe(0), WAIT);
      // Applied again on the retry: a deletion is harmless twice; losing it is not.
      expect(store.calls.at(-1)).toBe('removeShares {"conversations":["C1"]}');
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
