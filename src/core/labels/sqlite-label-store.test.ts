// The SQLite LabelStore: queries, result messages and labels, per tenant and durable across reopening.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(await store.findResultMessage('T1', 'C1', '1')).toMatchObject({ queryId: 'q1', imageId: 'i1' });
    expect(await store.listLabels({ tenant: 'T1' })).toHaveLength(1);
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
