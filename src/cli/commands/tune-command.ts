// `findimage tune --tenant <id> | --dataset <dir>`: learns a query adapter from a team's labels
// and/or a captioned dataset, grades it on held-out questions against plain search, and saves it
// only when it helps (or with --force). Adopted with FINDIMAGE_ADAPTER=<file>; nothing is re-indexed.
// The work is in tune-run.ts, imported only when tune runs.
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.js';
import { parseCounts, parseSeed, parseShare } from '../option-parsers.js';
import type { TuneOptions } from './tune-run.js';

/** Share of the questions held out by default: as `eval --split 0.2` suggests. */
const DEFAULT_HOLDOUT = 0.2;

export function register(program: Command, context: CommandContext): void {
  program
    .command('tune')
    .description("learn a query adapter from a team's labels (--tenant) and/or a captioned dataset (--dataset); saved when it helps on held-out questions")
    .option('--tenant <id>', 'learn from the thumbs-up and thumbs-down this workspace gave')
    .option('--dataset <dir>', 'learn from a folder of images plus captions.jsonl (see docs/evaluation.md)')
    .option('--holdout <share>', 'share of the questions held out to grade the adapter', parseShare, DEFAULT_HOLDOUT)
    .option('--seed <n>', 'seed of the split, the training and the bootstrap intervals', parseSeed)
    .option('--k <n,...>', 'cut-off ranks for R@K (default 1,5,10)', parseCounts)
    .option('--epochs <n>', 'most passes over the training questions (default 30)', parseSeed)
    .option('--force', 'save the adapter even when it does not help on the held-out questions', false)
    .option('--out <file>', 'where to save it (default: FINDIMAGE_DATA/adapters/<model>-<hash>.json)')
    .option('--json', 'print JSON', false)
    .action(async (options: TuneOptions) => {
      const { runTune } = await import('./tune-run.js');
      await runTune(options, context);
    });
}

