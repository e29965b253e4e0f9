// Runs the real findimage binary (bin/findimage.js, compiled dist/) as a user would, with a
// temporary data folder and the tiny test model. dist/ is rebuilt from the sources under test
// before any end-to-end file runs (test/e2e/fresh-build.ts, vitest's global setup for test/e2e).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/findimage.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dataDir,
    FINDIMAGE_DATA: `${dataDir}/data`,
    FINDIMAGE_CACHE: `${dataDir}/cache`,
    FINDIMAGE_MODEL: 'tiny-test',
    FINDIMAGE_DEVICE: 'cpu',
    LOG_LEVEL: 'warn',
    // serve starts the web app: a free port each, so test files running at once never collide.
    FINDIMAGE_WEB_PORT: '0',
    ...extra,
  };
  return env;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env, cwd: cwd ?? env.HOME, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A started process and everything it printed on stderr so far. */
export interface WatchedCli {
  child: ChildProcess;
  /** Its stderr so far (it grows as the process writes). */
  stderr: string;
  /** Resolves when it exits, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the binary and keeps what it prints on stderr (a long-running `serve` or `worker`). */
export function watchCli(args: string[], env: NodeJS.ProcessEnv): WatchedCli {
  const child = startCli(args, env);
  const watched: WatchedCli = {
    child,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stderr?.on('data', (chunk: Buffer) => (watched.stderr += chunk.toString()));
  child.stdout?.resume();
  return watched;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  const child = startCli(args, env, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** pino's number for the error level (warn is 40): a log line at or above it reports a failure. */
const PINO_ERROR_LEVEL = 50;

/**
 * The lines of a run's stderr that report a failure: everything but JSON log lines below the
 * error level, so an error message ("findimage: ..."), a stack trace, a Node warning or an error
 * log line. Warnings and info lines are left out: a loaded machine may warn (that image decoding
 * keeps the default thread priority, say), which says nothing about whether the command worked.
 */
export function failuresIn(stderr: string): string[] {
  return stderr.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      const parsed: unknown = JSON.parse(line);
      const level = typeof parsed === 'object' && parsed !== null ? (parsed as { level?: unknown }).level : undefined;
      return typeof level !== 'number' || level >= PINO_ERROR_LEVEL;
    } catch {
      return true;
    }
  });
}
