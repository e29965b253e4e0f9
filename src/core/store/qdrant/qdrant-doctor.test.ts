// The doctor's Qdrant version line follows the client's own rule (same major, minors at most one
// apart), against a fake server that reports the version it is given.
import { afterEach, describe, expect, it } from 'vitest';
import { hold } from '../../../../test/fakes/qdrant/fake-faults.js';
import { FakeQdrantServer } from '../../../../test/fakes/qdrant/fake-qdrant-server.js';
import { createSilentLogger } from '../../../logger.js';
import { runCheck } from '../../doctor/doctor-report.js';
import { qdrantChecks, qdrantClientVersion, versionsCompatible } from './qdrant-doctor.js';

describe('the Qdrant server check', () => {
  let fake: FakeQdrantServer | undefined;
  afterEach(async () => {
    await fake?.stop();
  });

  it('follows the client rule: same major, minors at most one apart', () => {
    expect(versionsCompatible('1.18.0', '1.19.2')).toBe(true);
    expect(versionsCompatible('1.18.0', '1.17.0')).toBe(true);
    expect(versionsCompatible('1.18.0', '1.16.3')).toBe(false);
    expect(versionsCompatible('1.18.0', '2.18.0')).toBe(false);
    expect(versionsCompatible('1.18.0', 'dev')).toBe(false);
  });

  it('passes a server of the installed client version and warns about one too far from it', async () => {
    const client = qdrantClientVersion();
    expect(client).toMatch(/^\d+\.\d+\.\d+$/);
    fake = await FakeQdrantServer.start({ version: client });
    const line = async () => {
      const check = qdrantChecks({ url: fake?.url ?? '', modelId: 'tiny-test', dimension: 512, logger: createSilentLogger() }).find((c) => c.name === 'qdrant server');
      return check?.run(new AbortController().signal);
    };
    expect(await line()).toEqual({ status: 'ok', summary: `${fake.url} runs Qdrant ${client}; the client is ${client}` });
    await fake.stop();
    fake = await FakeQdrantServer.start({ version: '1.9.0' });
    expect(await line()).toMatchObject({ status: 'warn', summary: expect.stringContaining('runs Qdrant 1.9.0'), action: expect.stringContaining('within one minor version') });
  });

  it('keeps the shared connection open until the last of its checks has ended', async () => {
    const client = qdrantClientVersion();
    fake = await FakeQdrantServer.start({ version: client });
    const checks = qdrantChecks({ url: fake.url, modelId: 'tiny-test', dimension: 512, logger: createSilentLogger() });
    const server = checks.find((c) => c.name === 'qdrant server') as (typeof checks)[number];
    // Each runCheck aborts its check's signal as it ends: every other check ends before the server check starts.
    for (const check of checks.filter((c) => c !== server)) expect((await runCheck(check)).status).not.toBe('fail');
    expect(await runCheck(server)).toMatchObject({ status: 'ok', summary: expect.stringContaining(`runs Qdrant ${client}`) });
  });

  it('waits out each of the collection\'s requests, so a slow one is named on the line', async () => {
    fake = await FakeQdrantServer.start();
    const stuck = hold();
    fake.faults.inject(stuck.fault, { match: (target) => target.method === 'GET' && target.path === '/collections' });
    const requestTimeoutMs = 200;
    const check = qdrantChecks({ url: fake.url, modelId: 'tiny-test', dimension: 512, logger: createSilentLogger(), timeoutMs: requestTimeoutMs }).find((c) => c.name === 'qdrant collection');
    // The check's limit covers its three requests in a row, whatever the report's default (here shorter than one request).
    expect(check?.timeoutMs).toBeGreaterThan(3 * requestTimeoutMs);

    const outcome = await runCheck(check as NonNullable<typeof check>, requestTimeoutMs / 2);

    expect(outcome).toMatchObject({ status: 'fail', summary: expect.stringContaining('list collections') });
    stuck.release();
  });
});
