// The files that run findimage with Qdrant (qdrant.env, docker-compose.yml, Dockerfile) checked
// for what the docs promise: a template that parses as a valid config, every Qdrant variable
// documented, a pinned and health-checked Qdrant, and an image that runs as a non-root user.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const root = join(import.meta.dirname, '..');
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

describe('qdrant.env', () => {
  const text = read('qdrant.env');
  const env = parseEnv(text);

  it('parses, as shipped, into a config that keeps the embedded store', () => {
    expect(loadConfig({ ...env }).qdrant).toBeUndefined();
  });

  it("gives the container a valid Qdrant config once compose sets QDRANT_URL", () => {
    expect(loadConfig({ ...env, QDRANT_URL: 'http://qdrant:6333' }).qdrant).toEqual({
      url: 'http://qdrant:6333',
      apiKey: undefined,
      onDisk: false,
      quantization: false,
      replicas: 1,
      writeConsistency: 1,
    });
  });

  it('sets and explains every QDRANT_ variable that src/config.ts reads', () => {
    const names = [...new Set(read('src/config.ts').match(/\bQDRANT_[A-Z_]+\b/g))].sort();
    expect(names).toEqual([
      'QDRANT_API_KEY',
      'QDRANT_ON_DISK',
      'QDRANT_QUANTIZATION',
      'QDRANT_REPLICAS',
      'QDRANT_SHARDS',
      'QDRANT_URL',
      'QDRANT_WRITE_CONSISTENCY',
    ]);
    for (const name of names) {
      expect(Object.keys(env)).toContain(name);
      expect(text).toMatch(new RegExp(`# [^\\n]+\\n${name}=`));
    }
  });
});

describe('docker-compose.yml', () => {
  const text = read('docker-compose.yml');

  it('pins the Qdrant image to a version, keeps its storage in a volume and checks its health', () => {
    expect(text).toMatch(/image: qdrant\/qdrant:v\d+\.\d+\.\d+\n/);
    expect(text).toContain('- qdrant_storage:/qdrant/storage');
    expect(text).toMatch(/healthcheck:\n\s+#[^\n]*\n\s+test:/);
  });

  it('starts findimage serve from the Dockerfile once Qdrant is healthy, with qdrant.env and cache and data volumes', () => {
    expect(text).toMatch(/findimage:\n\s+build: \.\n/);
    expect(text).toContain('command: serve');
    expect(text).toMatch(/depends_on:\n\s+qdrant:\n\s+condition: service_healthy/);
    expect(text).toMatch(/env_file:\n\s+- path: qdrant\.env/);
    expect(text).toContain('- model_cache:/cache');
    expect(text).toContain('- findimage_data:/data');
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');

  it('builds in one stage and runs from another, as the unprivileged node user', () => {
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const runtime = stages[1] ?? '';
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).toMatch(/^CMD \["serve"\]$/m);
    expect(read('.dockerignore')).toMatch(/^qdrant\.env$/m);
  });
});
