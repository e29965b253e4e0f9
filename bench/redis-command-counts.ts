// Counting what the fleet asks of Redis, for the fleet bench: commands executed (INFO
// commandstats, which counts a Lua script's inner commands too) and round trips (commands sent by
// clients, told apart from scripts' inner commands with MONITOR), each BullMQ script named.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';

/** Calls per command name ("evalsha", "set"). */
export type CommandCounts = Map<string, number>;

/** INFO commandstats as calls per command (scripts' inner commands included). */
export async function commandStats(redis: Redis): Promise<CommandCounts> {
  const text = await redis.info('commandstats');
  const counts: CommandCounts = new Map();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1] as string, Number(match[2]));
  return counts;
}

/** after - before, per command, without the zeros. */
export function countsSince(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = new Map();
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) delta.set(name, d);
  }
  return delta;
}

export function total(counts: CommandCounts): number {
  let sum = 0;
  for (const calls of counts.values()) sum += calls;
  return sum;
}

/** The `n` largest entries, largest first. */
export function top(counts: CommandCounts, n: number): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** The `n` largest entries as calls per job (3 decimals), largest first. */
export function perJob(counts: CommandCounts, jobs: number, n = 12): Array<[string, number]> {
  return top(counts, n).map(([name, calls]) => [name, Math.round((calls / jobs) * 1000) / 1000]);
}

/** Redis's used_memory, bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  return Number(match?.[1] ?? Number.NaN);
}

/** The server's pid (for its CPU time in /proc). */
export async function serverPid(redis: Redis): Promise<number> {
  const match = /^process_id:(\d+)/m.exec(await redis.info('server'));
  return Number(match?.[1] ?? Number.NaN);
}

/**
 * BullMQ's scripts by the sha1 ioredis sends them under (EVALSHA's first argument): its
 * defineCommand hashes each script's Lua text, which BullMQ ships in dist/esm/scripts/*.js.
 */
export function bullmqScriptNames(root: string): Map<string, string> {
  const dir = join(root, 'node_modules', 'bullmq', 'dist', 'esm', 'scripts');
  const names = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => /^[A-Za-z0-9]+-\d+\.js$/.test(f))) {
    const source = readFileSync(join(dir, file), 'utf8');
    const match = /const content = `([\s\S]*?)`;\s*export const/.exec(source);
    if (match?.[1] === undefined) continue;
    // The file holds the Lua as a template literal: undo its escapes the way the runtime would.
    const lua = new Function(`return \`${match[1]}\`;`)() as string;
    names.set(createHash('sha1').update(lua).digest('hex'), file.replace(/-\d+\.js$/, ''));
  }
  return names;
}

/** What MONITOR saw over a stretch: round trips by command (scripts named), and scripts' inner commands. */
export interface MonitorCounts {
  /** Commands sent by clients (one round trip each, pipelines aside), "evalsha moveToFinished" for a script. */
  roundTrips: CommandCounts;
  /** Commands run inside Lua scripts (no round trip of their own). */
  inScripts: CommandCounts;
}

/** Watches every command Redis runs until stop() (MONITOR on its own connection). */
export async function watchCommands(redis: Redis, scriptNames: Map<string, string>): Promise<{ stop(): Promise<MonitorCounts> }> {
  const counts: MonitorCounts = { roundTrips: new Map(), inScripts: new Map() };
  const bump = (map: CommandCounts, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const monitor = await redis.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const command = (args[0] ?? '?').toLowerCase();
    if (source === 'lua') {
      bump(counts.inScripts, command);
      return;
    }
    if (command === 'monitor') return;
    if (command === 'evalsha') bump(counts.roundTrips, `evalsha ${scriptNames.get(args[1] ?? '') ?? (args[1] ?? '').slice(0, 8)}`);
    else if (command === 'eval') bump(counts.roundTrips, `eval ${/redis\.call\('(\w+)'/.exec(args[1] ?? '')?.[1] ?? 'script'}…`);
    else if (command === 'set' && args.some((a) => a.toUpperCase() === 'NX')) bump(counts.roundTrips, 'set NX');
    else bump(counts.roundTrips, command);
  });
  return {
    stop: async () => {
      monitor.disconnect();
      return counts;
    },
  };
}
