// The Qdrant LabelStore passes the same contract as the SQLite one, through the real client
// against the fake Qdrant server, and two findimage hosts on one server share their labels.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeQdrantServer } from '../../../test/fakes/qdrant/fake-qdrant-server.js';
import { createSilentLogger } from '../../logger.js';
import { uuidFromText } from '../indexing/point-id.js';
import { describeLabelStoreContract, exampleQuery } from './label-store.contract.js';
import { copyLabels } from './label-migration.js';
import { openQdrantLabelStore } from './qdrant-label-store.js';
import { openSqliteLabelStore } from './sqlite-label-store.js';

let server: FakeQdrantServer;
let collections = 0;
beforeAll(async () => {
  server = await FakeQdrantServer.start({ apiKey: 'k' });
});
afterAll(async () => {
  await server.stop();
});

describeLabelStoreContract('Qdrant', async () => {
  collections += 1;
  const store = await openQdrantLabelStore({
    url: server.url,
    apiKey: 'k',
    logger: createSilentLogger(),
    collection: `labels_${collections}`,
  });
  return { store, cleanup: async () => {} };
});

describe('QdrantLabelStore', () => {
  it('shares queries, result messages and labels between two hosts on one server', async () => {
    const open = () => openQdrantLabelStore({ url: server.url, apiKey: 'k', logger: createSilentLogger(), collection: 'shared' });
    const slackHost = await open();
    const otherHost = await open();
    try {
      await slackHost.recordQuery(exampleQuery());
      await slackHost.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.3 });
      await slackHost.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1 });
      expect(await otherHost.getQuery('T1', 'q1')).toEqual(exampleQuery());
      expect(await otherHost.findResultMessages('T1', 'C1', '1')).toMatchObject([{ queryId: 'q1', imageId: 'i1' }]);
      expect((await otherHost.listLabels({ tenant: 'T1' })).map((l) => l.value)).toEqual([1]);
    } finally {
      await slackHost.close();
      await otherHost.close();
    }
  });

  it('rekeys result messages written before a message could show several results, and indexes their new fields', async () => {
    // A collection as the earlier findimage made it: five indexes, one record per message.
    const client = new QdrantClient({ url: server.url, apiKey: 'k', checkCompatibility: false });
    await client.createCollection('old_layout', { vectors: { size: 1, distance: 'Cosine' } });
    for (const field of ['kind', 'tenant', 'query_id', 'image_id', 'user']) {
      await client.createPayloadIndex('old_layout', { field_name: field, field_schema: 'keyword', wait: true });
    }
    const old = { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.31 };
    const oldId = uuidFromText('findimage-label\u0000message\u0000T1\u0000C1\u0000100.1');
    await client.upsert('old_layout', {
      wait: true,
      points: [{ id: oldId, vector: [1], payload: { kind: 'message', tenant: 'T1', query_id: 'q1', image_id: 'i1', record: JSON.stringify(old) } }],
    });

    const open = () => openQdrantLabelStore({ url: server.url, apiKey: 'k', logger: createSilentLogger(), collection: 'old_layout' });
    const store = await open();
    try {
      expect(await store.findResultMessages('T1', 'C1', '100.1')).toEqual([old]);
      await store.recordResultMessage({ ...old, imageId: 'i2', rank: 2 });
      expect((await store.findResultMessages('T1', 'C1', '100.1')).map((m) => m.imageId)).toEqual(['i1', 'i2']);
      expect((await store.exportAll()).resultMessages).toHaveLength(2);
      expect(await client.retrieve('old_layout', { ids: [oldId] })).toEqual([]);
      expect(Object.keys((await client.getCollection('old_layout')).payload_schema ?? {})).toEqual(
        expect.arrayContaining(['conversation', 'message_id']),
      );
    } finally {
      await store.close();
    }
    const again = await open();
    try {
      expect(await again.upgradeMessageRecords()).toBe(0);
      expect(await again.findResultMessages('T1', 'C1', '100.1')).toHaveLength(2);
    } finally {
      await again.close();
    }
  });

  it('says the key was refused, naming QDRANT_API_KEY', async () => {
    await expect(
      openQdrantLabelStore({ url: server.url, apiKey: 'wrong', logger: createSilentLogger(), collection: 'x' }),
    ).rejects.toMatchObject({ code: 'store_auth', message: expect.stringContaining('QDRANT_API_KEY') });
  });

  it('takes over the labels of the embedded store when a team moves to Qdrant, and copying twice adds nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'findimage-label-copy-'));
    const embedded = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger: createSilentLogger() });
    const qdrant = await openQdrantLabelStore({ url: server.url, apiKey: 'k', logger: createSilentLogger(), collection: 'moved' });
    try {
      await embedded.recordQuery(exampleQuery());
      await embedded.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.3 });
      await embedded.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i2', rank: 2, score: 0.2, postedBy: 'U3' });
      await embedded.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: -1, modelId: 'tiny-test' });
      expect(await copyLabels(embedded, qdrant)).toEqual({ queries: 1, resultMessages: 2, labels: 1 });
      await copyLabels(embedded, qdrant);
      expect(await qdrant.exportAll()).toEqual(await embedded.exportAll());
    } finally {
      await embedded.close();
      await qdrant.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
