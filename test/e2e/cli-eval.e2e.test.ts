// `findimage eval` on labels a team gave: the real binary grades the search from labels.sqlite.
// The tiny model ranks at random, so only what holds for any ranking is asserted exactly: with K
// equal to the number of images every image is returned, so recall@K is 1 and precision@K is
// the share of relevant images.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { cliEnv, runCli } from './cli-process.js';

describe('findimage eval', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-eval-'));
    const photos = join(home, 'photos');
    await mkdir(photos);
    for (const [i, colour] of ['#c00', '#0c0', '#00c'].entries()) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: colour } }).png().toFile(join(photos, `${i}.png`));
    }
    expect((await runCli(['index', photos], cliEnv(home))).code).toBe(0);
    const search = await runCli(['search', 'a red square', '--json'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    const ids = (JSON.parse(search.stdout) as { results: Array<{ id: string }> }).results.map((r) => r.id);
    expect(ids).toHaveLength(3);

    // Labels as the Slack bot records them, for the CLI's own tenant.
    const labels = await openSqliteLabelStore({ path: join(home, 'data', 'labels.sqlite'), logger: createSilentLogger() });
    await labels.recordQuery({
      queryId: 'q1',
      tenant: 'local',
      kind: 'text',
      text: 'a red square',
      searchText: 'a red square',
      negativeTerms: [],
      scope: { tenant: 'local' },
      filters: {},
      user: 'U1',
      conversation: 'C1',
      createdAt: new Date('2026-11-01T00:00:00Z'),
    });
    await labels.addLabel({ tenant: 'local', queryId: 'q1', queryText: 'a red square', imageId: ids[0] as string, user: 'U1', value: 1 });
    await labels.addLabel({ tenant: 'local', queryId: 'q1', queryText: 'a red square', imageId: ids[1] as string, user: 'U1', value: -1 });
    await labels.close();
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('grades the judged queries with Precision@K, Recall@K and nDCG@K', async () => {
    const result = await runCli(['eval', '--tenant', 'local', '--k', '3', '--json'], cliEnv(home, { FINDIMAGE_MIN_RELATIVE_SCORE: '0' }));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      k: number;
      queries: Array<{ queryId: string; judged: number }>;
      mean: { plain: { precisionAtK: number; recallAtK: number; ndcgAtK: number }; withFeedback: unknown };
    };
    expect(report.k).toBe(3);
    expect(report.queries).toEqual([expect.objectContaining({ queryId: 'q1', judged: 2 })]);
    expect(report.mean.plain.recallAtK).toBe(1);
    expect(report.mean.plain.precisionAtK).toBeCloseTo(1 / 3, 10);
    expect(report.mean.plain.ndcgAtK).toBeGreaterThan(0);
    expect(report.mean.withFeedback).toBeDefined();
  });

  it('says where labels come from when a tenant has none', async () => {
    const result = await runCli(['eval', '--tenant', 'T-nobody'], cliEnv(home));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No labelled queries for tenant T-nobody yet');
  });

  it('asks for the tenant', async () => {
    const result = await runCli(['eval'], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tenant');
  });
});
