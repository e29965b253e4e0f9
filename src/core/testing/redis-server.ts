// A real Redis for tests: Debian's `redis-server`, started on 127.0.0.1 on a free port with a
// temporary folder, append-only file on and `noeviction` (what docs/fleet.md asks of production).
// Tests stop it, kill it, and start it again on the same port and folder (Redis restarted with
// AOF), and wait for conditions, never for time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's package puts the server; REDIS_SERVER overrides it (another build, a path). */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** How long a starting server may take to accept connections (a loaded 2-core machine is slow). */
const START_TIMEOUT_MS = 20_000;

/**
 * Ports tried for a test Redis: below Linux's ephemeral range (32768 and up), so that no other
 * test's "any free port" (port 0) is handed a port whose Redis is down for a restart, and a
 * restarted Redis finds its port still free.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/** Whether `port` on 127.0.0.1 can be bound now. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 in PORT_RANGE, picked at random. */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (await isFree(port)) return port;
  }
  throw new Error('no free port for a test Redis');
}

/** The process id of the Redis answering on `port` (INFO server), or undefined if none answers. */
async function redisPidOn(port: number): Promise<number | undefined> {
  return new Promise<number | undefined>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(2_000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /process_id:(\d+)/.exec(text);
      if (match !== null) done(Number(match[1]));
    });
  });
}

/**
 * Resolves once `child` itself answers on the port (another Redis there, say another test's,
 * does not count), or rejects after `timeoutMs`.
 */
async function whenListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} before listening on ${port}`);
    if ((await redisPidOn(port)) === child.pid) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How long a stopped test server may take to end before it is killed. */
const STOP_GRACE_MS = 5_000;

export class TestRedisServer {
  readonly port: number;
  /** The server's folder (its append-only file lives here and survives a restart). */
  readonly dir: string;
  #child: ChildProcess | undefined;
  #log = '';

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  /** redis://127.0.0.1:PORT, for REDIS_URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** What the server printed (for a failing test's message). */
  get log(): string {
    return this.#log;
  }

  /** Starts a server on a free port in a new temporary folder. */
  static async start(options: { appendOnly?: boolean } = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(await freePort(), await mkdtemp(join(tmpdir(), 'findimage-redis-')));
    await server.#spawn(options.appendOnly ?? true);
    return server;
  }

  /** Starts the server again on the same port and folder (after stop() or kill()). */
  async restart(options: { appendOnly?: boolean } = {}): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is still running');
    await this.#spawn(options.appendOnly ?? true);
  }

  async #spawn(appendOnly: boolean): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--appendonly', appendOnly ? 'yes' : 'no',
      // Every write reaches the file before the reply: a test that kills Redis loses nothing it was told was written.
      '--appendfsync', 'always',
      '--maxmemory-policy', 'noeviction',
      '--save', '',
      '--daemonize', 'no',
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`could not start ${REDIS_SERVER} (apt-get install redis-server): ${error.message}`))),
    );
    this.#child = child;
    await Promise.race([whenListening(this.port, child, START_TIMEOUT_MS), failed]);
  }

  /** Stops the server the way an operator would (SIGTERM: it writes its files and exits). */
  async stop(): Promise<void> {
    await this.#end('SIGTERM');
  }

  /** Kills the server at once (SIGKILL): only what reached the append-only file survives. */
  async kill(): Promise<void> {
    await this.#end('SIGKILL');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      // A server that does not end on SIGTERM within STOP_GRACE_MS (stuck writing its files on a
      // loaded machine) is killed, so a test's teardown never hangs on it.
      const killer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill(signal);
    });
  }

  /** Stops the server and removes its folder. */
  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
