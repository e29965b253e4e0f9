// Opening a store file written by findimage 1 (layout 1: one share per point in flat columns)
// upgrades it in place to payload.shares, in one transaction, and searches it the new way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FindimageError } from '../errors.js';
import { createSilentLogger } from '../../logger.js';
import { openSqliteVectorStore, type SqliteVectorStore } from './sqlite-vector-store.js';
import { uuid } from './vector-store.contract.js';

const logger = createSilentLogger();
const DIMENSION = 4;

/** The layout-1 table exactly as findimage 1 created it. */
const SCHEMA_V1 = `
  CREATE TABLE store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
  CREATE TABLE points (
    id TEXT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    model_id TEXT NOT NULL,
    channel TEXT,
    channel_is_public INTEGER NOT NULL,
    uploader TEXT,
    message_id TEXT,
    file_id TEXT,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    vector BLOB NOT NULL
  );
  CREATE INDEX points_tenant_channel ON points (tenant, channel);
  CREATE INDEX points_tenant_uploader ON points (tenant, uploader);
  INSERT INTO store_meta (key, value) VALUES ('dimension', '${DIMENSION}');
  PRAGMA user_version = 1;
`;

/** A findimage-1 payload: the flat share fields beside the image's own. */
interface PayloadV1 {
  tenant: string;
  source: string;
  filename: string;
  contentHash: string;
  modelId: string;
  createdAt: string;
  width: number;
  height: number;
  channel?: string;
  channelIsPublic?: boolean;
  uploader?: string;
  messageId?: string;
  fileId?: string;
  path?: string;
  permalink?: string;
}

function payloadV1(n: number, fields: Partial<PayloadV1>): PayloadV1 {
  return {
    tenant: 'T1',
    source: 'slack',
    filename: `${n}.png`,
    contentHash: String(n).padStart(64, '0'),
    modelId: 'clip-vit-b32',
    createdAt: `2025-06-0${n}T10:00:00.000Z`,
    width: 10,
    height: 20,
    ...fields,
  };
}

/** Writes a layout-1 file holding `payloads` (point n has id uuid(n) and vector e_n). */
function writeVersion1(path: string, payloads: { n: number; payload: PayloadV1 | string }[]): void {
  const db = new Database(path);
  db.exec(SCHEMA_V1);
  const insert = db.prepare(`INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const { n, payload } of payloads) {
      const p = typeof payload === 'string' ? payloadV1(n, {}) : payload;
      const vector = new Float32Array(DIMENSION);
      vector[n % DIMENSION] = 1;
      insert.run(
        uuid(n),
        p.tenant,
        p.source,
        p.modelId,
        p.channel ?? null,
        p.channelIsPublic === true ? 1 : 0,
        p.uploader ?? null,
        p.messageId ?? null,
        p.fileId ?? null,
        Date.parse(p.createdAt),
        typeof payload === 'string' ? payload : JSON.stringify(payload),
        Buffer.from(vector.buffer),
      );
    }
  })();
  db.close();
}

function columnsOf(path: string): { version: number; columns: string[] } {
  const db = new Database(path, { readonly: true });
  const version = db.pragma('user_version', { simple: true }) as number;
  const columns = (db.prepare('PRAGMA table_info(points)').all() as { name: string }[]).map(
    (c) => c.name,
  );
  db.close();
  return { version, columns };
}

describe('SqliteVectorStore opening a layout-1 file', () => {
  let dir: string;
  let path: string;
  const opened: SqliteVectorStore[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-v1-'));
    path = join(dir, 'vectors.sqlite');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<SqliteVectorStore> {
    const store = await openSqliteVectorStore({ path, dimension: DIMENSION, logger });
    opened.push(store);
    return store;
  }

  it('turns each chat point’s channel into one share and a folder point’s into none', async () => {
    const publicOne = payloadV1(1, {
      channel: 'C-pub',
      channelIsPublic: true,
      uploader: 'U1',
      messageId: '1700000000.000100',
      fileId: 'F1',
      permalink: 'https://example.slack.com/files/U1/F1/1.png',
    });
    const privateOne = payloadV1(2, { channel: 'G-priv', channelIsPublic: false, messageId: 'M2' });
    const folderOne = payloadV1(3, { source: 'local', tenant: 'local', path: '/photos/3.png' });
    writeVersion1(path, [
      { n: 1, payload: publicOne },
      { n: 2, payload: privateOne },
      { n: 3, payload: folderOne },
    ]);

    const store = await open();
    const byId = new Map(
      [...(await store.get([1, 2].map(uuid), { tenant: 'T1' })), ...(await store.get([uuid(3)], { tenant: 'local' }))].map((p) => [p.id, p.payload] as const),
    );
    expect(byId.get(uuid(1))).toEqual({
      tenant: 'T1',
      source: 'slack',
      filename: '1.png',
      contentHash: publicOne.contentHash,
      modelId: 'clip-vit-b32',
      createdAt: '2025-06-01T10:00:00.000Z',
      width: 10,
      height: 20,
      shares: [
        {
          conversation: 'C-pub',
          isPublic: true,
          sharedAt: '2025-06-01T10:00:00.000Z',
          uploader: 'U1',
          messageId: '1700000000.000100',
          fileId: 'F1',
          permalink: 'https://example.slack.com/files/U1/F1/1.png',
        },
      ],
    });
    expect(byId.get(uuid(2))?.shares).toEqual([
      { conversation: 'G-priv', isPublic: false, sharedAt: '2025-06-02T10:00:00.000Z', messageId: 'M2' },
    ]);
    expect(byId.get(uuid(2))).not.toHaveProperty('channel');
    expect(byId.get(uuid(3))).toEqual({ ...folderOne, shares: [] });

    // Searched the new way, straight after the upgrade and after a reopen.
    const query = Float32Array.from([0, 1, 0, 0]);
    const scope = { conversations: ['C-elsewhere'], includePublic: true };
    expect(
      (await store.query(query, { filter: { tenant: 'T1', scope }, limit: 5 })).map((h) => h.id),
    ).toEqual([uuid(1)]);
    await store.close();
    const again = await open();
    expect(
      await again.count({ tenant: 'T1', share: { conversations: ['G-priv'], messageId: 'M2' } }),
    ).toBe(1);
    expect(await again.count()).toBe(3);

    const { version, columns } = columnsOf(path);
    expect(version).toBe(2);
    expect(columns).not.toContain('channel');
    expect(columns).toEqual(
      expect.arrayContaining(['id', 'tenant', 'source', 'model_id', 'created_at', 'payload', 'vector']),
    );
  });

  it('converts files larger than one migration page', async () => {
    writeVersion1(
      path,
      Array.from({ length: 1234 }, (_, i) => ({
        n: i + 1,
        payload: payloadV1(1, { channel: `C${i % 3}`, channelIsPublic: i % 2 === 0 }),
      })),
    );
    const store = await open();
    expect(await store.count()).toBe(1234);
    expect(await store.count({ tenant: 'T1', scope: { conversations: ['C1'], includePublic: false } })).toBe(
      411,
    );
    expect(await store.count({ tenant: 'T1', scope: { conversations: [], includePublic: true } })).toBe(
      617,
    );
  });

  it('leaves the file at layout 1, untouched, when a row cannot be converted', async () => {
    writeVersion1(path, [
      { n: 1, payload: payloadV1(1, { channel: 'C1' }) },
      { n: 2, payload: '{ this is not JSON' },
    ]);
    await expect(open()).rejects.toBeInstanceOf(FindimageError);
    const { version, columns } = columnsOf(path);
    expect(version).toBe(1);
    expect(columns).toContain('channel');
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM points').pluck().get()).toBe(2);
    expect(
      db.prepare(`SELECT name FROM sqlite_master WHERE name = 'points_v2'`).pluck().get(),
    ).toBeUndefined();
    db.close();
  });

  it('refuses a file written by a newer findimage', async () => {
    writeVersion1(path, []);
    const db = new Database(path);
    db.pragma('user_version = 3');
    db.close();
    await expect(open()).rejects.toMatchObject({ code: 'store_schema_mismatch' });
  });
});
