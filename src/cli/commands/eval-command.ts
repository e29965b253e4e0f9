// `findimage eval --tenant <id>`: grades the search with the labels a team gave by reacting to
// results (Precision@K, Recall@K, nDCG@K), without and with feedback from those labels.
// `findimage eval --dataset <dir>` is declared here too and runs eval-dataset-command.ts.
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_EVAL_KS } from '../../core/evaluation/evaluation-defaults.js';
import { evaluateSearch, type EvaluationReport } from '../../core/evaluation/search-evaluator.js';
import type { RankingMetrics } from '../../core/evaluation/ranking-metrics.js';
import type { Findimage } from '../../findimage.js';
import { MANY_QUERIES, type CommandContext } from '../command-context.js';
import { parseCounts, parseList, parseSeed, parseShare, parseTemplateSets } from '../option-parsers.js';
import type { Terminal } from '../terminal.js';

/** What `findimage eval` accepts (both modes). */
interface EvalOptions {
  tenant?: string;
  dataset?: string;
  models?: string[];
  templates?: string[][];
  k?: number[];
  split?: number;
  seed?: number;
  report?: string;
  keepIndex?: string;
  json: boolean;
}

export function register(program: Command, { terminal, settings, withCore }: CommandContext): void {
  program
    .command('eval')
    .description('grade the search: on the labels a team gave (--tenant), or on a captioned dataset (--dataset)')
    .option('--tenant <id>', 'the workspace whose labels to use (Slack team id)')
    .option('--dataset <dir>', 'a folder of images plus captions.jsonl (see docs/evaluation.md)')
    .option('--models <ids>', 'with --dataset: models to compare, comma-separated (default: FINDIMAGE_MODEL)', parseList)
    .option('--templates <sets>', 'with --dataset: prompt template sets to compare, separated by ";", templates in a set by "|" ({} alone: none)', parseTemplateSets)
    .option('--k <n,...>', 'cut-off ranks (default 10 with --tenant, 1,5,10 with --dataset)', parseCounts)
    .option('--split <share>', 'with --dataset: share of the queries held out to grade label feedback, e.g. 0.2', parseShare)
    .option('--seed <n>', 'with --dataset: seed of the bootstrap intervals and the split', parseSeed)
    .option('--report <file>', 'with --dataset: write a self-contained HTML report')
    .option('--keep-index <dir>', 'with --dataset: keep the scratch index in this empty folder')
    .option('--json', 'print JSON', false)
    .action(async (options: EvalOptions) => {
      if (options.dataset !== undefined) {
        const { config, logger } = settings();
        // The dataset grader indexes images (sharp) and writes the HTML report: loaded only here.
        const { runEvalDataset } = await import('./eval-dataset-command.js');
        await runEvalDataset(config, { ...options, dataset: options.dataset, ks: options.k ?? [...DEFAULT_EVAL_KS] }, terminal, logger);
        return;
      }
      const tenant = options.tenant;
      if (tenant === undefined) throw new ConfigError('Give --tenant <id> to grade with the labels a team gave, or --dataset <dir> to grade on a captioned dataset.');
      if ((options.k?.length ?? 1) > 1) throw new ConfigError('--tenant grades at one cut-off; give a single --k.');
      await withCore(MANY_QUERIES, async (findimage) => {
        await runEval(findimage, { tenant, k: options.k?.[0] ?? 10, json: options.json }, terminal);
      });
    });
}

export interface EvalCommandOptions {
  tenant: string;
  k: number;
  json: boolean;
}

export async function runEval(findimage: Findimage, options: EvalCommandOptions, terminal: Terminal): Promise<EvaluationReport> {
  const report = await evaluateSearch({
    search: findimage.search,
    labels: findimage.labels,
    tenant: options.tenant,
    k: options.k,
    compareFeedback: true,
  });
  if (options.json) {
    terminal.out(JSON.stringify(report));
    return report;
  }
  if (report.queries.length === 0) {
    terminal.out(
      `No labelled queries for tenant ${options.tenant} yet. Labels come from thumbs-up and thumbs-down reactions on search results in chat.`,
    );
    return report;
  }
  const k = options.k;
  terminal.out(`${report.queries.length} labelled queries, K=${k} (model ${findimage.model.id})`);
  terminal.out(`  plain search:        ${formatMetrics(report.mean.plain, k)}`);
  if (report.mean.withFeedback !== undefined) {
    terminal.out(`  with label feedback: ${formatMetrics(report.mean.withFeedback, k)}`);
  }
  return report;
}

function formatMetrics(m: RankingMetrics, k: number): string {
  return `P@${k} ${m.precisionAtK.toFixed(3)}  R@${k} ${m.recallAtK.toFixed(3)}  nDCG@${k} ${m.ndcgAtK.toFixed(3)}`;
}
