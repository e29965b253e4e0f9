// The "Evaluate models" API on the real server and the tiny model: what can be evaluated, a run
// started in the background and its report, one run at a time, the kept runs listed and deleted,
// and every bad request refused with a reason, a folder outside FINDIMAGE_DATASETS_DIR above all.
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWebHarness, type WebHarness } from './web-harness.js';

const COLOURS = fileURLToPath(new URL('../fixtures/datasets/colours', import.meta.url));

describe('the evaluations API', () => {
  let h: WebHarness;
  let base: string;
  let datasets: string;

  const post = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const finished = async (id: string) =>
    vi.waitFor(
      async () => {
        const record = (await (await fetch(`${base}/api/evaluations/${id}`)).json()) as { state: string };
        if (record.state === 'running') throw new Error('still running');
        return record as { state: string; report?: any; error?: { message: string } };
      },
      { timeout: 60_000, interval: 50 },
    );

  beforeAll(async () => {
    datasets = await mkdtemp(join(tmpdir(), 'findimage-datasets-'));
    await cp(COLOURS, join(datasets, 'colours'), { recursive: true });
    await mkdir(join(datasets, 'notes'));
    h = await startWebHarness({ env: { FINDIMAGE_DATASETS_DIR: datasets } });
    base = h.server.url.replace(/\/$/, '');
  });
  afterAll(async () => {
    await h?.close();
    await rm(datasets, { recursive: true, force: true });
  });

  it('offers the datasets below FINDIMAGE_DATASETS_DIR, the models, and the defaults', async () => {
    const options = (await (await fetch(`${base}/api/evaluations/options`)).json()) as any;
    expect(options.datasetsRoot).toBe(datasets);
    expect(options.datasets).toEqual([{ name: 'colours', images: 6 }]);
    expect(options.models).toContainEqual(expect.objectContaining({ id: 'tiny-test', onThisMachine: true, configured: true }));
    expect(options.defaults).toEqual({ templates: [['a photo of {}'], ['{}']], ks: [1, 5, 10], seed: 12 });
  });

  it('runs an evaluation in the background, one at a time, and keeps its report until deleted', async () => {
    const request = { dataset: 'colours', models: ['tiny-test'], templates: [['{}'], ['a photo of {}']], ks: [5, 1], split: 0.3 };
    // Two at once: exactly one starts, the other is told why it did not.
    const [a, b] = await Promise.all([post('/api/evaluations', request), post('/api/evaluations', request)]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [started, refused] = a.status === 202 ? [a, b] : [b, a];
    expect(((await refused.json()) as { error: string; message: string })).toMatchObject({ error: 'evaluation_busy', message: expect.stringMatching(/already running/) });
    const record = (await started.json()) as { id: string; state: string };
    expect(record.state).toBe('running');
    expect(started.headers.get('location')).toBe(`/api/evaluations/${record.id}`);

    const done = await finished(record.id);
    expect(done.state).toBe('done');
    expect(done.report).toMatchObject({ images: 6, queries: 14, ks: [1, 5] });
    expect(done.report.runs.map((r: { label: string }) => r.label)).toEqual(['tiny-test, no template', 'tiny-test, "a photo of {}"']);
    const mrr = done.report.runs[0].textToImage.find((m: { name: string }) => m.name === 'MRR');
    expect(mrr.estimate.low).toBeLessThanOrEqual(mrr.estimate.value);
    expect(mrr.estimate.high).toBeGreaterThanOrEqual(mrr.estimate.value);
    expect(done.report.runs[0].feedback.heldOut).toBe(4);

    const list = (await (await fetch(`${base}/api/evaluations`)).json()) as { current: unknown; runs: Array<{ id: string; state: string }> };
    expect(list.current).toBeNull();
    expect(list.runs.map((r) => [r.id, r.state])).toEqual([[record.id, 'done']]);
    const cancel = await post(`/api/evaluations/${record.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect((await fetch(`${base}/api/evaluations/${record.id}`, { method: 'DELETE' })).status).toBe(204);
    const gone = await fetch(`${base}/api/evaluations/${record.id}`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: string }).error).toBe('not_found');
  });

  it('refuses a folder outside the datasets folder, with a message that says where datasets may be', async () => {
    for (const dataset of ['../etc', '/etc', 'notes', 'colours/../..']) {
      const response = await post('/api/evaluations', { dataset, models: ['tiny-test'], templates: [['{}']], ks: [1] });
      expect(response.status, dataset).toBe(400);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('dataset_refused');
      expect(body.message).toContain(`inside ${datasets}`);
    }
  });

  it('refuses malformed requests with a reason', async () => {
    const good = { dataset: 'colours', models: ['tiny-test'], templates: [['{}']], ks: [1] };
    for (const bad of [
      { ...good, models: [] },
      { ...good, models: ['a', 'b', 'c', 'd', 'e'] },
      { ...good, templates: [['a photo of a cat']] },
      { ...good, ks: [0] },
      { ...good, split: 1 },
    ]) {
      const response = await post('/api/evaluations', bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('bad_request');
    }
    const unknown = await post('/api/evaluations', { ...good, models: ['no-such-model'] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/no model "no-such-model"; pick one of .*tiny-test/);
    expect((await fetch(`${base}/api/evaluations/not-an-id`)).status).toBe(400);
  });
});

describe('the evaluations API off loopback', () => {
  it('needs the token like every other route, to list, start or delete', async () => {
    const token = 'evaluations-test-token-0123456789';
    const h = await startWebHarness({ host: '0.0.0.0', token });
    try {
      const base = `http://127.0.0.1:${new URL(h.server.url).port}`;
      const body = JSON.stringify({ dataset: 'colours', models: ['tiny-test'], templates: [['{}']], ks: [1] });
      for (const [method, path] of [['GET', '/api/evaluations/options'], ['GET', '/api/evaluations'], ['POST', '/api/evaluations'], ['DELETE', '/api/evaluations/00000000-0000-4000-8000-000000000000']] as const) {
        const response = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body } : {}) });
        expect(response.status, `${method} ${path}`).toBe(401);
      }
      const allowed = await fetch(`${base}/api/evaluations`, { headers: { authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
