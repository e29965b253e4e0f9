// /metrics as a Prometheus user reads it, on the real server: request latency by route pattern
// and status code, embedding latency by tower, readiness, the build, Node's process metrics under
// their standard names, and every name following Prometheus's rules (units, _total). promtool,
// Prometheus's own checker, reads the real output where it is installed (Debian's `prometheus`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegOf, multipartOf, startWebHarness, type WebHarness } from './web-harness.js';

const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

/** One metric family of the text format: its name, TYPE and HELP, and its sample lines. */
interface Family {
  name: string;
  type: string;
  help: string | undefined;
  samples: string[];
}

/** The families of a Prometheus text exposition, in order. */
function familiesOf(text: string): Family[] {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    const found = families.get(name) ?? { name, type: 'untyped', help: undefined, samples: [] };
    families.set(name, found);
    return found;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      const f = family(meta[2] as string);
      if (meta[1] === 'TYPE') f.type = meta[3] as string;
      else f.help = meta[3];
      continue;
    }
    if (line.trim() === '' || line.startsWith('#')) continue;
    const name = /^[^{ ]+/.exec(line)?.[0] as string;
    const base = [...families.keys()].find((n) => name === n || name === `${n}_bucket` || name === `${n}_sum` || name === `${n}_count`) ?? name;
    family(base).samples.push(line);
  }
  return [...families.values()];
}

/** Why a family's name breaks Prometheus's naming rules, if it does. */
function namingProblems(f: Family): string[] {
  const problems: string[] = [];
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.name)) problems.push('not a valid metric name');
  if (f.name !== f.name.toLowerCase()) problems.push('not snake_case');
  if (f.help === undefined || f.help.trim() === '') problems.push('no HELP');
  if (f.type === 'counter' && !f.name.endsWith('_total')) problems.push('a counter not ending in _total');
  if (f.type !== 'counter' && f.name.endsWith('_total')) problems.push(`a ${f.type} ending in _total`);
  if ((f.type === 'histogram' || f.type === 'summary') && !/_(seconds|bytes|ratio)$/.test(f.name)) problems.push(`a ${f.type} without a base unit (_seconds, _bytes)`);
  if (/_(milliseconds|ms|us|microseconds|minutes|hours|kilobytes|kb|mb|megabytes|percent)(_|$)/.test(f.name)) problems.push('a unit that is not a base unit (seconds, bytes, ratio)');
  if (/(^|_)([a-z0-9]+)_\2(_|$)/.test(f.name)) problems.push('a doubled word, such as a prefix given twice');
  return problems;
}

describe('/metrics', () => {
  let h: WebHarness;
  let base: string;
  let text: string;

  beforeAll(async () => {
    h = await startWebHarness();
    base = h.server.url.replace(/\/$/, '');
    const upload = await fetch(`${base}/api/images`, { method: 'POST', body: multipartOf([{ name: 'a.jpg', bytes: await jpegOf([200, 30, 30]) }]) });
    const [file] = ((await upload.json()) as { files: Array<{ id: string }> }).files;
    expect((await fetch(`${base}/api/search?q=${encodeURIComponent('a red photo')}`)).status).toBe(200);
    expect((await fetch(`${base}/api/search?q=`)).status).toBe(400);
    expect((await fetch(`${base}/api/images/${file?.id}/thumbnail`)).status).toBe(200);
    expect((await fetch(`${base}/no/such/page/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    text = await (await fetch(`${base}/metrics`)).text();
  }, 60_000);
  afterAll(async () => h?.close());

  it('times requests by method, route pattern and status code, never by the URL', () => {
    // A histogram (its last bucket holds every request, however slow the machine).
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/search",status_code="200"\} 1$/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/api\/search",status_code="400"\} 1$/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/api\/images\/:id\/thumbnail",status_code="200"\} 1$/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1$/m);
    // No id, query string or unknown path in any label: each would be a new series per request.
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(text).not.toContain('q=');
    expect(text).not.toContain('/no/such');
  });

  it('times embeddings by tower, and reports readiness and the build', () => {
    expect(text).toMatch(/^findimage_embedding_duration_seconds_count\{tower="text"\} [1-9]\d*$/m);
    expect(text).toMatch(/^findimage_embedding_duration_seconds_count\{tower="vision"\} [1-9]\d*$/m);
    expect(text).toMatch(/^findimage_ready 1$/m);
    expect(text).toMatch(new RegExp(`^findimage_build_info\\{version="\\d+\\.\\d+\\.\\d+[^"]*",node="${process.versions.node.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
    expect(text).toMatch(/^findimage_embedding_queue_length\{lane="bulk"\} 0$/m);
    expect(text).toMatch(/^findimage_upload_queue_length 0$/m);
  });

  it('keeps the standard names of Node\'s process metrics, with no doubled prefix', () => {
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toContain('findimage_process_');
  });

  it('names every metric by Prometheus\'s rules: base units, _total on counters only, HELP on each', () => {
    const families = familiesOf(text);
    expect(families.length).toBeGreaterThan(30);
    const problems = families.flatMap((f) => namingProblems(f).map((p) => `${f.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('the name rules catch what they are for', () => {
    const one = (name: string, type: string) => namingProblems({ name, type, help: 'x', samples: [] });
    expect(one('findimage_process_process_cpu_seconds_total', 'counter')).toContain('a doubled word, such as a prefix given twice');
    expect(one('findimage_requests', 'counter')).toContain('a counter not ending in _total');
    expect(one('findimage_search_duration_ms', 'histogram')).toEqual(expect.arrayContaining(['a histogram without a base unit (_seconds, _bytes)']));
    expect(one('findimage_ready_total', 'gauge')).toContain('a gauge ending in _total');
  });

  it.skipIf(!existsSync(PROMTOOL))(`passes promtool check metrics (skipped: no promtool at ${PROMTOOL}; apt-get install prometheus)`, () => {
    const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('/metrics while the model loads', () => {
  it('answers, with findimage_ready 0 until the core is ready', async () => {
    const h = await startWebHarness({ holdCore: true });
    try {
      const base = h.server.url.replace(/\/$/, '');
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^findimage_ready 0$/m);
      h.server.core.ready(h.findimage);
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^findimage_ready 1$/m);
    } finally {
      await h.close();
    }
  });
});
