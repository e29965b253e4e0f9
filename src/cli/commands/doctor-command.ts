// `findimage doctor [--json] [--full]`: checks a deployment before its first message: the model
// files, ONNX Runtime and CUDA, the store, each configured chat platform, Redis and the web bind,
// one line each. Declared here; the checks and the clients behind them load when it runs.
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';

export function register(program: Command, { terminal, settings, releaseProcess }: CommandContext): void {
  program
    .command('doctor')
    .description('check this deployment (model, runtime, store, Slack, Discord, Redis, web) and say what to fix; exits 6 when a check fails')
    .option('--json', 'print JSON', false)
    .option('--full', 'hash every model file again, even those already verified', false)
    .action(async (options: { json: boolean; full: boolean }) => {
      const { config, logger } = settings();
      const { runDoctor } = await import('./doctor-checks.js');
      try {
        await runDoctor(config, { json: options.json, fullHash: options.full }, terminal, logger);
      } finally {
        // A check past its limit may still hold a socket or a native call: the report is out,
        // so the process ends instead of waiting on it.
        releaseProcess();
      }
    });
}
