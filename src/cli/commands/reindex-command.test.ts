// Changing the model: every image whose original is on this machine is re-embedded into the
// new model's index under the same id; chat uploads are counted and the user told what to do.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../config.js';
import { getModelSpec } from '../../core/models/model-registry.js';
import type { ModelSpec } from '../../core/models/model-spec.js';
import { openFindimage, openStore } from '../../findimage.js';
import { createSilentLogger } from '../../logger.js';
import type { Terminal } from '../terminal.js';
import { runIndex } from './index-command.js';
import { runReindex } from './reindex-command.js';

function recordingTerminal(): Terminal & { lines: string[] } {
  const lines: string[] = [];
  const silent = { tick: () => {}, update: () => {}, stop: () => {} };
  return { lines, out: (t) => lines.push(t), err: (t) => lines.push(t), progress: () => silent };
}

describe('findimage reindex on the embedded store', () => {
  let dir: string;
  let config: Config;
  const logger = createSilentLogger();
  const tiny = getModelSpec('tiny-test');
  // A second model with the same files under another id: what matters is that the vectors are
  // recomputed into a separate index, which a second real model cannot show offline.
  const other: ModelSpec = { ...tiny, id: 'tiny-test-copy' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-reindex-'));
    const photos = join(dir, 'photos');
    await mkdir(photos);
    for (const [i, colour] of ['#c00', '#0c0', '#00c'].entries()) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: colour } }).png().toFile(join(photos, `${i}.png`));
    }
    config = loadConfig({ FINDIMAGE_MODEL: 'tiny-test', FINDIMAGE_DATA: join(dir, 'data'), FINDIMAGE_CACHE: join(dir, 'cache'), FINDIMAGE_DEVICE: 'cpu' });
    const findimage = await openFindimage({ config, logger });
    try {
      await runIndex(findimage, photos, recordingTerminal());
      // A chat upload: its bytes are on the platform, not on this machine.
      await findimage.indexer.index({
        bytes: await sharp({ create: { width: 32, height: 32, channels: 3, background: '#888' } }).png().toBuffer(),
        filename: 'from-slack.png',
        tenant: 'T1',
        source: 'slack',
      });
    } finally {
      await findimage.close();
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('re-embeds local images into the new model\'s index, keeping their ids, and counts chat uploads', async () => {
    const terminal = recordingTerminal();
    const summary = await runReindex(config, { source: tiny, target: other }, terminal, logger);
    expect(summary).toEqual({ written: 3, notOnThisMachine: 1, unreadable: 0, resumed: false });
    expect(terminal.lines.join('\n')).toContain('Set FINDIMAGE_MODEL=tiny-test-copy');
    expect(terminal.lines.join('\n')).toContain('1 chat upload(s) were not re-embedded');

    const before = await openStore(config, tiny, logger);
    const after = await openStore(config, other, logger);
    try {
      const old = (await before.scroll({ limit: 100 })).points.filter((p) => p.payload.source === 'local');
      const fresh = (await after.scroll({ limit: 100 })).points;
      expect(fresh.map((p) => p.id).sort()).toEqual(old.map((p) => p.id).sort());
      expect(fresh.every((p) => p.payload.modelId === 'tiny-test-copy')).toBe(true);
    } finally {
      await before.close();
      await after.close();
    }
  });

  it('refuses to re-index into the model already in use', async () => {
    await expect(runReindex(config, { source: tiny, target: tiny }, recordingTerminal(), logger)).rejects.toMatchObject({
      code: 'config_invalid',
    });
  });
});
