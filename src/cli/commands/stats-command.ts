// `findimage stats`: how many images are indexed, by source and by model.
import type { Findimage } from '../../findimage.js';
import type { Terminal } from '../terminal.js';

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
