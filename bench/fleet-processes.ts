// The fleet bench's child processes (bench/fleet-worker-process.ts): started with tsx, pinned to
// chosen cores with taskset when asked (so that ONNX Runtime, which sizes its thread pool by the
// cores it may use, runs one thread per pinned core), and the CPU each process used, from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMessage, ChildOrders, ParentMessage } from './fleet-worker-process.js';

/** Kernel clock ticks per second for /proc/<pid>/stat (USER_HZ). */
const USER_HZ = 100;

/** A started child and what it said. */
export interface BenchChild {
  readonly pid: number;
  /** Resolves with the child's ready message (model loaded and warm, worker connected). */
  readonly ready: Promise<Extract<ChildMessage, { type: 'ready' }>>;
  /** Resolves with a direct child's indexing time. */
  readonly indexed: Promise<Extract<ChildMessage, { type: 'indexed' }>>;
  /** Asks it to finish (a worker finishes the jobs it holds); resolves with the jobs it ended. */
  stop(): Promise<number>;
}

/** Starts bench/fleet-worker-process.ts with `orders`, on the cores in `cpus` ("0", "0,1") if given. */
export function startChild(root: string, orders: ChildOrders, cpus?: string): BenchChild {
  const script = join(root, 'bench', 'fleet-worker-process.ts');
  const node = [process.execPath, '--import', 'tsx', script];
  const [command, ...args] = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
  const child: ChildProcess = spawn(command as string, args, {
    cwd: root,
    env: { ...process.env, FLEET_BENCH_CHILD: JSON.stringify(orders) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`fleet bench child (${orders.mode}) exited early: ${code ?? signal}`))),
  );
  exited.catch(() => undefined);
  const awaitMessage = <T extends ChildMessage['type']>(type: T) =>
    Promise.race([
      new Promise<Extract<ChildMessage, { type: T }>>((resolve) =>
        child.on('message', (message: ChildMessage) => message.type === type && resolve(message as Extract<ChildMessage, { type: T }>)),
      ),
      exited,
    ]);
  const ready = awaitMessage('ready');
  const indexed = awaitMessage('indexed');
  const stopped = awaitMessage('stopped');
  indexed.catch(() => undefined);
  stopped.catch(() => undefined);
  return {
    pid: child.pid as number,
    ready,
    indexed,
    stop: async () => {
      const message: ParentMessage = { type: 'stop' };
      child.send(message);
      const { jobs } = await stopped;
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      return jobs;
    },
  };
}

/** CPU seconds process `pid` has used (all threads), or NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** Seconds all CPUs spent busy, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / USER_HZ;
}

/** CPU used during a stretch by the bench's processes, and by everything else on the machine. */
export interface CpuShare {
  /** Cores' worth used by the listed processes (the bench, its workers, Redis), on average. */
  bench: number;
  /** Cores' worth used by other processes (other sessions on a shared machine). */
  others: number;
  /** Cores' worth used by each listed process: this one first, then the pids in the order given. */
  perProcess: number[];
}

/** Starts watching the CPU of `pids` (this process is always counted); end() gives the shares. */
export function watchCpu(pids: readonly number[]): { end(): CpuShare } {
  const all = [process.pid, ...pids];
  const at = performance.now();
  const machine = machineBusySeconds();
  const own = all.map(processCpuSeconds);
  return {
    end: () => {
      const seconds = (performance.now() - at) / 1000;
      const used = all.map((pid, i) => processCpuSeconds(pid) - (own[i] as number));
      const bench = used.reduce((sum, s) => sum + s, 0);
      const busy = machineBusySeconds() - machine;
      const round = (n: number) => Math.round(n * 100) / 100;
      return { bench: round(bench / seconds), others: round(Math.max(0, busy - bench) / seconds), perProcess: used.map((s) => round(s / seconds)) };
    },
  };
}
