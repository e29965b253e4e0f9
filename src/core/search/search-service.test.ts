// SearchService on a real embedded store with hand-made 4-d vectors: ranking, cut-off, pages,
// negatives, and the scope and in:/from: filters, which the store applies before ranking.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { normalize } from '../embedding/vector-math.js';
import { FindimageError } from '../errors.js';
import { pointIdFor } from '../indexing/point-id.js';
import { openSqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImagePayload, ImageShare, PointFilter, VectorStore } from '../store/vector-store.js';
import { KnownVectorEmbedder, imageWithVector } from '../testing/known-vector-embedder.js';
import { SearchService } from './search-service.js';

// Four-dimensional vectors make every expected score easy to compute by hand.
const QUERIES = { 'black car': [1, 0, 0, 0], dog: [0, 1, 0, 0], 'car or dog': [1, 1, 0, 0], 'a drawing of black car': [0, 1, 0, 0] };

interface Seed {
  name: string;
  vector: number[];
  tenant?: string;
  channel?: string;
  channelIsPublic?: boolean;
  uploader?: string;
  createdAt?: string;
  /** Every share, instead of the one that channel, channelIsPublic and uploader describe. */
  shares?: ImageShare[];
}

const share = (conversation: string, isPublic: boolean, uploader = 'U1'): ImageShare => ({
  conversation,
  isPublic,
  uploader,
  sharedAt: '2026-01-10T00:00:00.000Z',
});

describe('SearchService', () => {
  let dir: string;
  let store: VectorStore;
  let embedder: KnownVectorEmbedder;
  const idOf = (name: string, tenant = 'T1') => pointIdFor(tenant, name);

  const seed = async (seeds: Seed[]) => {
    await store.upsert(
      seeds.map((s) => {
        const payload: ImagePayload = {
          tenant: s.tenant ?? 'T1',
          source: 'slack',
          filename: `${s.name}.jpg`,
          contentHash: s.name,
          modelId: 'known-vectors',
          createdAt: s.createdAt ?? '2026-01-10T00:00:00.000Z',
          width: 10,
          height: 10,
          shares: s.shares ?? [share(s.channel ?? 'C-general', s.channelIsPublic ?? true, s.uploader ?? 'U1')],
        };
        return { id: idOf(s.name, s.tenant), vector: normalize(Float32Array.from(s.vector)), payload };
      }),
    );
  };
  const service = (minRelativeScore = 0) =>
    new SearchService({ embedder, store, minRelativeScore, logger: createSilentLogger() });
  const names = (hits: { payload: ImagePayload }[]) => hits.map((h) => h.payload.filename.replace('.jpg', ''));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-search-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 4, logger: createSilentLogger() });
    embedder = new KnownVectorEmbedder(4, QUERIES);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the images closest to the description first, with their cosine scores', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'car-ish', vector: [1, 1, 0, 0] },
      { name: 'dog', vector: [0, 1, 0, 0] },
    ]);
    const { hits, hasMore } = await service().searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 10 });
    expect(names(hits)).toEqual(['car', 'car-ish', 'dog']);
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    expect(hits[1]?.score).toBeCloseTo(Math.SQRT1_2, 5);
    expect(hits[2]?.score).toBeCloseTo(0, 5);
    expect(hasMore).toBe(false);
  });

  it('never returns images of another tenant', async () => {
    await seed([
      { name: 'ours', vector: [0, 1, 0, 0] },
      { name: 'theirs', vector: [1, 0, 0, 0], tenant: 'T2' },
    ]);
    const { hits } = await service().searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 10 });
    expect(names(hits)).toEqual(['ours']);
  });

  it('drops results far below the best one with the relative cut-off', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'close', vector: [0.95, 0.3, 0, 0] },
      { name: 'far', vector: [0.3, 1, 0, 0] },
    ]);
    const { hits } = await service(0.8).searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 10 });
    expect(names(hits)).toEqual(['car', 'close']);
  });

  it('says how many results the cut-off dropped, and takes a cut-off of its own for one search', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'close', vector: [0.95, 0.3, 0, 0] },
      { name: 'far', vector: [0.3, 1, 0, 0] },
      { name: 'farther', vector: [0.1, 1, 0, 0] },
    ]);
    const search = service(0.8);
    const served = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 10 });
    expect(served.cutOff).toEqual({ applied: 0.8, below: 2, mayBeMore: false });
    // The window read is the page plus one: a full window means there may be more below.
    const short = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 1 });
    expect(names(short.hits)).toEqual(['car']);
    expect(short.cutOff).toEqual({ applied: 0.8, below: 0, mayBeMore: false });
    const all = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 10, tuning: { minRelativeScore: 0 } });
    expect(names(all.hits)).toEqual(['car', 'close', 'far', 'farther']);
    expect(all.cutOff).toEqual({ applied: 0, below: 0, mayBeMore: false });
    const like = await search.searchSimilarTo(idOf('car'), { scope: { tenant: 'T1' }, limit: 10, tuning: { minRelativeScore: 0.99 } });
    expect(names(like.hits)).toEqual(['close']);
    expect(like.cutOff).toEqual({ applied: 0.99, below: 2, mayBeMore: false });
  });

  it('embeds the description in the prompt template a search brings, in place of the configured one', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'dog', vector: [0, 1, 0, 0] },
    ]);
    const { hits } = await service().searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 1, tuning: { templates: ['a drawing of {}'] } });
    expect(names(hits)).toEqual(['dog']);
  });

  it('pages through results with offset and says whether more exist', async () => {
    await seed([1, 2, 3, 4, 5].map((i) => ({ name: `img${i}`, vector: [10 - i, 1, 0, 0] })));
    const search = service();
    const first = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 2 });
    const second = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 2, offset: 2 });
    const last = await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, limit: 2, offset: 4 });
    expect([names(first.hits), first.hasMore]).toEqual([['img1', 'img2'], true]);
    expect([names(second.hits), second.hasMore]).toEqual([['img3', 'img4'], true]);
    expect([names(last.hits), last.hasMore]).toEqual([['img5'], false]);
  });

  it('leaves out images that look more like a negative term than like the query', async () => {
    await seed([
      { name: 'car', vector: [1, 0.1, 0, 0] },
      { name: 'car-with-dog', vector: [1, 1.2, 0, 0] },
    ]);
    const { hits } = await service().searchText({
      text: 'black car',
      negativeTerms: ['dog'],
      scope: { tenant: 'T1' },
      limit: 10,
    });
    expect(names(hits)).toEqual(['car']);
  });

  it('words a search\'s negative terms with the templates it brings, as its description', async () => {
    await seed([{ name: 'car', vector: [1, 0, 0, 0] }]);
    const asked: Array<{ text: string; templates: readonly string[] | undefined }> = [];
    const recording: KnownVectorEmbedder = Object.assign(Object.create(embedder) as KnownVectorEmbedder, {
      embedQuery: (text: string, options: Parameters<KnownVectorEmbedder['embedQuery']>[1] = {}) => {
        asked.push({ text, templates: options.templates });
        return embedder.embedQuery(text, options);
      },
    });
    const search = new SearchService({ embedder: recording, store, minRelativeScore: 0, logger: createSilentLogger() });
    await search.searchText({ text: 'black car', negativeTerms: ['dog'], scope: { tenant: 'T1' }, limit: 1, tuning: { templates: ['{}'] } });
    expect(asked).toEqual([
      { text: 'black car', templates: ['{}'] },
      { text: 'dog', templates: ['{}'] },
    ]);
  });

  it('finds the best images even when many better ones look like a negative term', async () => {
    // Twelve dog-ish cars outrank the two plain cars; all are dropped by "-dog", so the search
    // must look past its first window to fill the page.
    await seed([
      ...Array.from({ length: 12 }, (_, i) => ({ name: `dog-car-${i}`, vector: [1, 3 + i / 100, 0.01 * i, 0] })),
      { name: 'car', vector: [1, 0.1, 0, 0] },
      { name: 'car2', vector: [1, 0.2, 0, 0] },
    ]);
    const { hits, hasMore } = await service().searchText({
      text: 'car or dog',
      negativeTerms: ['dog'],
      scope: { tenant: 'T1' },
      limit: 1,
    });
    expect(names(hits)).toEqual(['car2']);
    expect(hasMore).toBe(true);
  });

  describe('scope', () => {
    beforeEach(async () => {
      await seed([
        { name: 'here', vector: [1, 0, 0, 0], channel: 'C-here', channelIsPublic: false },
        { name: 'public', vector: [0.9, 0.1, 0, 0], channel: 'C-public', channelIsPublic: true },
        { name: 'private', vector: [0.8, 0.2, 0, 0], channel: 'C-private', channelIsPublic: false },
      ]);
    });

    it('shows a conversation its own images and the public ones, never another private channel', async () => {
      const { hits } = await service().searchText({
        text: 'black car',
        scope: { tenant: 'T1', channels: ['C-here'], includePublic: true },
        limit: 10,
      });
      expect(names(hits)).toEqual(['here', 'public']);
    });

    it('shows a private conversation only its own images when public ones are not allowed', async () => {
      const { hits } = await service().searchText({
        text: 'black car',
        scope: { tenant: 'T1', channels: ['C-here'] },
        limit: 10,
      });
      expect(names(hits)).toEqual(['here']);
    });

    it('lets in:#channel narrow to a public channel but not open a private one', async () => {
      const search = service();
      const scope = { tenant: 'T1', channels: ['C-here'], includePublic: true };
      const toPublic = await search.searchText({ text: 'black car', scope, filters: { channels: ['C-public'] }, limit: 10 });
      const toPrivate = await search.searchText({ text: 'black car', scope, filters: { channels: ['C-private'] }, limit: 10 });
      expect(names(toPublic.hits)).toEqual(['public']);
      expect(names(toPrivate.hits)).toEqual([]);
    });

    it('never lets in:#private reach a private share through a public share of the same image', async () => {
      await seed([
        { name: 'both', vector: [1, 0.05, 0, 0], shares: [share('C-public', true), share('C-private', false, 'U2')] },
      ]);
      const search = service();
      const fromHere = { tenant: 'T1', channels: ['C-here'], includePublic: true };
      const inPrivate = { channels: ['C-private'] };
      expect(names((await search.searchText({ text: 'black car', scope: fromHere, filters: inPrivate, limit: 10 })).hits)).toEqual([]);
      // from:@U2 shared it only privately: not visible from here either.
      const byU2 = { uploaders: ['U2'] };
      expect(names((await search.searchText({ text: 'black car', scope: fromHere, filters: byU2, limit: 10 })).hits)).toEqual([]);
      // A member of C-private sees it there, and anyone sees it through the public share.
      const fromPrivate = { tenant: 'T1', channels: ['C-private'], includePublic: true };
      expect(names((await search.searchText({ text: 'black car', scope: fromPrivate, filters: inPrivate, limit: 10 })).hits)).toEqual([
        'both',
        'private',
      ]);
      expect(names((await search.searchText({ text: 'black car', scope: fromHere, limit: 10 })).hits)).toEqual([
        'here',
        'both',
        'public',
      ]);
    });

    it('fills every page even when the best images are all hidden from this conversation', async () => {
      // 30 private images elsewhere outrank everything this conversation may see.
      await seed(
        Array.from({ length: 30 }, (_, i) => ({
          name: `hidden-${i}`,
          vector: [1, 0.001 * i, 0, 0],
          channel: `C-secret-${i % 3}`,
          channelIsPublic: false,
        })),
      );
      const search = service();
      const scope = { tenant: 'T1', channels: ['C-here'], includePublic: true };
      const page = (offset: number) => search.searchText({ text: 'black car', scope, limit: 1, offset });
      const pages = await Promise.all([0, 1, 2].map(page));
      expect(pages.map((p) => [names(p.hits), p.hasMore])).toEqual([
        [['here'], true],
        [['public'], false],
        [[], false],
      ]);
    });
  });

  it('hands the scope and the in:/from: filters to the store in one query, without over-fetching', async () => {
    const seen: { filter: PointFilter; limit: number }[] = [];
    const recording: VectorStore = Object.assign(Object.create(store) as VectorStore, {
      query: (vector: Float32Array, options: { filter: PointFilter; limit: number; offset?: number }) => {
        seen.push({ filter: options.filter, limit: options.limit });
        return store.query(vector, options);
      },
    });
    const search = new SearchService({ embedder, store: recording, minRelativeScore: 0, logger: createSilentLogger() });
    await search.searchText({
      text: 'black car',
      scope: { tenant: 'T1', channels: ['C-here'], includePublic: true },
      filters: { channels: ['C-public'], uploaders: ['U2'], after: new Date('2026-01-01T00:00:00Z') },
      limit: 5,
      offset: 10,
    });
    expect(seen).toEqual([
      {
        filter: {
          tenant: 'T1',
          scope: { conversations: ['C-here'], includePublic: true },
          share: { conversations: ['C-public'], uploaders: ['U2'] },
          after: new Date('2026-01-01T00:00:00Z'),
        },
        limit: 16,
      },
    ]);
    seen.length = 0;
    await search.searchText({ text: 'black car', scope: { tenant: 'T1' }, filters: { channels: [] }, limit: 5 });
    expect(seen).toEqual([{ filter: { tenant: 'T1' }, limit: 6 }]);
  });

  it('filters by uploader and by date', async () => {
    await seed([
      { name: 'old', vector: [1, 0, 0, 0], uploader: 'U1', createdAt: '2025-06-01T00:00:00.000Z' },
      { name: 'new', vector: [1, 0.1, 0, 0], uploader: 'U1', createdAt: '2026-06-01T00:00:00.000Z' },
      { name: 'other', vector: [1, 0.2, 0, 0], uploader: 'U2', createdAt: '2026-06-01T00:00:00.000Z' },
    ]);
    const { hits } = await service().searchText({
      text: 'black car',
      scope: { tenant: 'T1' },
      filters: { uploaders: ['U1'], after: new Date('2026-01-01T00:00:00Z') },
      limit: 10,
    });
    expect(names(hits)).toEqual(['new']);
  });

  it('finds images like an indexed one, leaving the image itself out', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'car2', vector: [1, 0.2, 0, 0] },
      { name: 'dog', vector: [0, 1, 0, 0] },
    ]);
    const { hits } = await service().searchSimilarTo(idOf('car'), { scope: { tenant: 'T1' }, limit: 10 });
    expect(names(hits)).toEqual(['car2', 'dog']);
  });

  it('says an image is gone when "more like this" names one that was deleted or is another tenant\'s', async () => {
    await seed([{ name: 'theirs', vector: [1, 0, 0, 0], tenant: 'T2' }]);
    const search = service();
    await expect(search.searchSimilarTo(idOf('missing'), { scope: { tenant: 'T1' }, limit: 5 })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(search.searchSimilarTo(idOf('theirs', 'T2'), { scope: { tenant: 'T1' }, limit: 5 })).rejects.toBeInstanceOf(
      FindimageError,
    );
  });

  it('says an image is gone when "more like this" names one of a private channel outside the scope', async () => {
    await seed([
      { name: 'secret', vector: [1, 0, 0, 0], channel: 'C-secret', channelIsPublic: false },
      { name: 'car', vector: [1, 0.2, 0, 0] },
    ]);
    const fromGeneral = { tenant: 'T1', channels: ['C-general'], includePublic: true };
    await expect(service().searchSimilarTo(idOf('secret'), { scope: fromGeneral, limit: 5 })).rejects.toMatchObject({
      code: 'not_found',
    });
    const inSecret = { tenant: 'T1', channels: ['C-secret'], includePublic: true };
    expect(names((await service().searchSimilarTo(idOf('secret'), { scope: inSecret, limit: 5 })).hits)).toEqual(['car']);
  });

  it('finds images like an image that was given directly', async () => {
    await seed([
      { name: 'car', vector: [1, 0, 0, 0] },
      { name: 'dog', vector: [0, 1, 0, 0] },
    ]);
    const { hits } = await service().searchSimilarToImage(imageWithVector([0, 1, 0, 0]), { scope: { tenant: 'T1' }, limit: 1 });
    expect(names(hits)).toEqual(['dog']);
    expect(embedder.calls.image).toBe(1);
  });
});
