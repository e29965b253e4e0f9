// The command line prints a store failure's full message for whoever runs it (the Qdrant URL,
// what it answered, what to check), never the short one written for chat users.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { EXIT_STORE } from '../src/cli/exit-codes.js';
import type { Terminal } from '../src/cli/terminal.js';
import { STORE_UNAVAILABLE_PUBLIC_MESSAGE } from '../src/core/errors.js';
import { NO_ROUTE } from './fakes/qdrant/fake-faults.js';
import { FakeQdrantServer } from './fakes/qdrant/fake-qdrant-server.js';

/** A Terminal that keeps what was written. */
function recordingTerminal(): Terminal & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    out: () => {},
    err: (text) => errors.push(text),
    progress: () => ({ tick: () => {}, update: () => {}, stop: () => {} }),
  };
}

describe('findimage CLI on a store failure', () => {
  let dir: string;
  let qdrant: FakeQdrantServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-cli-store-'));
    qdrant = await FakeQdrantServer.start();
  });
  afterAll(async () => {
    await qdrant.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the operator message of a 404 on the search endpoint, with the URL and path, and exits 4', async () => {
    qdrant.faults.inject(NO_ROUTE, {
      times: Number.POSITIVE_INFINITY,
      match: (r) => r.method === 'POST' && r.path.endsWith('/points/query'),
    });
    const terminal = recordingTerminal();
    const env = {
      FINDIMAGE_MODEL: 'tiny-test',
      FINDIMAGE_DATA: join(dir, 'data'),
      FINDIMAGE_CACHE: join(dir, 'cache'),
      FINDIMAGE_DEVICE: 'cpu',
      QDRANT_URL: qdrant.url,
      LOG_LEVEL: 'silent',
    };
    const code = await main(['search', 'a red square'], { env, cwd: dir, terminal });

    expect(code).toBe(EXIT_STORE);
    const printed = terminal.errors.join('\n');
    expect(printed).toMatch(
      new RegExp(`^findimage: Qdrant at ${qdrant.url} answered 404 Not Found to /collections/findimage_tiny-test/points/query while trying to search`),
    );
    expect(printed).toContain('QDRANT_URL');
    expect(printed).not.toContain(STORE_UNAVAILABLE_PUBLIC_MESSAGE);
  });
});
