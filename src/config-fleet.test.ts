// Fleet settings as src/config.ts reads them: REDIS_URL turns fleet mode on and needs QDRANT_URL;
// the Qdrant cluster's collection settings; Discord's shards for one replica out of several.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FLEET_LEASE_MS, DEFAULT_REPLICA_JOBS, loadConfig } from './config.js';

const QDRANT = { QDRANT_URL: 'http://qdrant:6333' };

describe('REDIS_URL (fleet mode)', () => {
  it('leaves fleet mode off when unset or blank: one machine, as before', () => {
    expect(loadConfig({}).fleet).toBeUndefined();
    expect(loadConfig({ ...QDRANT, REDIS_URL: '' }).fleet).toBeUndefined();
  });

  it('turns fleet mode on with a redis:// or rediss:// URL, password included', () => {
    expect(loadConfig({ ...QDRANT, REDIS_URL: 'redis://localhost:6379' }).fleet).toEqual({
      redisUrl: 'redis://localhost:6379',
      leaseMs: DEFAULT_FLEET_LEASE_MS,
      replicaJobs: DEFAULT_REPLICA_JOBS,
    });
    expect(loadConfig({ ...QDRANT, REDIS_URL: 'rediss://:s3cret@redis.example:6380/2' }).fleet?.redisUrl).toBe('rediss://:s3cret@redis.example:6380/2');
  });

  it('refuses another scheme, naming the setting', () => {
    expect(() => loadConfig({ ...QDRANT, REDIS_URL: 'http://localhost:6379' })).toThrow(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig({ ...QDRANT, REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
  });

  it('refuses fleet mode without QDRANT_URL, saying why and what to do', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://localhost:6379' })).toThrow(/set QDRANT_URL .*or unset REDIS_URL/);
    try {
      loadConfig({ REDIS_URL: 'redis://localhost:6379' });
    } catch (error) {
      expect(error).toMatchObject({ code: 'config_invalid', details: { variable: 'REDIS_URL' } });
    }
  });

  it('reads the lease and the jobs a replica works, within bounds', () => {
    const fleet = loadConfig({ ...QDRANT, REDIS_URL: 'redis://r', FINDIMAGE_FLEET_LEASE_MS: '2000', FINDIMAGE_REPLICA_JOBS: '0' }).fleet;
    expect(fleet).toMatchObject({ leaseMs: 2000, replicaJobs: 0 });
    expect(() => loadConfig({ ...QDRANT, REDIS_URL: 'redis://r', FINDIMAGE_FLEET_LEASE_MS: '10' })).toThrow(/FINDIMAGE_FLEET_LEASE_MS must be at least 1000/);
    expect(() => loadConfig({ ...QDRANT, REDIS_URL: 'redis://r', FINDIMAGE_REPLICA_JOBS: '-1' })).toThrow(/FINDIMAGE_REPLICA_JOBS must be 0 or more/);
  });
});

describe('Qdrant cluster settings', () => {
  it('defaults to one replica, write consistency 1, and Qdrant\'s own shard count', () => {
    const qdrant = loadConfig({ ...QDRANT }).qdrant;
    expect(qdrant).toMatchObject({ replicas: 1, writeConsistency: 1 });
    expect(qdrant?.shards).toBeUndefined();
    expect(loadConfig({ ...QDRANT, QDRANT_SHARDS: '' }).qdrant?.shards).toBeUndefined();
  });

  it('reads shards, replicas and write consistency', () => {
    expect(loadConfig({ ...QDRANT, QDRANT_SHARDS: '6', QDRANT_REPLICAS: '2', QDRANT_WRITE_CONSISTENCY: '2' }).qdrant).toMatchObject({
      shards: 6,
      replicas: 2,
      writeConsistency: 2,
    });
  });

  it('refuses a write consistency above the replicas, and non-numbers', () => {
    expect(() => loadConfig({ ...QDRANT, QDRANT_REPLICAS: '2', QDRANT_WRITE_CONSISTENCY: '3' })).toThrow(/QDRANT_WRITE_CONSISTENCY \(3\) cannot be more than QDRANT_REPLICAS \(2\)/);
    expect(() => loadConfig({ ...QDRANT, QDRANT_SHARDS: 'many' })).toThrow(/QDRANT_SHARDS must be a whole number/);
    expect(() => loadConfig({ ...QDRANT, QDRANT_REPLICAS: '0' })).toThrow(/QDRANT_REPLICAS must be greater than 0/);
  });
});

describe('DISCORD_SHARDS and DISCORD_SHARD_COUNT', () => {
  const discord = (env: Record<string, string>) => loadConfig({ DISCORD_TOKEN: 't', ...env }).discord;

  it('runs one shard when unset, all of them with auto', () => {
    expect(discord({})?.shards).toBeUndefined();
    expect(discord({ DISCORD_SHARDS: 'auto' })).toMatchObject({ shards: 'auto' });
    expect(discord({ DISCORD_SHARDS: 'auto' })?.shardCount).toBeUndefined();
  });

  it('runs the listed shards out of the count, sorted and once each', () => {
    expect(discord({ DISCORD_SHARDS: '3, 1,1', DISCORD_SHARD_COUNT: '4' })).toMatchObject({ shards: [1, 3], shardCount: 4 });
  });

  it('refuses lists without a count, ids outside it, and a count beside auto', () => {
    expect(() => discord({ DISCORD_SHARDS: '0,1' })).toThrow(/set DISCORD_SHARD_COUNT too/);
    expect(() => discord({ DISCORD_SHARDS: '0,4', DISCORD_SHARD_COUNT: '4' })).toThrow(/names shard 4, but DISCORD_SHARD_COUNT is 4/);
    expect(() => discord({ DISCORD_SHARDS: 'one', DISCORD_SHARD_COUNT: '4' })).toThrow(/DISCORD_SHARDS must be auto or a comma-separated list/);
    expect(() => discord({ DISCORD_SHARDS: 'auto', DISCORD_SHARD_COUNT: '4' })).toThrow(/leave DISCORD_SHARD_COUNT unset/);
    expect(() => discord({ DISCORD_SHARD_COUNT: '4' })).toThrow(/DISCORD_SHARD_COUNT needs DISCORD_SHARDS/);
  });
});
