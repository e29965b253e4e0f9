// ConversationPrivacy: a conversation made private hides its images from the tenant's other
// conversations, made public shows them. Each change is a job of the durable upload queue: it is
// kept while the store is down and across a restart, an upload queued before it and written after
// it takes the new flag (an older recorded "public" never overrides a private upload), a flood of
// changes loses none, and quick changes end in the last one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { ImageIndexer } from '../indexing/image-indexer.js';
import { UploadQueue } from '../indexing/upload-queue.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, PointFilter, PointInput, VectorStore } from '../store/vector-store.js';
import { jsonImage, prepareJsonImage } from '../testing/json-images.js';
import { KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { SwitchableStore } from '../testing/switchable-store.js';
import { captureLog } from '../testing/wait-until.js';
import { ConversationPrivacy } from './conversation-privacy.js';
import { shareUpdateOf } from './share-updates.js';

const TENANT = 'T1';
/** Long enough for a queue on a loaded machine; conditions are polled, never slept on. */
const WAIT = { timeout: 20_000, interval: 10 };
/** More conversations than the in-memory map of earlier versions kept (1,000). */
const FLOOD = 1_200;
/** The flood applies one job (an fsynced commit or two) per conversation: seconds on a loaded machine. */
const FLOOD_WAIT = { timeout: 120_000, interval: 50 };

/** What a member of #elsewhere may see: its own images and the tenant's public ones. */
const ELSEWHERE: PointFilter = { tenant: TENANT, scope: { conversations: ['C-elsewhere'], includePublic: true } };

function share(conversation: string, isPublic: boolean, messageId = 'M1'): ImageShare {
  return { conversation, isPublic, sharedAt: '2026-01-01T00:00:00.000Z', messageId };
}

describe('conversation privacy changes, as durable jobs of the upload queue', () => {
  let dir: string;
  let real: VectorStore;
  let switchable: SwitchableStore;
  const running: UploadQueue[] = [];

  /** A queue and its privacy service on the data dir, as findimage opens them at start. */
  const start = (logger = createSilentLogger()) => {
    const indexer = new ImageIndexer({ embedder: new KnownVectorEmbedder(4), store: switchable.store, prepare: prepareJsonImage, logger });
    const queue = new UploadQueue({ path: join(dir, 'uploads.sqlite'), indexer, store: switchable.store, logger, retryDelayMs: 5, maxRetryDelayMs: 20, maxAttempts: 1_000 });
    running.push(queue);
    queue.start();
    return { queue, privacy: new ConversationPrivacy({ queue }) };
  };
  /** Stops the process's queue, as a restart does, and starts another on the same data dir. */
  const restart = async (queue: UploadQueue, logger = createSilentLogger()) => {
    await queue.stop();
    running.splice(running.indexOf(queue), 1);
    return start(logger);
  };
  const drained = async (queue: UploadQueue, wait = WAIT) => {
    await vi.waitFor(() => expect(queue.pending() + queue.pendingShareUpdates()).toBe(0), wait);
    await queue.whenIdle();
  };
  const upload = (queue: UploadQueue, filename: string, shared: ImageShare, vector = [1, 0, 0, 0]) =>
    queue.enqueue({ bytes: jsonImage(vector), filename, tenant: TENANT, source: 'chat', share: shared });
  /** The flag of every share in `conversation`, by filename. */
  const flagsIn = async (conversation: string) => {
    const hits = await real.query(Float32Array.from([1, 1, 1, 1]), { filter: { tenant: TENANT, share: { conversations: [conversation] } }, limit: 50 });
    return Object.fromEntries(hits.map((hit) => [hit.payload.filename, hit.payload.shares.find((s) => s.conversation === conversation)?.isPublic]));
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-privacy-'));
    real = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger: createSilentLogger() });
    switchable = new SwitchableStore(real);
  });
  afterEach(async () => {
    for (const queue of running.splice(0)) await queue.stop().catch(() => undefined);
    await real.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a channel made private stops showing its images elsewhere; made public again, they are back; logged with the count', async () => {
    const log = captureLog('debug');
    const { queue, privacy } = start(log.logger);
    upload(queue, 'design.png', share('C-design', true));
    upload(queue, 'secret.png', share('C-secret', false), [0, 1, 0, 0]);
    await drained(queue);
    expect(await real.count(ELSEWHERE)).toBe(1);

    privacy.visibilityChanged(TENANT, 'C-design', false);
    await drained(queue);
    expect(await real.count(ELSEWHERE)).toBe(0);
    expect(log.withMsg('conversation made private; its images show only inside it')).toMatchObject([{ conversation: 'C-design', sharesChanged: 1, level: 30 }]);

    privacy.visibilityChanged(TENANT, 'C-design', true);
    privacy.visibilityChanged(TENANT, 'C-secret', true);
    await drained(queue);
    expect(await real.count(ELSEWHERE)).toBe(2);

    // A change that finds every share already so (a role change re-evaluating a whole guild) is
    // not reported as news, but its count is logged.
    privacy.visibilityChanged(TENANT, 'C-design', true);
    await drained(queue);
    expect(log.withMsg('conversation made public; its images show in other conversations')).toHaveLength(2);
    expect(log.withMsg('conversation privacy change applied; no share in it had another flag')).toMatchObject([{ conversation: 'C-design', sharesChanged: 0, level: 20 }]);
  });

  it('a change made while the store is down is kept across a restart and applied once the store is back', async () => {
    const first = start();
    upload(first.queue, 'design.png', share('C-design', true));
    await drained(first.queue);

    switchable.down = true;
    first.privacy.visibilityChanged(TENANT, 'C-design', false);
    await vi.waitFor(() => expect(switchable.refusedCalls('setSharesPublic')).toBeGreaterThan(0), WAIT);
    expect(first.queue.pendingShareUpdates()).toBe(1);

    const second = await restart(first.queue);
    const refusedBefore = switchable.refusedCalls('setSharesPublic');
    await vi.waitFor(() => expect(switchable.refusedCalls('setSharesPublic')).toBeGreaterThan(refusedBefore), WAIT);
    expect(await flagsIn('C-design')).toEqual({ 'design.png': true });

    switchable.down = false;
    await drained(second.queue);
    expect(await flagsIn('C-design')).toEqual({ 'design.png': false });
    expect(await real.count(ELSEWHERE)).toBe(0);
  });

  it('an upload queued before its channel was made private, and written after the change was applied, is private', async () => {
    const { queue, privacy } = start();
    // Writes fail (the upload waits in the queue) while flag changes go through.
    switchable.failing.add('upsert');
    upload(queue, 'before-change.png', share('C-design', true));
    await vi.waitFor(() => expect(switchable.refusedCalls('upsert')).toBeGreaterThan(0), WAIT);
    privacy.visibilityChanged(TENANT, 'C-design', false);
    await vi.waitFor(() => expect(queue.pendingShareUpdates()).toBe(0), WAIT);
    expect(queue.pending()).toBe(1);

    switchable.failing.clear();
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'before-change.png': false });
    expect(await real.count(ELSEWHERE)).toBe(0);
  });

  it('an upload queued before the change is private also when it is written after a restart', async () => {
    const first = start();
    switchable.failing.add('upsert');
    upload(first.queue, 'before-change.png', share('C-design', true));
    await vi.waitFor(() => expect(switchable.refusedCalls('upsert')).toBeGreaterThan(0), WAIT);
    first.privacy.visibilityChanged(TENANT, 'C-design', false);
    await vi.waitFor(() => expect(first.queue.pendingShareUpdates()).toBe(0), WAIT);

    const second = await restart(first.queue);
    switchable.failing.clear();
    await drained(second.queue);
    expect(await flagsIn('C-design')).toEqual({ 'before-change.png': false });
  });

  it('a change recorded while an upload of the channel is being written is applied after that write', async () => {
    const log = captureLog('debug');
    const { queue, privacy } = start(log.logger);
    const release = switchable.holdWrites();
    upload(queue, 'being-written.png', share('C-design', true));
    await vi.waitFor(() => expect(switchable.heldWrites).toBe(1), WAIT);
    // The upload already has its flag (public); the change must not land before its write.
    privacy.visibilityChanged(TENANT, 'C-design', false);
    // The queue has looked at the change: it either waits (right) or went ahead (wrong).
    await vi.waitFor(
      () => expect(log.withMsg('share update waits for an upload of its target being indexed').length + (switchable.made.get('setSharesPublic') ?? 0)).toBeGreaterThan(0),
      WAIT,
    );
    release();
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'being-written.png': false });
  });

  it('an upload queued after a change still waiting for the store is not held back, and is written with the new flag', async () => {
    const { queue, privacy } = start();
    switchable.failing.add('setSharesPublic');
    privacy.visibilityChanged(TENANT, 'C-design', false);
    await vi.waitFor(() => expect(switchable.refusedCalls('setSharesPublic')).toBeGreaterThan(0), WAIT);
    upload(queue, 'after-change.png', share('C-design', true));
    await vi.waitFor(() => expect(queue.pending()).toBe(0), WAIT);
    expect(queue.pendingShareUpdates()).toBe(1);
    expect(await flagsIn('C-design')).toEqual({ 'after-change.png': false });
    switchable.failing.clear();
    await drained(queue);
  });

  it('an old "public" record does not make an upload queued after it public: the platform said private since (a change missed while down)', async () => {
    const { queue, privacy } = start();
    privacy.visibilityChanged(TENANT, 'C-design', true);
    await drained(queue);
    // Made private while findimage was not running: no event came, but the lookup at share time
    // says private, and that is newer than the recorded flag.
    upload(queue, 'new-private.png', share('C-design', false));
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'new-private.png': false });
    expect(await real.count(ELSEWHERE)).toBe(0);
  });

  it('a "public" change recorded after an upload was queued is news to it: the upload is written public', async () => {
    const { queue, privacy } = start();
    switchable.failing.add('upsert');
    upload(queue, 'before-change.png', share('C-design', false));
    await vi.waitFor(() => expect(switchable.refusedCalls('upsert')).toBeGreaterThan(0), WAIT);
    privacy.visibilityChanged(TENANT, 'C-design', true);
    await vi.waitFor(() => expect(queue.pendingShareUpdates()).toBe(0), WAIT);
    switchable.failing.clear();
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'before-change.png': true });
  });

  it(`loses no change in a flood of ${FLOOD} conversations made private during an outage and a restart`, async () => {
    // One image per conversation, written straight to the store (the queue is not what is tested here).
    const points: PointInput[] = Array.from({ length: FLOOD }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      vector: Float32Array.from([1, 0, 0, 0]),
      payload: { tenant: TENANT, source: 'chat', filename: `c${i}.png`, contentHash: String(i + 1).padStart(64, '0'), modelId: 'm', createdAt: '2026-01-01T00:00:00.000Z', width: 1, height: 1, shares: [share(`C${i}`, true)] },
    }));
    await real.upsert(points);
    expect(await real.count(ELSEWHERE)).toBe(FLOOD);

    const first = start();
    switchable.down = true;
    // An upload of the first conversation, queued before the flood, written after it.
    upload(first.queue, 'before-flood.png', share('C0', true, 'M2'), [0, 1, 0, 0]);
    for (let i = 0; i < FLOOD; i++) first.privacy.visibilityChanged(TENANT, `C${i}`, false);
    const second = await restart(first.queue);
    switchable.down = false;
    await drained(second.queue, FLOOD_WAIT);
    expect(await real.count(ELSEWHERE)).toBe(0);
    expect(await flagsIn('C0')).toEqual({ 'c0.png': false, 'before-flood.png': false });
  }, 180_000);

  it('made private then public again quickly ends public, also for an upload queued before both', async () => {
    const { queue, privacy } = start();
    upload(queue, 'design.png', share('C-design', true));
    await drained(queue);

    // The upload waits (writes fail) while both changes are applied; it is written after them.
    switchable.failing.add('upsert');
    upload(queue, 'before-changes.png', share('C-design', true, 'M2'), [0, 1, 0, 0]);
    privacy.visibilityChanged(TENANT, 'C-design', false);
    privacy.visibilityChanged(TENANT, 'C-design', true);
    await vi.waitFor(() => expect(queue.pendingShareUpdates()).toBe(0), WAIT);
    switchable.failing.clear();
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'design.png': true, 'before-changes.png': true });
    expect(await real.count(ELSEWHERE)).toBe(2);
  });

  it('made public then private again quickly ends private, for the image indexed before and the upload queued before', async () => {
    const { queue, privacy } = start();
    upload(queue, 'design.png', share('C-design', false));
    await drained(queue);

    // The upload waits (writes fail) while both changes are applied; it is written after them.
    switchable.failing.add('upsert');
    upload(queue, 'before-changes.png', share('C-design', false, 'M2'), [0, 1, 0, 0]);
    privacy.visibilityChanged(TENANT, 'C-design', true);
    privacy.visibilityChanged(TENANT, 'C-design', false);
    await vi.waitFor(() => expect(queue.pendingShareUpdates()).toBe(0), WAIT);
    switchable.failing.clear();
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'design.png': false, 'before-changes.png': false });
  });

  it('another tenant\'s conversation with the same id is left alone, and its uploads keep their flag', async () => {
    const { queue, privacy } = start();
    upload(queue, 'before.png', share('C-design', true));
    await drained(queue);
    privacy.visibilityChanged('T2', 'C-design', false);
    await drained(queue);
    upload(queue, 'after.png', share('C-design', true, 'M2'), [0, 1, 0, 0]);
    await drained(queue);
    expect(await flagsIn('C-design')).toEqual({ 'before.png': true, 'after.png': true });
  });

  it('never applies a recorded change whose flag is not a boolean (a row no findimage wrote)', () => {
    expect(() => shareUpdateOf(JSON.stringify({ kind: 'conversation_visibility_changed', tenant: TENANT, conversation: 'C1', isPublic: 'false' }))).toThrow(/flag/);
    expect(() => shareUpdateOf(JSON.stringify({ kind: 'conversation_visibility_changed', tenant: TENANT, conversation: 'C1' }))).toThrow(/flag/);
    expect(shareUpdateOf(JSON.stringify({ kind: 'conversation_visibility_changed', tenant: TENANT, conversation: 'C1', isPublic: false }))).toMatchObject({ isPublic: false });
  });

  it('refuses a change without a conversation, recording nothing', () => {
    const { queue, privacy } = start();
    expect(() => privacy.visibilityChanged(TENANT, '', false)).toThrow(expect.objectContaining({ code: 'query_invalid' }));
    expect(queue.pendingShareUpdates()).toBe(0);
  });
});
