// How the doctor runs its checks: every check gets its own time limit, so a service that never
// answers becomes a failed line ("no answer in 10 s") instead of a hung command; a check that
// throws becomes a failed line with the error's message; the report's status is the worst one.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { redisCheck } from '../fleet/redis-doctor.js';
import { blockedBy, fail, ok, unreachable, warn, type Check } from './check.js';
import { DEFAULT_CHECK_TIMEOUT_MS, formatOutcome, runCheck, runChecks, worstStatus } from './doctor-report.js';

const check = (name: string, run: Check['run'], timeoutMs?: number): Check => ({ name, run, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

describe('runChecks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails a check that never answers after the default limit, says so, and aborts its signal', async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const outcome = runCheck(
      check('qdrant server', (s) => {
        signal = s;
        return new Promise(() => {});
      }),
    );
    await vi.advanceTimersByTimeAsync(DEFAULT_CHECK_TIMEOUT_MS);
    expect(await outcome).toEqual({
      name: 'qdrant server',
      status: 'fail',
      summary: 'no answer in 10 s',
      action: expect.stringContaining('running and reachable'),
    });
    expect(signal?.aborted).toBe(true);
  });

  it('gives a check its own limit when it sets one', async () => {
    vi.useFakeTimers();
    const outcome = runCheck(check('model files', () => new Promise(() => {}), 120_000));
    await vi.advanceTimersByTimeAsync(DEFAULT_CHECK_TIMEOUT_MS);
    let settled = false;
    void outcome.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(120_000 - DEFAULT_CHECK_TIMEOUT_MS);
    expect((await outcome).summary).toBe('no answer in 120 s');
  });

  it('turns a thrown error into a failed line with its message', async () => {
    const outcome = await runCheck(check('qdrant collection', async () => { throw new Error('Qdrant at http://q:6333 answered 403 Forbidden'); }));
    expect(outcome).toMatchObject({ name: 'qdrant collection', status: 'fail', summary: 'Qdrant at http://q:6333 answered 403 Forbidden' });
  });

  it('keeps the order of the checks and reports the worst status', async () => {
    const report = await runChecks([
      check('b', async () => ok('fine')),
      check('a', async () => warn('so so', 'tune it')),
      check('c', async () => ok('fine')),
    ]);
    expect(report.outcomes.map((o) => o.name)).toEqual(['b', 'a', 'c']);
    expect(report.status).toBe('warn');
    expect(worstStatus(['ok', 'fail', 'warn'])).toBe('fail');
    expect(worstStatus([])).toBe('ok');
  });

  it('runs a check that holds the main thread after the others have answered, and counts its limit from its own start', async () => {
    vi.useFakeTimers();
    const started: string[] = [];
    let answer: (() => void) | undefined;
    /** A service that answers once the test lets it: until then the checks beside it are in flight. */
    const network = check('network', async () => {
      started.push('network');
      await new Promise<void>((resolve) => (answer = resolve));
      return ok('pong');
    });
    /** Stands for integrity_check: had it started, its synchronous work would stall the network check's I/O. */
    const sqlite: Check = {
      name: 'sqlite',
      holdsThread: true,
      timeoutMs: 100,
      run: async () => {
        started.push('sqlite');
        return ok('intact');
      },
    };
    const report = runChecks([sqlite, network]);

    // The network check stays in flight for longer than the thread-holding check's own limit.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual(['network']);

    answer?.();
    expect((await report).outcomes.map((o) => [o.name, o.status, o.summary])).toEqual([
      ['sqlite', 'ok', 'intact'],
      ['network', 'ok', 'pong'],
    ]);
    expect(started).toEqual(['network', 'sqlite']);
  });

  it('prints one line: status, name, what was found, then what to do', () => {
    expect(formatOutcome({ name: 'redis', ...fail('policy allkeys-lru', 'Set noeviction.') })).toBe('fail  redis: policy allkeys-lru → Set noeviction.');
    expect(formatOutcome({ name: 'cuda', ...ok('CPU as configured') })).toBe('ok    cuda: CPU as configured');
  });

  it('sends a check that depends on a failed one to that one\'s line, and says where an unreachable service was tried', () => {
    expect(formatOutcome({ name: 'slack scopes', ...blockedBy('slack token', "cannot read the token's scopes (invalid_auth)") })).toBe(
      "fail  slack scopes: cannot read the token's scopes (invalid_auth) → Fix what the slack token line says first.",
    );
    const service = { name: "Discord's API", owner: 'Discord', url: 'http://127.0.0.1:9/api', setting: 'DISCORD_API_URL' };
    expect(formatOutcome({ name: 'discord token', ...unreachable(service, 'connect ECONNREFUSED') })).toBe(
      "fail  discord token: cannot reach Discord's API at http://127.0.0.1:9/api (connect ECONNREFUSED) → Check the network, proxy and firewall between this machine and Discord (and DISCORD_API_URL, when set).",
    );
  });
});

describe('a check against a service that accepts connections and never answers', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  it('fails within its limit and drops the connection', async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // reads (and ignores) the commands, so the client's FIN is seen
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    const outcome = await runCheck(redisCheck({ url: `redis://127.0.0.1:${port}` }), 300);

    expect(outcome).toMatchObject({ name: 'redis', status: 'fail', summary: 'no answer in 300 ms' });
    await vi.waitFor(() => expect(sockets.size).toBe(0));
  });
});
