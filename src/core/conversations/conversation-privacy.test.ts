// ConversationPrivacy: a conversation made private hides its images from the tenant's other
// conversations, made public shows them; a store that is briefly down is retried, quick changes
// end in the last one, and an upload indexed after the change gets the new flag too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import type { UploadOutcome } from '../indexing/upload-queue.js';
import { openSqliteVectorStore, type SqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare, PointFilter } from '../store/vector-store.js';
import { ConversationPrivacy } from './conversation-privacy.js';

const logger = createSilentLogger();
let dir: string;
let store: SqliteVectorStore;

/** What a member of #elsewhere may see: its own images and the tenant's public ones. */
const ELSEWHERE: PointFilter = { tenant: 'T1', scope: { conversations: ['C-elsewhere'], includePublic: true } };

function share(conversation: string, isPublic: boolean): ImageShare {
  return { conversation, isPublic, sharedAt: '2026-01-01T00:00:00.000Z', messageId: 'M1' };
}

async function seed(id: string, shares: ImageShare[]): Promise<void> {
  await store.upsert([
    {
      id,
      vector: Float32Array.from([1, 0, 0, 0]),
      payload: { tenant: 'T1', source: 'slack', filename: `${id}.png`, contentHash: id.replace(/-/g, '').padEnd(64, '0'), modelId: 'm', createdAt: '2026-01-01T00:00:00.000Z', width: 1, height: 1, shares },
    },
  ]);
}

const A = '00000000-0000-4000-8000-000000000001';
const B = '00000000-0000-4000-8000-000000000002';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'findimage-privacy-'));
  store = await openSqliteVectorStore({ path: join(dir, 'v.sqlite'), dimension: 4, logger });
  await seed(A, [share('C-design', true)]);
  await seed(B, [share('C-secret', false)]);
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A store whose first `failures` calls fail as an unreachable Qdrant does. */
function flaky(failures: number, code: 'store_unavailable' | 'store_auth' = 'store_unavailable') {
  const calls: boolean[] = [];
  return {
    calls,
    store: {
      setSharesPublic: async (tenant: string, conversation: string, isPublic: boolean) => {
        calls.push(isPublic);
        if (calls.length <= failures) throw new StoreError(code, 'Qdrant at http://qdrant:6333 is not reachable.');
        return store.setSharesPublic(tenant, conversation, isPublic);
      },
    },
  };
}

test('a channel made private: its images stop showing elsewhere; made public again: they are back', async () => {
  const privacy = new ConversationPrivacy({ store, logger });
  expect(await store.count(ELSEWHERE)).toBe(1);
  expect(await privacy.visibilityChanged('T1', 'C-design', false)).toBe(1);
  expect(await store.count(ELSEWHERE)).toBe(0);
  expect(await privacy.visibilityChanged('T1', 'C-design', true)).toBe(1);
  expect(await store.count(ELSEWHERE)).toBe(1);
});

test('a private channel made public: its images show elsewhere', async () => {
  const privacy = new ConversationPrivacy({ store, logger });
  expect(await privacy.visibilityChanged('T1', 'C-secret', true)).toBe(1);
  expect(await store.count(ELSEWHERE)).toBe(2);
});

test('a store that is briefly unreachable is retried until the change lands', async () => {
  const { calls, store: down } = flaky(2);
  const privacy = new ConversationPrivacy({ store: down, logger, retryDelayMs: 1 });
  expect(await privacy.visibilityChanged('T1', 'C-design', false)).toBe(1);
  expect(calls).toHaveLength(3);
  expect(await store.count(ELSEWHERE)).toBe(0);
});

test('gives up after its tries, and never retries a failure retrying cannot fix', async () => {
  const longOutage = flaky(100);
  await expect(new ConversationPrivacy({ store: longOutage.store, logger, retryDelayMs: 1, attempts: 3 }).visibilityChanged('T1', 'C-design', false)).rejects.toMatchObject({ code: 'store_unavailable' });
  expect(longOutage.calls).toHaveLength(3);
  const refused = flaky(100, 'store_auth');
  await expect(new ConversationPrivacy({ store: refused.store, logger, retryDelayMs: 1 }).visibilityChanged('T1', 'C-design', false)).rejects.toMatchObject({ code: 'store_auth' });
  expect(refused.calls).toHaveLength(1);
});

test('two quick changes of one channel end in the last one, even when the first had to be retried', async () => {
  const { store: down } = flaky(1);
  const privacy = new ConversationPrivacy({ store: down, logger, retryDelayMs: 5 });
  const first = privacy.visibilityChanged('T1', 'C-design', false);
  const second = privacy.visibilityChanged('T1', 'C-design', true);
  await Promise.all([first, second]);
  expect(await store.count(ELSEWHERE)).toBe(1);
  expect((await store.get([A]))[0]?.payload.shares[0]?.isPublic).toBe(true);
});

test('a slow change does not land after a quicker later one: changes of one channel apply in order', async () => {
  // Making private takes a while (a large channel on Qdrant); making public again is quick.
  const slowPrivate = {
    setSharesPublic: async (tenant: string, conversation: string, isPublic: boolean) => {
      if (!isPublic) await new Promise((resolve) => setTimeout(resolve, 30));
      return store.setSharesPublic(tenant, conversation, isPublic);
    },
  };
  const privacy = new ConversationPrivacy({ store: slowPrivate, logger });
  await Promise.all([privacy.visibilityChanged('T1', 'C-design', false), privacy.visibilityChanged('T1', 'C-design', true)]);
  expect(await store.count(ELSEWHERE)).toBe(1);
});

test('an upload shared before its channel turned private, and indexed after, is made private too', async () => {
  const privacy = new ConversationPrivacy({ store, logger });
  await privacy.visibilityChanged('T1', 'C-design', false);
  // The queue indexed an upload that carried the flag the channel had when it was shared.
  const C = '00000000-0000-4000-8000-000000000003';
  await seed(C, [share('C-design', true)]);
  const outcome = { status: 'indexed', jobId: 'j1', image: { tenant: 'T1', source: 'slack', filename: 'c.png', share: share('C-design', true) } } as UploadOutcome;
  expect(await privacy.recheck(outcome)).toBe(true);
  expect(await store.count(ELSEWHERE)).toBe(0);
  // One that already carries the new flag, or is from a channel that did not change, is left alone.
  expect(await privacy.recheck({ ...outcome, image: { ...outcome.image, share: share('C-design', false) } } as UploadOutcome)).toBe(false);
  expect(await privacy.recheck({ ...outcome, image: { ...outcome.image, share: share('C-other', true) } } as UploadOutcome)).toBe(false);
});

test('close() ends a change waiting to retry at once with its failure, instead of holding shutdown for the retry schedule', async () => {
  const { calls, store: down } = flaky(100);
  // An hour between tries: only close() can end the wait before the test times out.
  const privacy = new ConversationPrivacy({ store: down, logger, retryDelayMs: 3_600_000 });
  const change = privacy.visibilityChanged('T1', 'C-design', false);
  await vi.waitFor(() => expect(calls).toHaveLength(1));
  privacy.close();
  await expect(change).rejects.toMatchObject({ code: 'store_unavailable' });
  expect(calls).toHaveLength(1);
  // After close, a failure is not retried either.
  await expect(privacy.visibilityChanged('T1', 'C-design', true)).rejects.toMatchObject({ code: 'store_unavailable' });
  expect(calls).toHaveLength(2);
});

test('logs "made private" only when shares changed, with how many; a re-evaluation that changed nothing is not logged as a change', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const recording = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const privacy = new ConversationPrivacy({ store, logger: recording });
  expect(await privacy.visibilityChanged('T1', 'C-design', false)).toBe(1);
  expect(await privacy.visibilityChanged('T1', 'C-design', false)).toBe(0);
  const made = lines.filter((l) => l.msg === 'conversation made private; its images show only inside it');
  expect(made.map((l) => [l.level, l.sharesChanged])).toEqual([[30, 1]]);
  const unchanged = lines.filter((l) => l.msg === 'conversation privacy checked; no share needed changing');
  expect(unchanged.map((l) => [l.level, l.sharesChanged])).toEqual([[20, 0]]);
});
