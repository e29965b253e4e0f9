// A real Redis for one test file: started before its tests, emptied after each (so that tests
// pass in any order), stopped after the file, with the quick connections the tests opened
// closed. A test may stop, kill and restart `server`; it leaves it running when it ends.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { closeRedis, openRedis } from '../fleet/redis-connection.js';
import { createSilentLogger } from '../../logger.js';
import { TestRedisServer } from './redis-server.js';
import { waitUntil } from './wait-until.js';

export interface TestRedis {
  /** The running server. */
  readonly server: TestRedisServer;
  /** A quick connection (as a replica opens one), once connected; closed after the file. */
  connect(): Promise<Redis>;
  /** Resolves once every connection opened is connected again (after a restart). */
  reconnected(): Promise<void>;
}

/** Registers the hooks of a file's Redis and returns it. */
export function useTestRedis(): TestRedis {
  let server: TestRedisServer | undefined;
  let inspector: Redis | undefined;
  const connections: Redis[] = [];
  const redis: TestRedis = {
    get server() {
      if (server === undefined) throw new Error('the test Redis starts in beforeAll');
      return server;
    },
    async connect() {
      const connection = openRedis({ url: redis.server.url, role: 'quick', logger: createSilentLogger() });
      connections.push(connection);
      await waitUntil(() => connection.status === 'ready', 'a connection to the test Redis');
      return connection;
    },
    async reconnected() {
      await waitUntil(() => connections.every((connection) => connection.status === 'ready'), 'the connections to the test Redis to come back');
    },
  };
  beforeAll(async () => {
    server = await TestRedisServer.start();
    inspector = await redis.connect();
  });
  afterEach(async () => {
    await waitUntil(() => inspector?.status === 'ready', 'the test Redis back after the test');
    await inspector?.flushall();
  });
  afterAll(async () => {
    for (const connection of connections) await closeRedis(connection);
    await server?.remove();
  });
  return redis;
}
