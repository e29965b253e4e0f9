// Share writers racing inside one process on the Qdrant store: an upload adding a share, a
// message deletion removing one and a privacy change, all on the same point at the same time.
// Qdrant can only replace a point's whole `shares` array, so each writer reads, changes and
// writes; the store's per-point lock must keep one writer from undoing another. The fake holds
// one answer back until the test lets it go, so each interleaving is forced, not timed.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../../logger.js';
import { hold, type FaultTarget } from '../../../../test/fakes/qdrant/fake-faults.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { KeyedLock } from '../keyed-lock.js';
import { uuid } from '../vector-store.contract.js';
import type { ImagePayload, ImageShare, PointInput } from '../vector-store.js';
import { openQdrantStore, type QdrantStore } from './qdrant-store.js';

let fake: FakeQdrantServer;
let prefixes = 0;
const stores: QdrantStore[] = [];

/** Lock acquisitions still waiting for their key: a writer blocked behind another. */
const waiting = new Set<Promise<unknown>>();

beforeAll(async () => {
  fake = await FakeQdrantServer.start();
  const acquire = KeyedLock.prototype.acquire;
  vi.spyOn(KeyedLock.prototype, 'acquire').mockImplementation(function (this: KeyedLock, key: string) {
    const pending = acquire.call(this, key);
    waiting.add(pending);
    void pending.then(() => waiting.delete(pending));
    return pending;
  });
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  fake.faults.clear();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await fake.stop();
});

async function open(): Promise<QdrantStore> {
  prefixes += 1;
  const store = await openQdrantStore({
    url: fake.url,
    modelId: 'clip-vit-b32',
    dimension: 4,
    onDisk: false,
    quantization: false,
    logger: createSilentLogger(),
    collectionPrefix: `race${prefixes}`,
  });
  stores.push(store);
  return store;
}

function share(conversation: string, fields: Partial<ImageShare> = {}): ImageShare {
  return { conversation, isPublic: true, sharedAt: '2026-03-01T10:00:00.000Z', ...fields };
}

function point(n: number, shares: ImageShare[]): PointInput {
  const payload: ImagePayload = {
    tenant: 'T1',
    source: 'slack',
    filename: `${n}.png`,
    contentHash: 'c'.repeat(64),
    modelId: 'clip-vit-b32',
    createdAt: '2026-03-01T10:00:00.000Z',
    width: 10,
    height: 20,
    shares,
  };
  return { id: uuid(n), vector: Float32Array.from([1, 0, 0, 0]), payload };
}

/** A retrieve (read of points by id) of the store's collection. */
function isRetrieve(store: QdrantStore): (target: FaultTarget) => boolean {
  return (target) => target.method === 'POST' && target.path === `/collections/${store.collection}/points`;
}

/**
 * Waits until `work` has either finished or is blocked waiting for a point's lock: the moment
 * at which, without the lock, it would already have written.
 */
async function finishedOrBlocked(work: Promise<unknown>): Promise<void> {
  let settled = false;
  void work.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.waitFor(() => expect(settled || waiting.size > 0).toBe(true));
}

async function sharesOf(store: QdrantStore, n: number): Promise<Array<[string | undefined, boolean]>> {
  const [stored] = await store.get([uuid(n)], { tenant: 'T1' });
  return (stored?.payload.shares ?? []).map((s) => [s.messageId, s.isPublic]);
}

describe('QdrantStore share writers in one process', () => {
  it('keeps a conversation private that turned private while an upload was adding a share to the same image', async () => {
    const store = await open();
    await store.upsert([point(1, [share('C1', { messageId: 'M1' })])]);
    // The upload has read the point (C1 still public) and is about to write it back with its share.
    const held = hold();
    fake.faults.inject(held.fault, { match: isRetrieve(store) });
    const upload = store.addShares('T1', uuid(1), [share('CB', { messageId: 'MB' })]);
    await held.applied;

    const privacy = store.setSharesPublic('T1', 'C1', false);
    await finishedOrBlocked(privacy);
    held.release();

    expect(await upload).toBe(true);
    expect(await privacy).toBe(1);
    expect(await sharesOf(store, 1)).toEqual([
      ['M1', false],
      ['MB', true],
    ]);
  });

  it('does not bring back a deleted share while a privacy change rewrites the same image', async () => {
    const store = await open();
    await store.upsert([point(1, [share('C1', { messageId: 'M1' }), share('C1', { messageId: 'M2' })])]);
    // The privacy change has read the point (both messages) and is about to write it back.
    const held = hold();
    fake.faults.inject(held.fault, { match: isRetrieve(store) });
    const privacy = store.setSharesPublic('T1', 'C1', false);
    await held.applied;

    const deletion = store.removeShares({ tenant: 'T1', share: { conversations: ['C1'], messageId: 'M1' } });
    await finishedOrBlocked(deletion);
    held.release();

    expect(await privacy).toBe(2);
    expect(await deletion).toEqual({ shares: 1, points: 0 });
    expect(await sharesOf(store, 1)).toEqual([['M2', false]]);
  });

  it('adds the share an upload brings while a deletion rewrites the same image', async () => {
    const store = await open();
    await store.upsert([point(1, [share('C1', { messageId: 'M1' }), share('C1', { messageId: 'M2' })])]);
    const held = hold();
    fake.faults.inject(held.fault, { match: isRetrieve(store) });
    const deletion = store.removeShares({ tenant: 'T1', share: { conversations: ['C1'], messageId: 'M1' } });
    await held.applied;

    const upload = store.addShares('T1', uuid(1), [share('CB', { messageId: 'MB' })]);
    await finishedOrBlocked(upload);
    held.release();

    expect(await deletion).toEqual({ shares: 1, points: 0 });
    expect(await upload).toBe(true);
    expect(await sharesOf(store, 1)).toEqual([
      ['M2', true],
      ['MB', true],
    ]);
  });

  it('goes on with the rest of a privacy change when an image it read was deleted before its write', async () => {
    const store = await open();
    await store.upsert([point(1, [share('C1', { messageId: 'M1' })]), point(2, [share('C1', { messageId: 'M2' })])]);
    const held = hold();
    fake.faults.inject(held.fault, { match: isRetrieve(store) });
    const privacy = store.setSharesPublic('T1', 'C1', false);
    await held.applied;
    // Deleted by something that takes no share lock (a purge), between the read and the write.
    expect(await store.delete([uuid(1)], { tenant: 'T1' })).toBe(1);
    held.release();

    expect(await privacy).toBe(1);
    expect(await sharesOf(store, 2)).toEqual([['M2', false]]);
    expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
  });

  it('answers false, not an error, when adding a share to an image deleted between its read and its write', async () => {
    const store = await open();
    await store.upsert([point(1, [share('C1', { messageId: 'M1' })])]);
    const held = hold();
    fake.faults.inject(held.fault, { match: isRetrieve(store) });
    const upload = store.addShares('T1', uuid(1), [share('CB', { messageId: 'MB' })]);
    await held.applied;
    expect(await store.delete([uuid(1)], { tenant: 'T1' })).toBe(1);
    held.release();

    expect(await upload).toBe(false);
    expect(await store.get([uuid(1)], { tenant: 'T1' })).toEqual([]);
  });
});

describe('KeyedLock', () => {
  it('runs work on one key in the order it asked and work on another key alongside', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let letFirstFinish!: () => void;
    const gate = new Promise<void>((resolve) => (letFirstFinish = resolve));
    const first = lock.withKeys(['a'], async () => {
      order.push('a1 start');
      await gate;
      order.push('a1 end');
    });
    const second = lock.withKeys(['a'], async () => {
      order.push('a2');
    });
    await lock.withKeys(['b'], async () => {
      order.push('b');
    });
    letFirstFinish();
    await Promise.all([first, second]);
    expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
    expect(lock.size).toBe(0);
  });

  it('releases the keys when the work throws', async () => {
    const lock = new KeyedLock();
    await expect(lock.withKeys(['a', 'b'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.withKeys(['b', 'a'], async () => 'next')).toBe('next');
    expect(lock.size).toBe(0);
  });
});
