// The behaviour every LabelStore must show, run against each implementation (SQLite, Qdrant):
// queries, result messages (several per shared message) and labels per tenant, exactly as saved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabelStore, QueryRecord } from './label-store.js';

export type OpenLabelStore = () => Promise<{ store: LabelStore; cleanup: () => Promise<void> }>;

export const exampleQuery = (overrides: Partial<QueryRecord> = {}): QueryRecord => ({
  queryId: 'q1',
  tenant: 'T1',
  kind: 'text',
  text: 'red car in:<#C2|design> -truck',
  searchText: 'red car',
  negativeTerms: ['truck'],
  scope: { tenant: 'T1', channels: ['C1'], includePublic: true },
  filters: { channels: ['C2'], after: new Date('2026-01-11T00:00:00.000Z') },
  user: 'U1',
  conversation: 'C1',
  createdAt: new Date('2026-02-01T10:00:00.000Z'),
  ...overrides,
});

export function describeLabelStoreContract(name: string, open: OpenLabelStore): void {
  describe(`LabelStore contract: ${name}`, () => {
    let store: LabelStore;
    let cleanup: () => Promise<void>;
    const query = exampleQuery;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('gives back a logged query with its scope, filters and dates intact, only within its tenant', async () => {
      await store.recordQuery(query());
      expect(await store.getQuery('T1', 'q1')).toEqual(query());
      expect(await store.getQuery('T2', 'q1')).toBeUndefined();
      expect(await store.getQuery('T1', 'q-other')).toBeUndefined();
    });

    it('keeps the snapshot of an image query so its pages can be served later', async () => {
      const record = query({ queryId: 'q2', kind: 'image', snapshot: [{ imageId: 'i1', score: 0.9 }, { imageId: 'i2', score: 0.5 }] });
      await store.recordQuery(record);
      expect((await store.getQuery('T1', 'q2'))?.snapshot).toEqual([{ imageId: 'i1', score: 0.9 }, { imageId: 'i2', score: 0.5 }]);
    });

    it('keeps every result a shared message shows, by rank, only in its tenant and conversation', async () => {
      const second = { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i2', rank: 2, score: 0.28, postedBy: 'U7' };
      const first = { ...second, imageId: 'i1', rank: 1, score: 0.31 };
      await store.recordResultMessage(second);
      await store.recordResultMessage(first);
      expect(await store.findResultMessages('T1', 'C1', '100.1')).toEqual([first, second]);
      expect(await store.findResultMessages('T1', 'C2', '100.1')).toEqual([]);
      expect(await store.findResultMessages('T2', 'C1', '100.1')).toEqual([]);
      expect(await store.findResultMessages('T1', 'C1', '100.2')).toEqual([]);
    });

    it('records the same result of a message once, keeping the first record', async () => {
      const message = { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.31 };
      await store.recordResultMessage(message);
      await store.recordResultMessage({ ...message, rank: 4, score: 0.1, postedBy: 'U2' });
      expect(await store.findResultMessages('T1', 'C1', '100.1')).toEqual([message]);
      expect(await store.resultMessagesForQuery('T1', 'q1')).toEqual([message]);
    });

    it('refuses a result of another query on a message, because a vote there could not be attributed', async () => {
      const message = { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.31 };
      await store.recordResultMessage(message);
      for (const imageId of ['i1', 'i2']) {
        await expect(store.recordResultMessage({ ...message, queryId: 'q2', imageId })).rejects.toThrow(
          'Message 100.1 already shows the results of another query; one message answers one query.',
        );
      }
      expect(await store.findResultMessages('T1', 'C1', '100.1')).toEqual([message]);
      // The same message id in another conversation is another message.
      await store.recordResultMessage({ ...message, conversation: 'C2', queryId: 'q2' });
      expect((await store.findResultMessages('T1', 'C2', '100.1')).map((m) => m.queryId)).toEqual(['q2']);
    });

    it('lists the result messages of a query by rank', async () => {
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '3', queryId: 'q1', imageId: 'c', rank: 3, score: 0.1 });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'a', rank: 1, score: 0.3 });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '2', queryId: 'q9', imageId: 'b', rank: 2, score: 0.2 });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'd', rank: 2, score: 0.2 });
      await store.recordResultMessage({ tenant: 'T2', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'e', rank: 1, score: 0.2 });
      expect((await store.resultMessagesForQuery('T1', 'q1')).map((m) => m.imageId)).toEqual(['a', 'd', 'c']);
    });

    it('records a +1 and a -1 from one user as two labels, and removes only the one taken back', async () => {
      const base = { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1' };
      const up = await store.addLabel({ ...base, value: 1, createdAt: new Date('2026-02-01T10:00:00.000Z') });
      await store.addLabel({ ...base, value: -1, createdAt: new Date('2026-02-01T10:00:01.000Z') });
      expect(up).toEqual({ ...base, value: 1, createdAt: new Date('2026-02-01T10:00:00.000Z') });
      expect((await store.listLabels({ tenant: 'T1' })).map((l) => l.value)).toEqual([1, -1]);

      expect(await store.removeLabel({ tenant: 'T1', queryId: 'q1', imageId: 'i1', user: 'U1', value: 1 })).toBe(true);
      expect(await store.removeLabel({ tenant: 'T1', queryId: 'q1', imageId: 'i1', user: 'U1', value: 1 })).toBe(false);
      expect(await store.listLabels({ tenant: 'T1' })).toEqual([
        { ...base, value: -1, createdAt: new Date('2026-02-01T10:00:01.000Z') },
      ]);
    });

    it('keeps the model a labelled search ran with, and leaves it out when not given', async () => {
      const base = { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1' };
      const given = await store.addLabel({ ...base, value: 1, modelId: 'clip-vit-b32', createdAt: new Date('2026-02-01T10:00:00.000Z') });
      await store.addLabel({ ...base, value: -1, createdAt: new Date('2026-02-01T10:00:01.000Z') });
      expect(given.modelId).toBe('clip-vit-b32');
      expect(await store.listLabels({ tenant: 'T1' })).toEqual([
        { ...base, value: 1, modelId: 'clip-vit-b32', createdAt: new Date('2026-02-01T10:00:00.000Z') },
        { ...base, value: -1, createdAt: new Date('2026-02-01T10:00:01.000Z') },
      ]);
      const again = await store.addLabel({ ...base, value: 1, modelId: 'other-model' });
      expect(again.modelId).toBe('clip-vit-b32');
    });

    it('keeps the first label when the same reaction is recorded twice', async () => {
      const base = { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1 as const };
      await store.addLabel({ ...base, createdAt: new Date('2026-02-01T10:00:00.000Z') });
      const again = await store.addLabel({ ...base, createdAt: new Date('2026-02-02T10:00:00.000Z') });
      expect(again.createdAt).toEqual(new Date('2026-02-01T10:00:00.000Z'));
      expect(await store.listLabels({ tenant: 'T1' })).toHaveLength(1);
    });

    it('filters labels by query, image and user, never across tenants', async () => {
      await store.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'a', imageId: 'i1', user: 'U1', value: 1 });
      await store.addLabel({ tenant: 'T1', queryId: 'q2', queryText: 'b', imageId: 'i1', user: 'U2', value: -1 });
      await store.addLabel({ tenant: 'T2', queryId: 'q1', queryText: 'a', imageId: 'i1', user: 'U1', value: 1 });
      expect((await store.listLabels({ tenant: 'T1', imageId: 'i1' })).map((l) => l.queryId)).toEqual(['q1', 'q2']);
      expect((await store.listLabels({ tenant: 'T1', queryId: 'q2' })).map((l) => l.user)).toEqual(['U2']);
      expect((await store.listLabels({ tenant: 'T1', user: 'U1' })).map((l) => l.queryId)).toEqual(['q1']);
      expect(await store.listLabels({ tenant: 'T3' })).toEqual([]);
    });

    it('exports every tenant\'s queries, result messages and labels', async () => {
      await store.recordQuery(query());
      await store.recordQuery(query({ tenant: 'T2', queryId: 'q9', scope: { tenant: 'T2' }, createdAt: new Date('2026-02-02T10:00:00.000Z') }));
      const shared = { tenant: 'T2', conversation: 'C9', messageId: '9', queryId: 'q9', rank: 1, score: 0.2, postedBy: 'U9' };
      await store.recordResultMessage({ ...shared, imageId: 'i8', rank: 2 });
      await store.recordResultMessage({ ...shared, imageId: 'i9' });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.3 });
      await store.addLabel({
        tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1, modelId: 'm1', createdAt: new Date('2026-02-01T10:00:00.000Z'),
      });
      const all = await store.exportAll();
      expect(all.queries.map((q) => q.queryId)).toEqual(['q1', 'q9']);
      expect(all.queries[0]).toEqual(query());
      expect(all.resultMessages).toEqual([
        { tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.3 },
        { ...shared, imageId: 'i9' },
        { ...shared, imageId: 'i8', rank: 2 },
      ]);
      expect(all.labels).toEqual([
        { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1, modelId: 'm1', createdAt: new Date('2026-02-01T10:00:00.000Z') },
      ]);
    });
  });
}
