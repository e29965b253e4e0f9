// `findimage labels export` on labels a team gave: the real binary reads labels.sqlite and writes
// one JSON line per label, to stdout or a file, with the query text from the query log.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteLabelStore } from '../../src/core/labels/sqlite-label-store.js';
import { createSilentLogger } from '../../src/logger.js';
import { cliEnv, runCli } from './cli-process.js';

/** The lines a label export should hold for the labels written in beforeAll, oldest first. */
const T1_UP = {
  tenant: 'T1',
  queryId: 'q1',
  queryText: 'a red square in:#design',
  imageId: 'img-1',
  user: 'U1',
  value: 1,
  createdAt: '2026-11-01T10:00:00.000Z',
  modelId: 'tiny-test',
};
const T2_DOWN = {
  tenant: 'T2',
  queryId: 'q2',
  // No query record: the text copied onto the label is all there is.
  queryText: 'a dog',
  imageId: 'img-2',
  user: 'U2',
  value: -1,
  createdAt: '2026-11-01T11:00:00.000Z',
  modelId: null,
};
const T1_DOWN = { ...T1_UP, imageId: 'img-3', user: 'U3', value: -1, createdAt: '2026-11-01T12:00:00.000Z' };

function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe('findimage labels export', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'findimage-cli-labels-'));
    // Labels as the Slack bot records them, in two tenants.
    const labels = await openSqliteLabelStore({ path: join(home, 'data', 'labels.sqlite'), logger: createSilentLogger() });
    await labels.recordQuery({
      queryId: 'q1',
      tenant: 'T1',
      kind: 'text',
      text: 'a red square in:#design',
      searchText: 'a red square',
      negativeTerms: [],
      scope: { tenant: 'T1' },
      filters: {},
      user: 'U1',
      conversation: 'C1',
      createdAt: new Date('2026-11-01T09:00:00Z'),
    });
    // The label's own copy of the text is older than the logged query's; the log wins.
    await labels.addLabel({ ...T1_UP, queryText: 'stale text', value: 1, createdAt: new Date(T1_UP.createdAt) });
    await labels.addLabel({
      tenant: 'T2', queryId: 'q2', queryText: 'a dog', imageId: 'img-2', user: 'U2', value: -1, createdAt: new Date(T2_DOWN.createdAt),
    });
    await labels.addLabel({ ...T1_DOWN, queryText: 'stale text', value: -1, createdAt: new Date(T1_DOWN.createdAt) });
    await labels.close();
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('writes every tenant\'s labels as JSON lines on stdout, oldest first, and the count on stderr', async () => {
    const result = await runCli(['labels', 'export'], cliEnv(home));
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([T1_UP, T2_DOWN, T1_DOWN]);
    expect(result.stderr).toContain('Exported 3 labels of every tenant.');
  });

  it('writes one tenant\'s labels to a file, leaving stdout empty', async () => {
    const output = join(home, 't1.jsonl');
    const result = await runCli(['labels', 'export', '--tenant', 'T1', '--output', output], cliEnv(home));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Exported 2 labels of tenant T1 to ${output}.`);
    const written = await readFile(output, 'utf8');
    expect(written.endsWith('\n')).toBe(true);
    expect(jsonLines(written)).toEqual([T1_UP, T1_DOWN]);
  });

  it('writes nothing for a tenant without labels', async () => {
    const result = await runCli(['labels', 'export', '--tenant', 'T-nobody'], cliEnv(home));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Exported 0 labels of tenant T-nobody.');
  });

  it('says which output file it cannot write, as a bad command line', async () => {
    const output = join(home, 'no-such-folder', 'labels.jsonl');
    const result = await runCli(['labels', 'export', '--output', output], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`findimage: Cannot write the export to ${output} (`);
  });

  it('refuses an unknown option with a usage error', async () => {
    const result = await runCli(['labels', 'export', '--tenantt', 'T1'], cliEnv(home));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tenantt');
  });
});
