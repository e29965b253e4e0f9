// /api/eval on the real server: the labels graded at several K are computed once and served from
// the cache until a vote changes them (no search is run again on a second load, as the embedding
// counter shows), and a split holds queries out of feedback and grades only those.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHeldOut } from '../../src/core/evaluation/search-evaluator.js';
import { jpegOf, multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

describe('the labels evaluation endpoint', () => {
  let h: WebHarness;
  let base: string;
  let queryIds: string[];
  let imageIds: string[];

  const textEmbeddings = async (): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(/^findimage_embeddings_total\{tower="text"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const vote = async (queryId: string, imageId: string, value: 1 | -1 | 0) => {
    const response = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId, imageId, user: 'ana', value }) });
    expect(response.status).toBe(200);
  };
  const evaluation = async (query = '') => {
    const response = await fetch(`${base}/api/eval${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as { computedAt: string; labelsVersion: string; queries: Array<{ queryId: string }>; curve: unknown[]; split?: unknown };
  };

  beforeEach(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
    const files = await Promise.all(Array.from({ length: 5 }, async (_, i) => ({ name: `p${i}.jpg`, bytes: await jpegOf([40 * i, 90, 200 - 30 * i], 64, 48, i) })));
    const upload = (await (await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(files) })).json()) as { files: Array<{ id: string }> };
    imageIds = upload.files.map((f) => f.id);
    queryIds = [];
    for (const q of ['a red photo', 'a blue photo', 'a green photo', 'a dark photo']) {
      const answer = (await (await fetch(`${base}/api/search?q=${encodeURIComponent(q)}&k=5`)).json()) as { queryId: string };
      queryIds.push(answer.queryId);
      await vote(answer.queryId, imageIds[queryIds.length - 1] as string, 1);
    }
  });
  afterEach(async () => h.close());

  it('runs the labelled searches once, then answers from the cache until a vote', async () => {
    const first = await evaluation();
    expect(first.queries).toHaveLength(4);
    const afterFirst = await textEmbeddings();
    const second = await evaluation();
    expect(second.computedAt).toBe(first.computedAt);
    expect(second.labelsVersion).toBe(first.labelsVersion);
    expect(await textEmbeddings()).toBe(afterFirst);

    await vote(queryIds[0] as string, imageIds[4] as string, -1);
    const third = await evaluation();
    expect(third.labelsVersion).not.toBe(first.labelsVersion);
    expect(await textEmbeddings()).toBeGreaterThan(afterFirst);
    // Taking a vote back is a change too.
    await vote(queryIds[0] as string, imageIds[4] as string, 0);
    expect((await evaluation()).labelsVersion).toBe(first.labelsVersion);
  });

  it('recomputes when the images change, since the rankings do', async () => {
    await evaluation();
    await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'new.jpg', bytes: await jpegOf([250, 250, 10]) }]) });
    const afterUpload = await textEmbeddings();
    await evaluation();
    // Computed again: the labelled searches ran again.
    expect(await textEmbeddings()).toBeGreaterThan(afterUpload);
  });

  it('holds out a seeded share of the labelled searches and grades only those', async () => {
    const all = await evaluation();
    const split = await evaluation('?split=0.5&seed=12');
    expect(split.split).toMatchObject({ share: 0.5, seed: 12, judged: 4 });
    // Exactly the searches the seeded draw holds out (the query ids are random, so how many varies).
    const expected = queryIds.filter((id) => isHeldOut(id, { share: 0.5, seed: 12 })).sort();
    expect(split.queries.map((q) => q.queryId).sort()).toEqual(expected);
    expect(split.split).toMatchObject({ heldOut: expected.length });
    expect(all.queries.map((q) => q.queryId).sort()).toEqual([...queryIds].sort());
    expect(all.split).toBeUndefined();
    // The same split again is a cache hit (no search runs); another seed is another report.
    const beforeAgain = await textEmbeddings();
    expect((await evaluation('?split=0.5&seed=12')).computedAt).toBe(split.computedAt);
    expect(await textEmbeddings()).toBe(beforeAgain);
    const otherSeed = await evaluation('?split=0.5&seed=13');
    expect(otherSeed.split).toMatchObject({ seed: 13 });
    expect(otherSeed.queries.map((q) => q.queryId).sort()).toEqual(queryIds.filter((id) => isHeldOut(id, { share: 0.5, seed: 13 })).sort());
  });

  it('refuses a split that is not a share, with a reason', async () => {
    for (const query of ['?split=1', '?split=0', '?split=abc', '?split=0.2&seed=-1']) {
      const response = await fetch(`${base}/api/eval${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('bad_request');
    }
  });
});
