// `findimage stats`: how many images are indexed, by source and by model.
import type { Command } from 'commander';
import type { Findimage } from '../../findimage.js';
import { ONE_QUERY, type CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal, withCore }: CommandContext): void {
  program
    .command('stats')
    .description('count indexed images by source and model')
    .option('--json', 'print JSON', false)
    .action(async (options: { json: boolean }) => {
      // Counting embeds nothing; the text tower is the smaller one to start with.
      await withCore(ONE_QUERY, (findimage) => runStats(findimage, options.json, terminal));
    });
}

export async function runStats(findimage: Findimage, json: boolean, terminal: Terminal): Promise<void> {
  const stats = await findimage.store.stats();
  if (json) {
    terminal.out(JSON.stringify({ model: findimage.model.id, ...stats }));
    return;
  }
  terminal.out(`${stats.total} image${stats.total === 1 ? '' : 's'} indexed (model ${findimage.model.id})`);
  for (const [source, count] of Object.entries(stats.bySource).sort()) terminal.out(`  source ${source}: ${count}`);
  for (const [model, count] of Object.entries(stats.byModel).sort()) terminal.out(`  model ${model}: ${count}`);
}
