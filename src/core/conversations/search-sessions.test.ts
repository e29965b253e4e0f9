// SearchSessions, the platform-free life of a search: run in a conversation's scope, paged,
// voted on and shared, with every refusal a person can meet. Real stores in a temporary folder
// and an embedder with known vectors, so hits and scores are exact.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionError } from '../errors.js';
import { openSqliteLabelStore, type SqliteLabelStore } from '../labels/sqlite-label-store.js';
import { parseQuery } from '../search/query-syntax.js';
import { SearchService } from '../search/search-service.js';
import { KeyedLock } from '../store/keyed-lock.js';
import { openSqliteVectorStore, type SqliteVectorStore } from '../store/sqlite-vector-store.js';
import type { ImageShare } from '../store/vector-store.js';
import { imageWithVector, KnownVectorEmbedder } from '../testing/known-vector-embedder.js';
import { createSilentLogger } from '../../logger.js';
import { scopeForTenant } from './conversation-scope.js';
import { PAGE_SIZE, SearchSessions, type SessionContext } from './search-sessions.js';

const logger = createSilentLogger();
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** #general (public) as seen from itself: its own images and every public share of T1. */
const GENERAL: SessionContext = { scope: { tenant: 'T1', channels: ['CGENERAL'], includePublic: true }, conversation: 'CGENERAL', user: 'U1' };
/** A front end that shows the whole tenant (as the web app shows "local"), with pages of its own size. */
const WHOLE_TENANT: SessionContext = { scope: scopeForTenant('T1'), conversation: 'web', user: 'web' };

function share(conversation: string, isPublic: boolean, extra: Partial<ImageShare> = {}): ImageShare {
  return { conversation, isPublic, sharedAt: '2026-01-15T12:00:00.000Z', uploader: 'U9', messageId: `m-${conversation}`, fileId: `f-${conversation}`, ...extra };
}

describe('SearchSessions', () => {
  let dir: string;
  let store: SqliteVectorStore;
  let labels: SqliteLabelStore;
  let sessions: SearchSessions;

  /** Image n points along [1, n/10]: image 1 is closest to "red", and scores fall with n. */
  async function addImage(n: number, shares: ImageShare[], tenant = 'T1'): Promise<string> {
    await store.upsert([
      {
        id: uuid(n),
        vector: Float32Array.from([1, n / 10].map((v) => v / Math.hypot(1, n / 10))),
        payload: { tenant, source: 'slack', filename: `img${n}.png`, contentHash: `h${n}`, modelId: 'known-vectors', createdAt: '2026-01-15T12:00:00.000Z', width: 8, height: 8, shares },
      },
    ]);
    return uuid(n);
  }

  const searchRed = (context: SessionContext = GENERAL, typed = 'red') =>
    sessions.startText(context, { typed, parsed: parseQuery(typed), filters: {} });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-sessions-'));
    store = await openSqliteVectorStore({ path: join(dir, 'store.sqlite'), dimension: 2, logger });
    labels = await openSqliteLabelStore({ path: join(dir, 'labels.sqlite'), logger });
    const embedder = new KnownVectorEmbedder(2, { red: [1, 0] });
    const search = new SearchService({ embedder, store, minRelativeScore: 0, logger });
    sessions = new SearchSessions({ search, store, labels, prepareImage: async () => imageWithVector([1, 0.05]), modelId: 'known-vectors', logger });
  });
  afterEach(async () => {
    await labels.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('a search', () => {
    it('shows the images the conversation may see, best first, with the share to show, and logs the query', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      await addImage(2, [share('CSECRET', false)]);
      await addImage(3, [share('CSECRET', false), share('CRANDOM', true)]);
      await addImage(4, [share('CGENERAL', true)], 'T2');

      const page = await searchRed();
      expect(page.hits.map((h) => [h.imageId, h.rank, h.share?.conversation])).toEqual([
        [uuid(1), 1, 'CGENERAL'],
        [uuid(3), 2, 'CRANDOM'],
      ]);
      expect(page.hasMore).toBe(false);
      expect(await labels.getQuery('T1', page.query.queryId)).toMatchObject({ text: 'red', searchText: 'red', conversation: 'CGENERAL', user: 'U1' });
    });

    it('prefers the share in the conversation itself when an image was shared in several', async () => {
      await addImage(1, [share('CRANDOM', true), share('CGENERAL', true)]);
      expect((await searchRed()).hits[0]?.share?.conversation).toBe('CGENERAL');
    });

    it('logs nothing when nothing matched: there is nothing to page, vote on or share', async () => {
      const page = await searchRed();
      expect(page.hits).toEqual([]);
      expect(await labels.getQuery('T1', page.query.queryId)).toBeUndefined();
    });

    it('keeps a search\'s own cut-off with its query, so every later page uses it', async () => {
      for (let n = 1; n <= 7; n++) await addImage(n, [share('CGENERAL', true)]);
      // Image n scores 1/hypot(1, n/10): at 0.9 of the best, images 1 to 4 are kept.
      const first = await sessions.startText(GENERAL, { typed: 'red', parsed: parseQuery('red'), filters: {}, tuning: { minRelativeScore: 0.9 } }, { offset: 0, limit: 2 });
      expect(first.hits.map((h) => h.imageId)).toEqual([uuid(1), uuid(2)]);
      expect(first.cutOff).toEqual({ applied: 0.9, below: 0, mayBeMore: false });
      expect((await labels.getQuery('T1', first.query.queryId))?.tuning).toEqual({ minRelativeScore: 0.9 });
      const second = await sessions.results(GENERAL, first.query.queryId, { offset: 2, limit: 2 });
      expect(second.hits.map((h) => h.imageId)).toEqual([uuid(3), uuid(4)]);
      expect(second.hasMore).toBe(false);
      expect(second.cutOff).toEqual({ applied: 0.9, below: 1, mayBeMore: true });
      // Like image 1 (itself left out), relative to the best, image 2: image 3 scores 0.986,
      // image 4 0.965, so at 0.97 images 2 and 3 are kept and the other four fall under it.
      const like = await sessions.startLike(GENERAL, uuid(1), { offset: 0, limit: 10 }, { minRelativeScore: 0.97 });
      expect(like.hits.map((h) => h.imageId)).toEqual([uuid(2), uuid(3)]);
      expect(like.cutOff).toEqual({ applied: 0.97, below: 4, mayBeMore: false });
      const likeAgain = await sessions.results(GENERAL, like.query.queryId, { offset: 0, limit: 10 });
      expect(likeAgain.hits.map((h) => h.imageId)).toEqual([uuid(2), uuid(3)]);
      expect(likeAgain.cutOff).toEqual({ applied: 0.97, below: 4, mayBeMore: false });
    });

    it('pages in the conversation it was run in, with ranks continuing across pages', async () => {
      for (let n = 1; n <= PAGE_SIZE + 2; n++) await addImage(n, [share('CGENERAL', true)]);
      const first = await searchRed();
      expect(first.hasMore).toBe(true);
      const second = await sessions.page(GENERAL, first.query.queryId, 1);
      expect(second.hits.map((h) => h.rank)).toEqual([6, 7]);
      expect(second.hasMore).toBe(false);
    });

    it('refuses, politely, a page asked for from another conversation or workspace', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const random: SessionContext = { ...GENERAL, scope: { ...GENERAL.scope, channels: ['CRANDOM'] }, conversation: 'CRANDOM' };
      await expect(sessions.page(random, query.queryId, 1)).rejects.toThrow('That search belongs to another conversation. Run it again here to use it.');
      const otherTeam: SessionContext = { ...GENERAL, scope: { ...GENERAL.scope, tenant: 'T2' } };
      await expect(sessions.page(otherTeam, query.queryId, 1)).rejects.toThrow(SessionError);
      await expect(sessions.page(otherTeam, query.queryId, 1)).rejects.toThrow('That search is no longer available here. Please run it again.');
    });
  });

  describe('searching by image', () => {
    it('pages an indexed image live ("more like this"), leaving the image itself out', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      await addImage(2, [share('CGENERAL', true)]);
      const page = await sessions.startLike(GENERAL, uuid(1));
      expect(page.hits.map((h) => h.imageId)).toEqual([uuid(2)]);
      expect(page.query).toMatchObject({ kind: 'image', sourceImageId: uuid(1), text: 'img1.png' });
    });

    it('treats an image the conversation may not see as absent, so not even its name leaks', async () => {
      await addImage(1, [share('CSECRET', false)]);
      await expect(sessions.startLike(GENERAL, uuid(1))).rejects.toThrow('That image is no longer in the index.');
    });

    it('embeds an image that is not indexed once and pages a snapshot of its hits', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const page = await sessions.startImage(GENERAL, { bytes: new Uint8Array([1, 2, 3]), name: 'photo.png' });
      expect(page.hits.map((h) => h.imageId)).toEqual([uuid(1)]);
      expect(page.query.snapshot?.map((h) => h.imageId)).toEqual([uuid(1)]);
    });
  });

  describe('pages of a front end\'s own size', () => {
    it('starts and pages a text search in windows of any size, ranks counting from the first result', async () => {
      for (let n = 1; n <= 7; n++) await addImage(n, [share('CGENERAL', true)]);
      const first = await sessions.startText(WHOLE_TENANT, { typed: 'red', parsed: parseQuery('red'), filters: {} }, { offset: 0, limit: 3 });
      expect(first.hits.map((h) => h.rank)).toEqual([1, 2, 3]);
      expect(first.hasMore).toBe(true);
      const last = await sessions.results(WHOLE_TENANT, first.query.queryId, { offset: 6, limit: 3 });
      expect(last.hits.map((h) => [h.imageId, h.rank])).toEqual([[uuid(7), 7]]);
      expect(last.hasMore).toBe(false);
      // A link to a later page with no earlier search starts one there.
      const linked = await sessions.startText(WHOLE_TENANT, { typed: 'red', parsed: parseQuery('red'), filters: {} }, { offset: 3, limit: 3 });
      expect(linked.hits.map((h) => h.rank)).toEqual([4, 5, 6]);
      expect(linked.query.queryId).not.toBe(first.query.queryId);
    });

    it('shows a whole-tenant scope every image of the tenant, in any conversation or none, and no other tenant\'s', async () => {
      await addImage(1, [share('CSECRET', false)]);
      await addImage(2, []);
      await addImage(3, [share('CGENERAL', true)], 'T2');
      const page = await sessions.startText(WHOLE_TENANT, { typed: 'red', parsed: parseQuery('red'), filters: {} });
      expect(page.hits.map((h) => h.imageId)).toEqual([uuid(1), uuid(2)]);
    });

    it('pages the snapshot of an image that is not indexed: hasMore while more are kept, and the next page shows them', async () => {
      for (let n = 1; n <= 7; n++) await addImage(n, [share('CGENERAL', true)]);
      const first = await sessions.startImage(WHOLE_TENANT, { bytes: new Uint8Array([9, 9]), name: 'dropped.png' }, { offset: 0, limit: 4 });
      expect(first.query.snapshot).toHaveLength(7);
      expect(first.hits.map((h) => h.rank)).toEqual([1, 2, 3, 4]);
      expect(first.hasMore).toBe(true);
      const second = await sessions.results(WHOLE_TENANT, first.query.queryId, { offset: 4, limit: 4 });
      expect(second.hits.map((h) => [h.imageId, h.rank])).toEqual([
        [uuid(5), 5],
        [uuid(6), 6],
        [uuid(7), 7],
      ]);
      expect(second.hasMore).toBe(false);
      // Chat pages of the same snapshot line up with PAGE_SIZE.
      expect((await sessions.page(WHOLE_TENANT, first.query.queryId, 1)).hits.map((h) => h.rank)).toEqual([6, 7]);
    });

    it('refuses a window that is not whole numbers, and a page of another conversation\'s search', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const page = await sessions.startText(WHOLE_TENANT, { typed: 'red', parsed: parseQuery('red'), filters: {} });
      await expect(sessions.results(WHOLE_TENANT, page.query.queryId, { offset: -1, limit: 5 })).rejects.toThrow('A page starts at a whole number');
      await expect(sessions.results(WHOLE_TENANT, page.query.queryId, { offset: 0, limit: 0 })).rejects.toThrow('A page starts at a whole number');
      await expect(sessions.startText(WHOLE_TENANT, { typed: 'red', parsed: parseQuery('red'), filters: {} }, { offset: 0.5, limit: 5 })).rejects.toThrow('A page starts at a whole number');
      await expect(sessions.results({ ...GENERAL, scope: scopeForTenant('T1') }, page.query.queryId, { offset: 0, limit: 5 })).rejects.toThrow('belongs to another conversation');
    });
  });

  describe('votes', () => {
    it('records a +1 from the presser, takes it back when pressed again, and replaces it with a -1', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const votes = () => labels.listLabels({ tenant: 'T1', queryId: query.queryId });

      expect((await sessions.vote(GENERAL, query.queryId, uuid(1), 1)).status).toBe('added');
      expect(await votes()).toMatchObject([{ user: 'U1', imageId: uuid(1), value: 1, queryText: 'red', modelId: 'known-vectors' }]);
      expect((await sessions.vote(GENERAL, query.queryId, uuid(1), 1)).status).toBe('removed');
      expect(await votes()).toEqual([]);
      await sessions.vote(GENERAL, query.queryId, uuid(1), 1);
      await sessions.vote(GENERAL, query.queryId, uuid(1), -1);
      expect((await votes()).map((l) => l.value)).toEqual([-1]);
    });

    it('sets a vote to the state asked for (the web page): repeating it changes nothing, another value replaces it, 0 clears it', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const votes = () => labels.listLabels({ tenant: 'T1', queryId: query.queryId });
      const ana = { ...GENERAL, user: 'ana' };

      expect(await sessions.setVote(ana, query.queryId, uuid(1), 1)).toMatchObject({ value: 1, payload: { filename: 'img1.png' } });
      await sessions.setVote(ana, query.queryId, uuid(1), 1);
      expect(await votes()).toMatchObject([{ user: 'ana', value: 1, queryText: 'red', modelId: 'known-vectors' }]);
      await sessions.setVote(ana, query.queryId, uuid(1), -1);
      expect((await votes()).map((l) => l.value)).toEqual([-1]);
      expect(await sessions.votesOf(ana, query.queryId)).toEqual([{ imageId: uuid(1), value: -1 }]);
      expect(await sessions.votesOf(GENERAL, query.queryId)).toEqual([]);
      await sessions.setVote(ana, query.queryId, uuid(1), 0);
      expect(await votes()).toEqual([]);
    });

    it('keeps one vote per person and result when two votes come quickly (👍 then 👎 before the first is stored): the last one wins', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const ana = { ...GENERAL, user: 'ana' };
      // The first vote's read of the votes given is held until the second vote has had its chance.
      const listLabels = labels.listLabels.bind(labels);
      let letFirstRead!: () => void;
      const firstRead = new Promise<void>((resolve) => (letFirstRead = resolve));
      let reads = 0;
      const spy = vi.spyOn(labels, 'listLabels').mockImplementation(async (filter) => {
        reads += 1;
        const given = await listLabels(filter);
        if (reads === 1) await firstRead;
        return given;
      });
      const acquire = KeyedLock.prototype.acquire;
      let blocked = 0;
      const lockSpy = vi.spyOn(KeyedLock.prototype, 'acquire').mockImplementation(function (this: KeyedLock, key: string) {
        const pending = acquire.call(this, key);
        blocked += 1;
        void pending.then(() => (blocked -= 1));
        return pending;
      });
      try {
        const up = sessions.setVote(ana, query.queryId, uuid(1), 1);
        await vi.waitFor(() => expect(reads).toBe(1));
        let downDone = false;
        const down = sessions.setVote(ana, query.queryId, uuid(1), -1).finally(() => (downDone = true));
        // The second vote has either finished (no lock) or waits for the first.
        await vi.waitFor(() => expect(downDone || blocked > 0).toBe(true));
        letFirstRead();
        await Promise.all([up, down]);
      } finally {
        spy.mockRestore();
        lockSpy.mockRestore();
      }
      expect((await labels.listLabels({ tenant: 'T1', queryId: query.queryId })).map((l) => [l.user, l.value])).toEqual([['ana', -1]]);
    });

    it('refuses to set or list votes on a search of another conversation', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const random: SessionContext = { ...GENERAL, scope: { ...GENERAL.scope, channels: ['CRANDOM'] }, conversation: 'CRANDOM' };
      await expect(sessions.setVote(random, query.queryId, uuid(1), 1)).rejects.toThrow('belongs to another conversation');
      await expect(sessions.votesOf(random, query.queryId)).rejects.toThrow('belongs to another conversation');
      expect(await labels.listLabels({ tenant: 'T1' })).toEqual([]);
    });

    it('gives a clear answer for a vote on an image deleted since', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      await store.delete([uuid(1)], { tenant: 'T1' });
      await expect(sessions.vote(GENERAL, query.queryId, uuid(1), 1)).rejects.toThrow('That image has since been deleted');
      expect(await labels.listLabels({ tenant: 'T1' })).toEqual([]);
    });
  });

  describe('shares and reactions', () => {
    it('labels exactly the (query, image) of a message showing one result, for whoever reacted', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const page = await searchRed();
      await sessions.recordShare(GENERAL, page.query.queryId, '100.1', page.hits.slice(0, 1));
      const reaction = { tenant: 'T1', conversation: 'CGENERAL', messageId: '100.1', user: 'U2', value: 1 as const, added: true };

      expect((await sessions.reaction(reaction)).status).toBe('labelled');
      expect(await labels.listLabels({ tenant: 'T1' })).toMatchObject([{ user: 'U2', imageId: uuid(1), queryId: page.query.queryId, value: 1 }]);
      expect((await sessions.reaction({ ...reaction, added: false })).status).toBe('unlabelled');
      expect(await labels.listLabels({ tenant: 'T1' })).toEqual([]);
    });

    it('records no label for a reaction on a message showing several results, and says so', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      await addImage(2, [share('CGENERAL', true)]);
      const page = await searchRed();
      await sessions.recordShare(GENERAL, page.query.queryId, '100.2', page.hits);
      expect(await labels.findResultMessages('T1', 'CGENERAL', '100.2')).toMatchObject([{ postedBy: 'U1' }, { postedBy: 'U1' }]);
      const result = await sessions.reaction({ tenant: 'T1', conversation: 'CGENERAL', messageId: '100.2', user: 'U2', value: 1, added: true });
      expect(result).toEqual({ status: 'several', results: 2 });
      expect(await labels.listLabels({ tenant: 'T1' })).toEqual([]);
    });

    it('ignores reactions on messages that are not results, or in another workspace', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const page = await searchRed();
      await sessions.recordShare(GENERAL, page.query.queryId, '100.3', page.hits);
      expect((await sessions.reaction({ tenant: 'T1', conversation: 'CGENERAL', messageId: '999.9', user: 'U2', value: 1, added: true })).status).toBe('not_ours');
      expect((await sessions.reaction({ tenant: 'T2', conversation: 'CGENERAL', messageId: '100.3', user: 'U2', value: 1, added: true })).status).toBe('not_ours');
    });

    it('checks a result before it is sent: from this conversation, and still visible here', async () => {
      await addImage(1, [share('CGENERAL', true)]);
      const { query } = await searchRed();
      const { hit } = await sessions.result(GENERAL, query.queryId, uuid(1), { rank: 1, score: 0.99 });
      expect(hit).toMatchObject({ imageId: uuid(1), rank: 1, score: 0.99, share: { conversation: 'CGENERAL' } });
      await store.delete([uuid(1)], { tenant: 'T1' });
      await expect(sessions.result(GENERAL, query.queryId, uuid(1), { rank: 1, score: 0.99 })).rejects.toThrow('has since been deleted');
    });
  });
});
