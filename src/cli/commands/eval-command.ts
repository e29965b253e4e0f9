// `findimage eval --tenant <id>`: grades the search with the labels a team gave by reacting to
// results (Precision@K, Recall@K, nDCG@K), without and with feedback from those labels.
import { evaluateSearch, type EvaluationReport } from '../../core/evaluation/search-evaluator.js';
import type { RankingMetrics } from '../../core/evaluation/ranking-metrics.js';
import type { Findimage } from '../../findimage.js';
import type { Terminal } from '../terminal.js';

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
