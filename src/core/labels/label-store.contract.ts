// The behaviour every LabelStore must show, run against each implementation (SQLite, Qdrant):
// queries, result messages and labels per tenant, exactly as saved.
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

    it('maps a posted message to exactly one (query, image) pair', async () => {
      const message = { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.31 };
      await store.recordResultMessage(message);
      await store.recordResultMessage(message);
      expect(await store.findResultMessage('T1', 'C1', '100.1')).toEqual(message);
      expect(await store.findResultMessage('T1', 'C2', '100.1')).toBeUndefined();
      expect(await store.findResultMessage('T2', 'C1', '100.1')).toBeUndefined();
      await expect(store.recordResultMessage({ ...message, imageId: 'i2' })).rejects.toThrow(
        'Message 100.1 already shows another result; one message must show exactly one result.',
      );
    });

    it('lists the result messages of a query by rank', async () => {
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '3', queryId: 'q1', imageId: 'c', rank: 3, score: 0.1 });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'a', rank: 1, score: 0.3 });
      await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '2', queryId: 'q9', imageId: 'b', rank: 2, score: 0.2 });
      expect((await store.resultMessagesForQuery('T1', 'q1')).map((m) => m.imageId)).toEqual(['a', 'c']);
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
      await store.recordQuery(query({ tenant: 'T2', queryId: 'q9', scope: { tenant: 'T2' } }));
      await store.recordResultMessage({ tenant: 'T2', conversation: 'C9', messageId: '9', queryId: 'q9', imageId: 'i9', rank: 1, score: 0.2 });
      await store.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1, createdAt: new Date('2026-02-01T10:00:00.000Z') });
      const all = await store.exportAll();
      expect(all.queries.map((q) => q.queryId).sort()).toEqual(['q1', 'q9']);
      expect(all.queries.find((q) => q.queryId === 'q1')).toEqual(query());
      expect(all.resultMessages).toEqual([{ tenant: 'T2', conversation: 'C9', messageId: '9', queryId: 'q9', imageId: 'i9', rank: 1, score: 0.2 }]);
      expect(all.labels).toEqual([
        { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1, createdAt: new Date('2026-02-01T10:00:00.000Z') },
      ]);
    });
  });
}
