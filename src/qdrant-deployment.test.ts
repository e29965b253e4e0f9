// The files that run findimage with Qdrant (qdrant.env, docker-compose.yml, Dockerfile) checked
// for what the docs promise: a template that parses as a valid config, every Qdrant variable
// documented, a pinned and health-checked Qdrant, an image that runs as a non-root user, and the
// fleet profile's Redis, Qdrant cluster, replicas and workers, each with a health check.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { TestRedisServer } from './core/testing/redis-server.js';
import { parseComposeYaml, type YamlValue } from './testing/compose-file.js';

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

type Service = Record<string, YamlValue> & {
  profiles?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  command?: string | string[];
};

describe('docker-compose.yml fleet profile', () => {
  const compose = parseComposeYaml(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, null> };
  const services = compose.services;
  const fleet = Object.entries(services).filter(([, s]) => s.profiles?.includes('fleet'));
  const named = (name: string): Service => {
    const service = services[name];
    if (service === undefined) throw new Error(`no service ${name}`);
    return service;
  };
  const findimages = ['findimage-1', 'findimage-2', 'worker', 'worker-gpu'];

  it('leaves `docker compose up -d` as it was: only qdrant and findimage have no profile', () => {
    expect(Object.keys(services).filter((name) => named(name).profiles === undefined)).toEqual(['qdrant', 'findimage']);
    expect(named('findimage').environment).toEqual({ QDRANT_URL: '${QDRANT_URL:-http://qdrant:6333}', FINDIMAGE_DATA: '/data', FINDIMAGE_CACHE: '/cache' });
  });

  it('holds Redis, three Qdrant nodes, two replicas and two workers, all in the fleet profile only', () => {
    expect(fleet.map(([name]) => name).sort()).toEqual(['findimage-1', 'findimage-2', 'qdrant-1', 'qdrant-2', 'qdrant-3', 'redis', 'worker', 'worker-gpu']);
    for (const [, service] of fleet) expect(service.profiles).toEqual(['fleet']);
  });

  it('gives every service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, name).toBeInstanceOf(Array);
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(1);
    }
  });

  it('runs Redis with AOF on and noeviction, checked with redis-cli ping', () => {
    const redis = named('redis');
    expect(redis.image).toMatch(/^(redis:7|valkey\/valkey:[78])(\.\d+)*$/);
    const command = redis.command as string[];
    expect(command.slice(command.indexOf('--appendonly'), command.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'yes']);
    expect(command.slice(command.indexOf('--maxmemory-policy'), command.indexOf('--maxmemory-policy') + 2)).toEqual(['--maxmemory-policy', 'noeviction']);
    expect(redis.healthcheck?.test.join(' ')).toContain('redis-cli ping');
    expect(redis.volumes).toEqual(['redis_data:/data']);
  });

  it('clusters the three Qdrant nodes: the first names its peer URI, the others bootstrap from it', () => {
    const image = named('qdrant').image;
    const storages = new Set<string>();
    for (const name of ['qdrant-1', 'qdrant-2', 'qdrant-3']) {
      const node = named(name);
      expect(node.image, name).toBe(image);
      expect(node.environment?.QDRANT__CLUSTER__ENABLED, name).toBe('true');
      expect(node.environment?.QDRANT__SERVICE__API_KEY, name).toBe('${QDRANT_API_KEY:-}');
      expect(node.command, name).toEqual(expect.arrayContaining(['--uri', `http://${name}:6335`]));
      expect(node.healthcheck?.test.join(' '), name).toContain('/readyz');
      storages.add(String((node.volumes as string[])[0]).split(':')[0] ?? '');
    }
    expect(named('qdrant-1').command).not.toContain('--bootstrap');
    for (const name of ['qdrant-2', 'qdrant-3']) {
      const command = named(name).command as string[];
      expect(command[command.indexOf('--bootstrap') + 1]).toBe('http://qdrant-1:6335');
      expect(named(name).depends_on).toEqual({ 'qdrant-1': { condition: 'service_healthy' } });
    }
    expect(storages.size).toBe(3);
  });

  it('points every findimage service at Redis and a node of the cluster, with two copies of each shard, once all are healthy', () => {
    for (const name of findimages) {
      const service = named(name);
      expect(service.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      expect(service.environment?.QDRANT_URL, name).toMatch(/^http:\/\/qdrant-[123]:6333$/);
      expect(service.environment?.QDRANT_REPLICAS, name).toBe('2');
      expect(service.depends_on, name).toEqual({
        redis: { condition: 'service_healthy' },
        'qdrant-1': { condition: 'service_healthy' },
        'qdrant-2': { condition: 'service_healthy' },
        'qdrant-3': { condition: 'service_healthy' },
      });
      // The whole setting follows from the service's own environment.
      const env = { ...parseEnv(read('qdrant.env')), ...service.environment };
      expect(loadConfig(env).fleet?.redisUrl, name).toBe('redis://redis:6379');
      expect(loadConfig(env).qdrant?.replicas, name).toBe(2);
    }
  });

  it('serves the web app of each replica on its own host port, and splits Discord shards between them', () => {
    const ports = ['findimage', 'findimage-1', 'findimage-2'].map((name) => (named(name).ports as string[])[0]);
    expect(ports).toEqual(['127.0.0.1:8765:8765', '127.0.0.1:8766:8765', '127.0.0.1:8767:8765']);
    for (const [name, shard] of [['findimage-1', '0'], ['findimage-2', '1']] as const) {
      expect(named(name).command, name).toBe('serve');
      expect(named(name).environment, name).toMatchObject({ DISCORD_SHARDS: shard, DISCORD_SHARD_COUNT: '2' });
      const config = loadConfig({ ...named(name).environment, DISCORD_TOKEN: 't' });
      expect(config.discord, name).toMatchObject({ shards: [Number(shard)], shardCount: 2 });
    }
  });

  it('runs two workers, the GPU one reserving an NVIDIA device and asking for CUDA', () => {
    for (const name of ['worker', 'worker-gpu']) {
      expect((named(name).command as string[])[0], name).toBe('worker');
      expect(named(name).command, name).toContain('--concurrency');
    }
    const gpu = named('worker-gpu');
    expect(gpu.deploy).toEqual({ resources: { reservations: { devices: [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }] } } });
    expect(gpu.environment?.FINDIMAGE_DEVICE).toBe('cuda');
    expect(gpu.build).toEqual({ context: '.', dockerfile: 'Dockerfile.gpu' });
    expect(named('worker').deploy).toBeUndefined();
    expect(named('worker').environment?.FINDIMAGE_DEVICE).toBe('cpu');
  });

  it('declares every named volume the services mount', () => {
    const mounted = Object.values(services).flatMap((s) => ((s.volumes as string[] | undefined) ?? []).map((v) => v.split(':')[0]));
    expect(Object.keys(compose.volumes).sort()).toEqual([...new Set(mounted)].sort());
  });

  it("has a worker health check that passes while Redis answers and fails once it is gone", async () => {
    const test = named('worker').healthcheck?.test ?? [];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(named('worker-gpu').healthcheck?.test).toEqual(test);
    const check = (url: string) =>
      promisify(execFile)('node', ['-e', test[3] ?? ''], { cwd: root, env: { ...process.env, REDIS_URL: url } }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    const redis = await TestRedisServer.start();
    try {
      expect(await check(redis.url)).toBe(0);
    } finally {
      await redis.stop();
    }
    expect(await check(redis.url)).toBe(1);
  });
});

describe('Dockerfile.gpu', () => {
  const text = read('Dockerfile.gpu');

  it('builds like Dockerfile with the CUDA provider, and runs on a CUDA + cuDNN runtime as an unprivileged user', () => {
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/);
    expect(text).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-/m);
    const runtime = stages[1] ?? '';
    expect(runtime).toMatch(/^\$\{CUDA_IMAGE\} AS runtime$/m);
    expect(runtime).toMatch(/^USER findimage$/m);
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "bin\/findimage.js"\]$/m);
  });
});
