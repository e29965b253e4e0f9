// The SQLite LabelStore: queries, result messages and labels, per tenant and durable across reopening.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { StoreError } from '../errors.js';
import { describeLabelStoreContract, exampleQuery } from './label-store.contract.js';
import { SqliteLabelStore, openSqliteLabelStore } from './sqlite-label-store.js';

describeLabelStoreContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'findimage-labels-'));
  const store = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger: createSilentLogger() });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('SqliteLabelStore', () => {
  const query = exampleQuery;
  let dir: string;
  let path: string;
  let store: SqliteLabelStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-labels-'));
    path = join(dir, 'nested', 'labels.sqlite');
    store = await openSqliteLabelStore({ path, logger: createSilentLogger() });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('still has every query, result message and label after the store is reopened', async () => {
    await store.recordQuery(query());
    await store.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.3 });
    await store.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1 });
    await store.close();
    store = await openSqliteLabelStore({ path, logger: createSilentLogger() });
    expect(await store.getQuery('T1', 'q1')).toEqual(query());
    expect(await store.findResultMessages('T1', 'C1', '1')).toMatchObject([{ queryId: 'q1', imageId: 'i1' }]);
    expect(await store.listLabels({ tenant: 'T1' })).toHaveLength(1);
  });

  it('upgrades a file from before a message could show several results, keeping its records', async () => {
    const old = join(dir, 'old-labels.sqlite');
    writeLayout1File(old);
    const upgraded = await openSqliteLabelStore({ path: old, logger: createSilentLogger() });
    try {
      expect(await upgraded.findResultMessages('T1', 'C1', '100.1')).toEqual([
        { tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i1', rank: 1, score: 0.31 },
      ]);
      expect((await upgraded.resultMessagesForQuery('T1', 'q1')).map((m) => m.messageId)).toEqual(['100.1', '100.2']);
      expect(await upgraded.listLabels({ tenant: 'T1' })).toEqual([
        { tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i1', user: 'U1', value: 1, createdAt: new Date('2026-02-01T10:00:00.000Z') },
      ]);
      // The new key: another image on the same message is a second result, not a conflict.
      await upgraded.recordResultMessage({ tenant: 'T1', conversation: 'C1', messageId: '100.1', queryId: 'q1', imageId: 'i3', rank: 3, score: 0.2, postedBy: 'U2' });
      expect((await upgraded.findResultMessages('T1', 'C1', '100.1')).map((m) => m.imageId)).toEqual(['i1', 'i3']);
      await upgraded.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red car', imageId: 'i3', user: 'U1', value: 1, modelId: 'm1' });
      expect((await upgraded.listLabels({ tenant: 'T1', imageId: 'i3' }))[0]?.modelId).toBe('m1');
    } finally {
      await upgraded.close();
    }
    const db = new Database(old, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'result_messages%' ORDER BY name").pluck().all()).toEqual([
        'result_messages',
        'result_messages_by_query',
      ]);
    } finally {
      db.close();
    }
    // Opening it again finds it upgraded and changes nothing.
    const reopened = await openSqliteLabelStore({ path: old, logger: createSilentLogger() });
    expect(await reopened.findResultMessages('T1', 'C1', '100.1')).toHaveLength(2);
    await reopened.close();
  });

  it('refuses a file written by a newer findimage, naming the file', async () => {
    const newer = join(dir, 'newer.sqlite');
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    const attempt = openSqliteLabelStore({ path: newer, logger: createSilentLogger() });
    await expect(attempt).rejects.toMatchObject({ code: 'store_schema_mismatch', message: expect.stringContaining(newer) });
  });

  it('refuses a folder it cannot write with a message naming FINDIMAGE_DATA', async () => {
    // A file where the folder should be fails for root too, unlike a chmod-ed folder.
    const blocked = join(dir, 'file');
    await writeFile(blocked, 'x');
    const attempt = openSqliteLabelStore({ path: join(blocked, 'labels.sqlite'), logger: createSilentLogger() });
    await expect(attempt).rejects.toBeInstanceOf(StoreError);
    await expect(attempt).rejects.toThrow(/Set FINDIMAGE_DATA to a folder findimage can write to/);
  });
});

/** A label file as findimage wrote it before user_version was kept: one result per message. */
function writeLayout1File(path: string): void {
  const db = new Database(path);
  try {
    db.exec(`
      CREATE TABLE queries (tenant TEXT NOT NULL, query_id TEXT NOT NULL, record TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, query_id));
      CREATE TABLE result_messages (tenant TEXT NOT NULL, conversation TEXT NOT NULL, message_id TEXT NOT NULL,
        query_id TEXT NOT NULL, image_id TEXT NOT NULL, rank INTEGER NOT NULL, score REAL NOT NULL,
        PRIMARY KEY (tenant, conversation, message_id));
      CREATE INDEX result_messages_by_query ON result_messages (tenant, query_id, rank);
      CREATE TABLE labels (tenant TEXT NOT NULL, query_id TEXT NOT NULL, image_id TEXT NOT NULL, user TEXT NOT NULL,
        value INTEGER NOT NULL, query_text TEXT NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, query_id, image_id, user, value));
      CREATE INDEX labels_by_image ON labels (tenant, image_id);
      INSERT INTO result_messages VALUES ('T1', 'C1', '100.1', 'q1', 'i1', 1, 0.31);
      INSERT INTO result_messages VALUES ('T1', 'C1', '100.2', 'q1', 'i2', 2, 0.29);
      INSERT INTO labels VALUES ('T1', 'q1', 'i1', 'U1', 1, 'red car', ${Date.parse('2026-02-01T10:00:00.000Z')});
    `);
  } finally {
    db.close();
  }
}
