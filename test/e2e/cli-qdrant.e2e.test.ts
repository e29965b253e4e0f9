// The command line against Qdrant (the fake server on 127.0.0.1, through the real client):
// migrate the embedded store into Qdrant and back, then search Qdrant.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { FakeQdrantServer } from '../fakes/qdrant/fake-qdrant-server.js';
import { cliEnv, failuresIn, runCli, type CliResult } from './cli-process.js';

describe('findimage CLI with Qdrant', () => {
  let home: string;
  let qdrant: FakeQdrantServer;
  /** The copy of the embedded store into Qdrant: every test finds Qdrant filled, in any order. */
  let migrated: CliResult;

  const withQdrant = (extra: Record<string, string> = {}) =>
    cliEnv(home, { QDRANT_URL: qdrant.url, QDRANT_API_KEY: 'secret-key', FINDIMAGE_MIN_RELATIVE_SCORE: '0', ...extra });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-qdrant-'));
    qdrant = await FakeQdrantServer.start({ apiKey: 'secret-key' });
    const photos = join(home, 'photos');
    await mkdir(photos);
    for (const [name, r, g, b] of [['a', 200, 10, 10], ['b', 10, 200, 10], ['c', 10, 10, 200]] as const) {
      await sharp({ create: { width: 40, height: 40, channels: 3, background: { r, g, b } } }).png().toFile(join(photos, `${name}.png`));
    }
    expect((await runCli(['index', photos], cliEnv(home))).code).toBe(0);
    // One judged query in the embedded label store, as the Slack bot would have left it.
    const labels = await openSqliteLabelStore({ path: join(home, 'data', 'labels.sqlite'), logger: createSilentLogger() });
    await labels.recordQuery({
      queryId: 'q1', tenant: 'T1', kind: 'text', text: 'red', searchText: 'red', negativeTerms: [],
      scope: { tenant: 'T1' }, filters: {}, user: 'U1', conversation: 'C1', createdAt: new Date('2026-11-01T00:00:00Z'),
    });
    await labels.addLabel({ tenant: 'T1', queryId: 'q1', queryText: 'red', imageId: 'i1', user: 'U1', value: 1 });
    await labels.close();
    migrated = await runCli(['migrate', '--from', 'embedded', '--to', 'qdrant'], withQdrant());
    // A test's deadline, not a hook's: the binary loads the model per process, slow on a loaded machine.
  }, 90_000);
  afterAll(async () => {
    await qdrant.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('copies the embedded store into Qdrant without re-embedding', async () => {
    const result = migrated;
    // Warnings a loaded machine may log are allowed; any error line, message or stack is not.
    expect(failuresIn(result.stderr)).toEqual([]);
    expect(result.stdout).toContain('Copied 3 images from the embedded store to the qdrant store.');
    expect(result.stdout).toContain('Copied 1 label(s), 1 logged query and 0 result message(s).');
    const stats = await runCli(['stats', '--json'], withQdrant());
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: 3, bySource: { local: 3 } });
  });

  it('searches Qdrant once QDRANT_URL is set', async () => {
    const result = await runCli(['search', 'a green square', '--json'], withQdrant());
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { results: unknown[] }).results).toHaveLength(3);
  });

  it('copies Qdrant back into an empty embedded store', async () => {
    const fresh = { FINDIMAGE_DATA: join(home, 'fresh-data') };
    const result = await runCli(['migrate', '--from', 'qdrant', '--to', 'embedded'], withQdrant(fresh));
    expect(result.stdout).toContain('Copied 3 images from the qdrant store to the embedded store.');
    expect(result.stdout).toContain('Copied 1 label(s), 1 logged query and 0 result message(s).');
    const stats = await runCli(['stats', '--json'], cliEnv(home, fresh));
    expect(JSON.parse(stats.stdout)).toMatchObject({ total: 3 });
  });

  it('says the API key was refused, naming the setting', async () => {
    const result = await runCli(['stats'], withQdrant({ QDRANT_API_KEY: 'wrong' }));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('QDRANT_API_KEY');
  });

  it('asks for QDRANT_URL when migrating without it', async () => {
    const result = await runCli(['migrate', '--from', 'embedded', '--to', 'qdrant'], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('QDRANT_URL');
  });
});
