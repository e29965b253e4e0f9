// `findimage serve` (the default command, and plain `npm start`) and `findimage web`: hand the
// config to src/serve, which runs the web app and every chat bot whose credentials are set until
// SIGINT or SIGTERM. The server (fastify, the chat SDKs) loads only when one of them runs.
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';

export function register(program: Command, { terminal, settings, openServerCore, untilStopped }: CommandContext): void {
  const notify = (message: string) => terminal.err(message);

  program
    .command('serve', { isDefault: true })
    .description('run the web app and the chat bots whose credentials are set (the default command)')
    .action(async () => {
      const { config, logger } = settings('info');
      const [{ serveWithWeb }, { botFactories }] = await Promise.all([import('../../serve/serve.js'), import('../../serve/bot-registry.js')]);
      await serveWithWeb({ config, logger, notify, factories: botFactories, openCore: openServerCore, stopSignal: untilStopped() });
    });

  program
    .command('web')
    .description('run the web app alone (search, upload and grade in the browser)')
    .action(async () => {
      const { config, logger } = settings('info');
      const { serveWithWeb } = await import('../../serve/serve.js');
      await serveWithWeb({ config, logger, notify, factories: [], openCore: openServerCore, stopSignal: untilStopped() });
    });
}
