// The web app reads images by id only within its own scope (the local tenant): a chat team's
// image id typed into a URL answers 404 on every route that takes an id, exactly like an id
// that was never indexed, and is never shown, thumbnailed, searched like or voted on.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointIdFor } from '../../src/core/indexing/point-id.js';
import { startWebHarness, jpegOf, multipartOf, type WebHarness } from './web-harness.js';

describe('web image routes within the web scope', () => {
  let h: WebHarness;
  let base: string;
  let localId: string;
  const foreignId = pointIdFor('T1', 'e'.repeat(64));

  beforeAll(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
    const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'mine.jpg', bytes: await jpegOf([40, 200, 40]) }]) });
    localId = ((await response.json()) as { files: Array<{ id: string }> }).files[0]!.id;
    // A Slack team's image, with the same vector and even a readable original on this disk.
    const [local] = await h.findimage.store.get([localId], { tenant: 'local', withVector: true });
    await h.findimage.store.upsert([
      {
        id: foreignId,
        vector: local!.vector!,
        payload: {
          ...local!.payload,
          tenant: 'T1',
          source: 'slack',
          contentHash: 'e'.repeat(64),
          filename: 'secret-plans.png',
          shares: [{ conversation: 'C-private', isPublic: false, sharedAt: '2026-01-01T00:00:00.000Z' }],
        },
      },
    ]);
  });
  afterAll(async () => h.close());

  it('serves the local image on every route that takes an id', async () => {
    expect((await fetch(`${base}/api/images/${localId}`)).status).toBe(200);
    expect((await fetch(`${base}/api/images/${localId}/thumbnail`)).status).toBe(200);
    expect((await fetch(`${base}/api/images/${localId}/similar?k=3`)).status).toBe(200);
    const large = await fetch(`${base}/api/images/${localId}/large`);
    expect([large.status, large.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    const original = await fetch(`${base}/api/images/${localId}/original`);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-disposition')).toBe(`attachment; filename="mine.jpg"; filename*=UTF-8''mine.jpg`);
    // The original's own bytes, byte for byte.
    const [point] = await h.findimage.store.get([localId], { tenant: 'local' });
    expect(Buffer.from(await original.arrayBuffer()).equals(await readFile(point!.payload.path!))).toBe(true);
  });

  it('answers 404 for another tenant’s image id, naming nothing of it', async () => {
    const routes = ['', '/thumbnail', '/similar?k=3', '/large', '/original'].map((route) => `/api/images/${foreignId}${route}`);
    for (const path of routes) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('secret-plans');
    }
  });

  it('records no vote on another tenant’s image', async () => {
    const search = (await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=5`)).json()) as { queryId: string; results: Array<{ id: string }> };
    expect(search.results.map((r) => r.id)).toEqual([localId]);
    const vote = await fetch(`${base}/api/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queryId: search.queryId, imageId: foreignId, user: 'ana', value: 1 }),
    });
    expect(vote.status).toBe(404);
    expect(await h.findimage.labels.listLabels({ tenant: 'local' })).toEqual([]);
  });
});
