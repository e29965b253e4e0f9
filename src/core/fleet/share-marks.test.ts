// ShareMarks against a real redis-server: a deletion marks exactly the shares it removes (its
// message, its file wherever shared, its whole conversation), an edit marks nothing, a privacy
// change marks its conversation's latest flag, every mark expires, and a Redis outage is a
// transient error (the replica retries the update, the worker the job). Also the rule by which
// a marked privacy overrides an upload's flag: "private" always, "public" only when news.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { isTransient } from '../errors.js';
import { TestRedisServer } from '../testing/redis-server.js';
import { waitUntil } from '../testing/wait-until.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { SHARE_MARK_TTL_SECONDS, ShareMarks, flagWithMarks, messageRemovedKey, visibilityKey } from './share-marks.js';

const T = 'T1';
const inC1 = (messageId: string, fileId?: string) => ({ tenant: T, share: { conversation: 'C1', messageId, ...(fileId === undefined ? {} : { fileId }) } });

describe('ShareMarks', () => {
  let server: TestRedisServer;
  let redis: Redis;
  let marks: ShareMarks;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    redis = openRedis({ url: server.url, role: 'quick', logger: createSilentLogger() });
    await waitUntil(() => redis.status === 'ready', 'the connection');
    marks = new ShareMarks({ redis });
  });
  afterEach(async () => {
    await redis.flushall();
  });
  afterAll(async () => {
    await closeRedis(redis);
    await server.remove();
  });

  it('marks a deleted message for the shares of that message only, with the update that removed it', async () => {
    const update = { kind: 'message_deleted', tenant: T, conversation: 'C1', messageId: 'M1' } as const;
    await marks.record(update);
    expect(await marks.about(inC1('M1'))).toEqual({ removedBy: update });
    expect(await marks.about(inC1('M2'))).toEqual({});
    expect(await marks.about({ tenant: T, share: { conversation: 'C2', messageId: 'M1' } })).toEqual({});
    expect(await marks.about({ tenant: 'T2', share: { conversation: 'C1', messageId: 'M1' } })).toEqual({});
  });

  it('marks a deleted file wherever it was shared, and a deleted conversation for every share in it', async () => {
    await marks.record({ kind: 'file_deleted', tenant: T, fileId: 'F1' });
    expect((await marks.about({ tenant: T, share: { conversation: 'C9', messageId: 'M9', fileId: 'F1' } })).removedBy).toMatchObject({ kind: 'file_deleted' });
    expect(await marks.about(inC1('M1', 'F2'))).toEqual({});
    await marks.record({ kind: 'conversation_deleted', tenant: T, conversation: 'C1' });
    expect((await marks.about(inC1('M1', 'F2'))).removedBy).toMatchObject({ kind: 'conversation_deleted', conversation: 'C1' });
    expect((await marks.about({ tenant: T, share: { conversation: 'C1' } })).removedBy).toMatchObject({ kind: 'conversation_deleted' });
  });

  it('marks nothing for an edit: the edited message\'s new attachments must be indexed', async () => {
    await marks.record({ kind: 'message_replaced', tenant: T, conversation: 'C1', messageId: 'M1' });
    expect(await marks.about(inC1('M1'))).toEqual({});
    expect(await redis.dbsize()).toBe(0);
  });

  it('keeps a conversation\'s latest privacy flag, and says when it was marked', async () => {
    const before = Date.now();
    await marks.record({ kind: 'conversation_visibility_changed', tenant: T, conversation: 'C1', isPublic: false });
    expect((await marks.about(inC1('M1'))).visibility).toEqual({ isPublic: false, markedAt: expect.any(Number) });
    await marks.record({ kind: 'conversation_visibility_changed', tenant: T, conversation: 'C1', isPublic: true });
    const { visibility } = await marks.about(inC1('M1'));
    expect(visibility?.isPublic).toBe(true);
    expect(visibility?.markedAt).toBeGreaterThanOrEqual(before);
    expect(await marks.about({ tenant: T, share: { conversation: 'C2' } })).toEqual({});
  });

  it('lets every mark expire, long after any job could have run', async () => {
    await marks.record({ kind: 'message_deleted', tenant: T, conversation: 'C1', messageId: 'M1' });
    await marks.record({ kind: 'conversation_visibility_changed', tenant: T, conversation: 'C1', isPublic: false });
    for (const key of [messageRemovedKey(T, 'C1', 'M1'), visibilityKey(T, 'C1')]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(SHARE_MARK_TTL_SECONDS - 60);
      expect(ttl).toBeLessThanOrEqual(SHARE_MARK_TTL_SECONDS);
    }
  });

  it('never looks up an image without a share (a folder image)', async () => {
    expect(await marks.about({ tenant: T })).toEqual({});
  });

  it('refuses a mark it cannot read instead of taking it for no mark', async () => {
    await redis.set(messageRemovedKey(T, 'C1', 'M1'), '{"kind":"message_deleted"}');
    await expect(marks.about(inC1('M1'))).rejects.toMatchObject({ code: 'internal' });
    await redis.flushall();
    await redis.set(visibilityKey(T, 'C1'), 'yes');
    await expect(marks.about(inC1('M1'))).rejects.toMatchObject({ code: 'internal' });
  });

  it('fails with a transient store_unavailable while Redis is down, so the caller retries', async () => {
    const away = openRedis({ url: 'redis://127.0.0.1:1', role: 'quick', logger: createSilentLogger() });
    try {
      const offline = new ShareMarks({ redis: away });
      for (const call of [offline.record({ kind: 'file_deleted', tenant: T, fileId: 'F1' }), offline.about(inC1('M1'))]) {
        const error = await call.then(() => undefined, (thrown: unknown) => thrown);
        expect(error).toMatchObject({ code: 'store_unavailable' });
        expect(isTransient(error as never)).toBe(true);
      }
    } finally {
      away.disconnect();
    }
  });
});

describe('flagWithMarks', () => {
  const jobAddedAt = 1_000;
  it('keeps the upload\'s flag without a mark, or when the mark agrees', () => {
    expect(flagWithMarks(true, undefined, jobAddedAt)).toBe(true);
    expect(flagWithMarks(false, { isPublic: false, markedAt: 0 }, jobAddedAt)).toBe(false);
  });
  it('makes an upload private when its conversation was marked private, however long ago (fails closed)', () => {
    expect(flagWithMarks(true, { isPublic: false, markedAt: 0 }, jobAddedAt)).toBe(false);
    expect(flagWithMarks(true, { isPublic: false, markedAt: 2_000 }, jobAddedAt)).toBe(false);
  });
  it('makes a private upload public only when the conversation was marked public after the job was added', () => {
    expect(flagWithMarks(false, { isPublic: true, markedAt: 2_000 }, jobAddedAt)).toBe(true);
    // An old "public" mark is no news: the upload's own lookup came later.
    expect(flagWithMarks(false, { isPublic: true, markedAt: 500 }, jobAddedAt)).toBe(false);
  });
});
