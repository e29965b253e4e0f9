// The web API over real HTTP on the tiny model: upload through the durable queue, search,
// paging, votes, stats, thumbnails, metrics, readiness, and every bad input the issue lists;
// /api/stats and searches see the local tenant only, and without a token a foreign Host is refused.
import { request as httpRequest } from 'node:http';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pointIdFor } from '../../src/core/indexing/point-id.js';
import { startWebHarness, jpegOf, multipartOf, type WebHarness } from './web-harness.js';

// Each test gets its own server and data folder with the same seven photos: tests upload and
// vote, and counts asserted in one must not depend on which ran before it (vitest --sequence.shuffle).
describe('web API', () => {
  let h: WebHarness;
  let base: string;
  let ids: string[];

  beforeEach(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
    const files = await Promise.all(
      Array.from({ length: 7 }, async (_, i) => ({ name: `photo ${i}.jpg`, bytes: await jpegOf([30 * i, 200 - 20 * i, 90], 64, 48, i) })),
    );
    const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf(files) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { files: Array<{ status: string; id: string }> };
    expect(body.files.map((f) => f.status)).toEqual(Array(7).fill('indexed'));
    ids = body.files.map((f) => f.id);
  });
  afterEach(async () => h.close());

  it('searches with the CLI JSON shape, pages with the queryId and stores a vote', async () => {
    const first = await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=5`)).json() as any;
    expect(first).toMatchObject({ query: 'a photo', model: 'tiny-test', offset: 0, k: 5, hasMore: true });
    expect(first.results).toHaveLength(5);
    expect(first.results[0]).toMatchObject({ rank: 1, tenant: 'local', source: 'local', modelId: 'tiny-test' });
    expect(typeof first.results[0].score).toBe('number');
    expect(first.results[0]).not.toHaveProperty('path');
    const second = await (await fetch(`${base}/api/searches/${first.queryId}?k=5&offset=5`)).json() as any;
    expect(second).toMatchObject({ query: 'a photo', queryId: first.queryId, offset: 5, k: 5 });
    expect(second.results.map((r: { rank: number }) => r.rank)).toEqual([6, 7]);
    expect(second.hasMore).toBe(false);
    const allIds = [...first.results, ...second.results].map((r: { id: string }) => r.id).sort();
    expect(allIds).toEqual([...ids].sort());

    const vote = await fetch(`${base}/api/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queryId: first.queryId, imageId: first.results[0].id, user: 'ana', value: 1 }),
    });
    expect(vote.status).toBe(200);
    const labels = await h.findimage.labels.listLabels({ tenant: 'local', queryId: first.queryId });
    expect(labels.map((l) => [l.imageId, l.user, l.value])).toEqual([[first.results[0].id, 'ana', 1]]);
    // Setting the other value replaces it; 0 clears it.
    await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId: first.queryId, imageId: first.results[0].id, user: 'ana', value: -1 }) });
    expect((await h.findimage.labels.listLabels({ tenant: 'local', queryId: first.queryId })).map((l) => l.value)).toEqual([-1]);
    await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId: first.queryId, imageId: first.results[0].id, user: 'ana', value: 0 }) });
    expect(await h.findimage.labels.listLabels({ tenant: 'local', queryId: first.queryId })).toEqual([]);
  });

  it('lists a voter\'s votes on a search, and refuses votes and pages for a search it does not know', async () => {
    const first = await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=2`)).json() as any;
    const vote = (body: object) => fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await vote({ queryId: first.queryId, imageId: first.results[1].id, user: ' bo ', value: -1 })).status).toBe(200);
    // Pressing the same state again changes nothing (the page sends the state it shows).
    expect((await vote({ queryId: first.queryId, imageId: first.results[1].id, user: 'bo', value: -1 })).status).toBe(200);
    const mine = await (await fetch(`${base}/api/labels?queryId=${first.queryId}&user=bo`)).json() as any;
    expect(mine).toEqual({ labels: [{ imageId: first.results[1].id, value: -1 }] });
    expect(await (await fetch(`${base}/api/labels?queryId=${first.queryId}&user=ana`)).json()).toEqual({ labels: [] });

    const unknown = '00000000-0000-4000-8000-000000000001';
    const refused = await vote({ queryId: unknown, imageId: first.results[0].id, user: 'bo', value: 1 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'session_refused', message: expect.stringMatching(/no longer available/) });
    expect((await fetch(`${base}/api/searches/${unknown}?k=5`)).status).toBe(400);
    expect((await fetch(`${base}/api/searches/not-a-query?k=5`)).status).toBe(400);
  });

  it('pages a search by a dropped image from its snapshot: hasMore, then the rest, then votes on it', async () => {
    const total = await h.findimage.store.count({ tenant: 'local' });
    const dropped = await fetch(`${base}/api/search/image?k=4`, { method: 'POST', body: multipartOf([{ name: 'query.jpg', bytes: await jpegOf([5, 90, 200], 64, 48, 99) }]) });
    expect(dropped.status).toBe(200);
    const first = await dropped.json() as any;
    expect(first).toMatchObject({ image: 'query.jpg', offset: 0, k: 4, hasMore: true });
    expect(first.results.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3, 4]);
    const second = await (await fetch(`${base}/api/searches/${first.queryId}?k=4&offset=4`)).json() as any;
    expect(second).toMatchObject({ image: 'query.jpg', queryId: first.queryId, offset: 4, hasMore: total > 8 });
    const ranks = Array.from({ length: Math.min(4, total - 4) }, (_, i) => 5 + i);
    expect(second.results.map((r: { rank: number }) => r.rank)).toEqual(ranks);
    const seen = new Set([...first.results, ...second.results].map((r: { id: string }) => r.id));
    expect(seen.size).toBe(4 + ranks.length);
    // The dropped image was embedded, never stored.
    expect(await h.findimage.store.count({ tenant: 'local' })).toBe(total);
    const vote = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId: first.queryId, imageId: second.results[0].id, user: 'cy', value: 1 }) });
    expect(vote.status).toBe(200);
    expect(await h.findimage.labels.listLabels({ tenant: 'local', queryId: first.queryId })).toMatchObject([{ user: 'cy', queryText: 'query.jpg', value: 1 }]);
  });

  it('finds images like an indexed one and like a dropped image', async () => {
    const like = await (await fetch(`${base}/api/images/${ids[0]}/similar?k=3`)).json() as any;
    expect(like.results).toHaveLength(3);
    expect(like.results.map((r: { id: string }) => r.id)).not.toContain(ids[0]);
    expect(like.image).toBe(ids[0]);
    const dropped = await fetch(`${base}/api/search/image?k=4`, { method: 'POST', body: multipartOf([{ name: 'query.jpg', bytes: await jpegOf([1, 2, 3]) }]) });
    expect(dropped.status).toBe(200);
    expect((await dropped.json() as any).results).toHaveLength(4);
    // An indexed image dropped on the page is searched like "more like this", but the answer
    // still names the file that was dropped, as docs/web.md promises.
    const again = await fetch(`${base}/api/search/image?k=4`, { method: 'POST', body: multipartOf([{ name: 'same as photo 2.jpg', bytes: await jpegOf([60, 160, 90], 64, 48, 2) }]) });
    const indexed = (await again.json()) as any;
    expect(indexed.results.map((r: { id: string }) => r.id)).not.toContain(ids[2]);
    expect(indexed.image).toBe('same as photo 2.jpg');
  });

  it('answers stats, thumbnails (JPEG, at most 512 px, revalidated by ETag) and metrics', async () => {
    const stats = await (await fetch(`${base}/api/stats`)).json() as any;
    expect(stats).toMatchObject({ model: 'tiny-test', total: 7, bySource: { local: 7 }, byModel: { 'tiny-test': 7 }, queue: { pending: 0 } });
    const big = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'big.jpg', bytes: await jpegOf([10, 10, 200], 1600, 1000) }]) });
    const [bigFile] = (await big.json() as any).files;
    const thumb = await fetch(`${base}/api/images/${bigFile.id}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    expect(thumb.headers.get('cache-control')).toBe('private, no-cache');
    const sharp = (await import('sharp')).default;
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([512, 320]);

    await fetch(`${base}/api/search?q=x`);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'findimage_search_duration_seconds_bucket',
      'findimage_upload_queue_length',
      'findimage_embedding_queue_length{lane="interactive"}',
      'findimage_upload_queue_oldest_age_seconds',
      'findimage_share_updates_pending 0',
      'findimage_share_updates_stuck 0',
      'findimage_store_images 8',
      'findimage_errors_total',
      'findimage_embeddings_total{tower="text"}',
      'findimage_embeddings_total{tower="vision"}',
      'findimage_chat_events_total',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('takes a cut-off and a prompt template for one search, keeps them for its pages, and says what the cut-off dropped', async () => {
    const served = (await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=5`)).json()) as any;
    // The harness's server keeps every result (FINDIMAGE_MIN_RELATIVE_SCORE=0): nothing dropped.
    expect(served.cutOff).toEqual({ applied: 0, below: 0, mayBeMore: false });
    expect(served).not.toHaveProperty('template');
    const strict = (await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=5&minScore=1&template=${encodeURIComponent('{}')}`)).json()) as any;
    expect(strict).toMatchObject({ template: '{}', minScore: 1 });
    // What the cut-off dropped is counted in the window read (the page plus one, 6 of the 7
    // photos). The tiny model's scores are random but fixed: the same search with no cut-off
    // gives them, and a cut-off of 1 keeps exactly those equal to the best (all of them when
    // the best is not positive, where a relative cut-off means nothing).
    const window = (await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=6&minScore=0&template=${encodeURIComponent('{}')}`)).json()) as any;
    const scores: number[] = window.results.map((r: { score: number }) => r.score);
    expect(scores).toHaveLength(6);
    const best = scores[0]!;
    const kept = best <= 0 ? 6 : scores.filter((score) => score >= best).length;
    expect(strict.results.map((r: { id: string }) => r.id)).toEqual(window.results.slice(0, Math.min(kept, 5)).map((r: { id: string }) => r.id));
    expect(strict.cutOff).toEqual({ applied: 1, below: 6 - kept, mayBeMore: kept < 6 });
    const page = (await (await fetch(`${base}/api/searches/${strict.queryId}?k=5&offset=0`)).json()) as any;
    expect(page).toMatchObject({ template: '{}', minScore: 1 });
    expect(page.results.map((r: { id: string }) => r.id)).toEqual(strict.results.map((r: { id: string }) => r.id));
    // The template changes what is embedded, so the scores differ from the served template's.
    const bare = (await (await fetch(`${base}/api/search?q=${encodeURIComponent('a photo')}&k=1&template=${encodeURIComponent('{}')}`)).json()) as any;
    expect(bare.results[0].score).not.toBe(served.results[0].score);
    // Image to image, where scores are positive: a cut-off between the third and fourth relative
    // score keeps exactly three, and the other three of the window (k + 1 = 6, all the others)
    // are counted under it.
    const likeAll = (await (await fetch(`${base}/api/images/${ids[0]}/similar?k=6&minScore=0`)).json()) as any;
    const likeScores: number[] = likeAll.results.map((r: { score: number }) => r.score);
    expect(likeScores).toHaveLength(6);
    const relative = likeScores.map((score) => score / likeScores[0]!);
    expect(likeScores[0]).toBeGreaterThan(0);
    expect(relative[2]).toBeGreaterThan(relative[3]!);
    const between = (relative[2]! + relative[3]!) / 2;
    const likeCut = (await (await fetch(`${base}/api/images/${ids[0]}/similar?k=5&minScore=${between}`)).json()) as any;
    expect(likeCut.results.map((r: { id: string }) => r.id)).toEqual(likeAll.results.slice(0, 3).map((r: { id: string }) => r.id));
    expect(likeCut.cutOff).toEqual({ applied: between, below: 3, mayBeMore: true });
    const like = (await (await fetch(`${base}/api/images/${ids[0]}/similar?k=3&minScore=0.5`)).json()) as any;
    expect(like).toMatchObject({ minScore: 0.5, imageName: 'photo 0.jpg' });
    const likeNext = (await (await fetch(`${base}/api/searches/${like.queryId}?k=3&offset=3`)).json()) as any;
    expect(likeNext).toMatchObject({ minScore: 0.5, imageName: 'photo 0.jpg' });

    for (const [query, message] of [
      ['minScore=1.5', /minScore must be <= 1/],
      ['minScore=-1', /minScore must be >= 0/],
      ['template=a%20photo', /has no \{\} to put the description in/],
      [`template=${encodeURIComponent(`${'x'.repeat(300)} {}`)}`, /at most 200/],
      [`template=${encodeURIComponent('{}'.repeat(100))}`, /more than once/],
    ] as const) {
      const response = await fetch(`${base}/api/search?q=cat&${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { message: string }).message, query).toMatch(message);
    }
  });

  it('says a description was shortened when the template it goes in leaves it too little room', async () => {
    const long = 'a'.repeat(480);
    const bare = (await (await fetch(`${base}/api/search?q=${long}&k=1`)).json()) as any;
    expect(bare).not.toHaveProperty('truncated');
    const wrapped = (await (await fetch(`${base}/api/search?q=${long}&k=1&template=${encodeURIComponent(`${'w'.repeat(40)} {}`)}`)).json()) as any;
    expect(wrapped.truncated).toBe(true);
  });

  it('shows a TIFF, which browsers cannot, as a large JPEG, and downloads the TIFF itself', async () => {
    const tiff = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: { r: 200, g: 120, b: 40 } } }).tiff().toBuffer();
    const response = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'scan.tif', bytes: tiff, type: 'image/tiff' }]) });
    const id = ((await response.json()) as { files: Array<{ id: string }> }).files[0]!.id;
    const large = await fetch(`${base}/api/images/${id}/large`);
    expect(large.headers.get('content-type')).toBe('image/jpeg');
    const shown = await sharp(Buffer.from(await large.arrayBuffer())).metadata();
    expect([shown.format, shown.width, shown.height]).toEqual(['jpeg', 2048, 683]);
    const original = await fetch(`${base}/api/images/${id}/original`);
    expect(original.headers.get('content-type')).toBe('image/tiff');
    expect(Buffer.from(await original.arrayBuffer()).equals(tiff)).toBe(true);
  });

  it('points at the part of the query at fault in a syntax error', async () => {
    const q = 'red car after:2026-02-30 -truck';
    const response = await fetch(`${base}/api/search?q=${encodeURIComponent(q)}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; message: string; span: { start: number; end: number } };
    expect(body.error).toBe('query_invalid');
    expect(body.message).toMatch(/after:2026-02-30 is not a date/);
    expect(q.slice(body.span.start, body.span.end)).toBe('after:2026-02-30');
  });

  it('refuses bad input with a reason', async () => {
    const empty = await fetch(`${base}/api/search?q=`);
    expect(empty.status).toBe(400);
    expect((await empty.json() as any).error).toBe('query_invalid');
    const long = await fetch(`${base}/api/search?q=${'cat '.repeat(1500)}`);
    expect(long.status).toBe(200);
    expect((await long.json() as any).truncated).toBe(true);
    expect((await fetch(`${base}/api/search?q=${encodeURIComponent('a photo -dog -"red car"')}`)).status).toBe(200);
    const filtered = await fetch(`${base}/api/search?q=${encodeURIComponent('cat in:#general')}`);
    expect(filtered.status).toBe(400);

    const mixed = await fetch(`${base}/api/images`, {
      method: 'POST',
      body: multipartOf([
        { name: 'notes.txt', bytes: new TextEncoder().encode('just some text, not an image at all'), type: 'text/plain' },
        { name: '<img src=x onerror=alert(1)>.jpg', bytes: await jpegOf([250, 0, 0]) },
      ]),
    });
    expect(mixed.status).toBe(200);
    const answers = (await mixed.json() as any).files;
    expect(answers[0]).toMatchObject({ name: 'notes.txt', status: 'refused', code: 'image_unsupported' });
    expect(answers[0].reason).toMatch(/not an image|findimage reads/);
    expect(answers[1]).toMatchObject({ name: '<img src=x onerror=alert(1)>.jpg', status: 'indexed' });

    const huge = new Uint8Array(60 * 1024 * 1024);
    huge.set([0xff, 0xd8, 0xff]);
    const tooLarge = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'huge.jpg', bytes: huge }]) });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json() as any).error).toBe('image_too_large');

    // Without a Content-Length (chunked), the body is counted as it arrives and cut off.
    const boundary = 'findimage-test-boundary';
    const part = (name: string) => new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/jpeg\r\n\r\n`);
    const thirtyMb = new Uint8Array(30 * 1024 * 1024);
    thirtyMb.set([0xff, 0xd8, 0xff]);
    const chunks = [part('a.jpg'), thirtyMb, new TextEncoder().encode('\r\n'), part('b.jpg'), thirtyMb, new TextEncoder().encode(`\r\n--${boundary}--\r\n`)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    const chunked = await fetch(`${base}/api/images`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await chunked.json() as any).error).toBe('image_too_large');

    const unknown = await fetch(`${base}/api/images/00000000-0000-8000-8000-000000000000/thumbnail`);
    expect(unknown.status).toBe(404);
    expect((await fetch(`${base}/api/images/not-an-id/thumbnail`)).status).toBe(400);

    const malformed = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"queryId": ' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json() as any).message).toMatch(/JSON/);
    const badValue = await fetch(`${base}/api/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queryId: ids[0], imageId: ids[0], user: 'ana', value: 2 }),
    });
    expect(badValue.status).toBe(400);
  });

  it('answers 422 with each file\'s reason when an upload stored nothing, and 200 when any file was stored', async () => {
    const text = (name: string) => ({ name, bytes: new TextEncoder().encode('just some text, not an image at all'), type: 'text/plain' });
    const one = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([text('notes.txt')]) });
    expect(one.status).toBe(422);
    const oneBody = (await one.json()) as any;
    expect(oneBody).toMatchObject({ error: 'nothing_stored', files: [{ name: 'notes.txt', status: 'refused', code: 'image_unsupported' }] });
    expect(oneBody.message).toMatch(/^Nothing was stored: .*not an image|findimage reads/);

    const two = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([text('a.txt'), { name: 'b.jpg', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]) }]) });
    expect(two.status).toBe(422);
    const twoBody = (await two.json()) as any;
    expect(twoBody.files.map((f: { name: string; status: string }) => [f.name, f.status])).toEqual([['a.txt', 'refused'], ['b.jpg', 'refused']]);
    for (const file of twoBody.files) expect(file.reason).toEqual(expect.any(String));
    expect(await h.findimage.store.count()).toBe(7);

    // Already indexed counts as stored: the image is in the index.
    const again = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'photo 0.jpg', bytes: await jpegOf([0, 200, 90], 64, 48, 0) }, text('c.txt')]) });
    expect(again.status).toBe(200);
    expect(((await again.json()) as any).files.map((f: { status: string }) => f.status)).toEqual(['duplicate', 'refused']);
  });

  it('refuses state-changing requests from another site', async () => {
    const body = JSON.stringify({ queryId: ids[0], imageId: ids[0], user: 'ana', value: 1 });
    const crossSite = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body });
    expect(crossSite.status).toBe(403);
    const foreignOrigin = await fetch(`${base}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body });
    expect(foreignOrigin.status).toBe(403);
  });
});

describe('web API while the model loads', () => {
  it('answers 503 with Retry-After at once, then serves when ready', async () => {
    const h = await startWebHarness({ holdCore: true });
    try {
      const base = h.server.url.replace(/\/$/, '');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      for (const path of ['/readyz', '/api/search?q=cat', '/api/stats']) {
        const response = await fetch(`${base}${path}`);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(JSON.stringify(await response.json() as any)).toMatch(/loading/);
      }
      h.server.core.ready(h.findimage);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('web API with the store down', () => {
  it('says so on /readyz with 503 and Retry-After, and refuses searches the same way', async () => {
    const h = await startWebHarness();
    try {
      const base = h.server.url.replace(/\/$/, '');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await h.findimage.store.close();
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      expect((await ready.json() as any).reason).toMatch(/store/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const search = await fetch(`${base}/api/search?q=cat`);
      expect(search.status).toBeGreaterThanOrEqual(500);
      expect(JSON.stringify(await search.json())).not.toMatch(/sqlite|\/tmp\//);
    } finally {
      await h.close();
    }
  });
});

describe('web access off loopback', () => {
  it('refuses to start without a token', async () => {
    await expect(startWebHarness({ host: '0.0.0.0' })).rejects.toThrow(/FINDIMAGE_WEB_TOKEN/);
  });

  it('needs the token on every request, as a bearer or through the login cookie', async () => {
    const token = 'a-long-test-token-123456';
    const h = await startWebHarness({ host: '0.0.0.0', token });
    try {
      const port = new URL(h.server.url).port;
      const base = `http://127.0.0.1:${port}`;
      const missing = await fetch(`${base}/api/stats`);
      expect(missing.status).toBe(401);
      const wrong = await fetch(`${base}/api/stats`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const right = await fetch(`${base}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(right.status).toBe(200);
      const page = await fetch(`${base}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toBe('/login?next=%2F');
      const badLogin = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
      expect(badLogin.status).toBe(401);
      const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token, next: '/eval' }), redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('/eval');
      const cookie = login.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const withCookie = await fetch(`${base}/api/stats`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
      expect(withCookie.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('web API tenancy and Host', () => {
  let h: WebHarness;
  let port: string;
  let localId: string;

  beforeEach(async () => {
    h = await startWebHarness();
    port = new URL(h.server.url).port;
    const response = await fetch(`${h.server.url.replace(/\/$/, '')}/api/images`, { method: 'POST', body: multipartOf([{ name: 'mine.jpg', bytes: await jpegOf([200, 40, 40]) }]) });
    localId = ((await response.json()) as { files: Array<{ id: string }> }).files[0]!.id;
  });
  afterEach(async () => h.close());

  /** A GET with a chosen Host header (fetch will not send one it did not derive from the URL). */
  function getWithHost(path: string, host: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: Number(port), path, method: 'GET', headers: { host } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });
  }

  it('counts and searches only the local tenant, never a chat tenant', async () => {
    const [point] = await h.findimage.store.get([localId], { tenant: 'local', withVector: true });
    const hash = 'f'.repeat(64);
    await h.findimage.store.upsert([
      {
        id: pointIdFor('T1', hash),
        vector: point!.vector!,
        payload: {
          ...point!.payload,
          tenant: 'T1',
          source: 'slack',
          contentHash: hash,
          filename: 'secret.png',
          shares: [{ conversation: 'C1', isPublic: false, sharedAt: '2026-01-01T00:00:00.000Z' }],
        },
      },
    ]);
    expect(await h.findimage.store.count()).toBe(2);
    const stats = (await (await fetch(`http://127.0.0.1:${port}/api/stats`)).json()) as any;
    expect(stats).toMatchObject({ model: 'tiny-test', total: 1, bySource: { local: 1 }, byModel: { 'tiny-test': 1 } });
    expect(stats.bySource.slack).toBeUndefined();

    // Searches run in the web's scope, the local tenant: the chat workspace's image is never found or searched by.
    const base = `http://127.0.0.1:${port}`;
    const found = (await (await fetch(`${base}/api/search?q=anything&k=100`)).json()) as any;
    expect(found.results.map((r: { id: string }) => r.id)).toEqual([localId]);
    const like = (await (await fetch(`${base}/api/images/${localId}/similar?k=100`)).json()) as any;
    expect(like.results).toEqual([]);
    expect((await fetch(`${base}/api/images/${pointIdFor('T1', hash)}/similar`)).status).toBe(404);
  });

  it('refuses a Host that does not name this machine when there is no token (DNS rebinding)', async () => {
    for (const path of ['/api/stats', '/api/search?q=cat', `/api/images/${localId}/thumbnail`, '/']) {
      const foreign = await getWithHost(path, `evil.example:${port}`);
      expect(foreign.status).toBe(421);
      expect(foreign.body).toMatch(/localhost/);
    }
    expect((await getWithHost('/api/stats', 'evil.example')).status).toBe(421);
    expect((await getWithHost('/api/stats', `127.0.0.1.evil.example:${port}`)).status).toBe(421);
    expect((await getWithHost('/api/stats', `localhost.evil.example:${port}`)).status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await getWithHost('/api/stats', host)).status, host).toBe(200);
    }
  });
});
