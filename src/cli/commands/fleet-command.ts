// `findimage fleet status [--json]`: what a fleet (REDIS_URL) is doing: index queue depths, the
// processes alive and the newest failures. Declared here; the Redis and BullMQ clients behind it
// are loaded only when it runs (fleet-status-command.ts), so other commands never pay for them.
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { parseCount } from '../option-parsers.js';

/** Failures listed unless --failures says otherwise: a screenful, the newest first. */
const DEFAULT_FAILURES_SHOWN = 10;

export function register(program: Command, { terminal, settings }: CommandContext): void {
  const fleet = program.command('fleet').description('the machines that share the work in fleet mode (REDIS_URL; see docs/fleet.md)');
  fleet
    .command('status')
    .description('index queue depths, the workers alive (host, pid, device, jobs/s) and the last failures with their reasons')
    .option('--failures <n>', `how many of the newest failures to list, 1 to 100 (default ${DEFAULT_FAILURES_SHOWN})`, parseCount)
    .option('--json', 'print JSON', false)
    .action(async (options: { json: boolean; failures?: number }) => {
      const { config, logger } = settings();
      const { runFleetStatus } = await import('./fleet-status-command.js');
      await runFleetStatus(config, { json: options.json, failures: options.failures ?? DEFAULT_FAILURES_SHOWN }, terminal, logger);
    });
}
