// `findimage labels export [--tenant T] [--output FILE]`: every relevance label a team gave, as
// JSON lines (one label a line), for training or auditing outside findimage. Lines go to stdout
// or FILE; the count goes to stderr, so the output can be piped.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { FindimageError } from '../../core/errors.js';
import type { Label, LabelStore } from '../../core/labels/label-store.js';
import type { CommandContext } from '../command-context.js';
import type { Terminal } from '../terminal.js';

export function register(program: Command, { terminal, settings }: CommandContext): void {
  program
    .command('labels')
    .description('relevance labels a team gave')
    .command('export')
    .description('write every label as JSON lines, oldest first (to stdout, or --output)')
    .option('--tenant <id>', "only this workspace's labels (Slack team id); every tenant's without it")
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: LabelsExportOptions) => {
      const { config, logger } = settings();
      await runLabelsExport(config, options, terminal, logger);
    });
}

export interface LabelsExportOptions {
  /** Only this tenant's labels; every tenant's when absent. */
  tenant?: string;
  /** File to write (replaced if it exists); stdout when absent. */
  output?: string;
}

/** One line of the export. Every line has every key, so a reader needs no defaults. */
export interface ExportedLabel {
  /** Tenant (Slack team id, Discord guild id, or "local"). */
  tenant: string;
  /** The query the judged result answered. */
  queryId: string;
  /** The query as typed: from the query log when it is there, else as copied onto the label. */
  queryText: string;
  /** Point id of the image judged. */
  imageId: string;
  /** Platform user id of whoever judged. */
  user: string;
  /** +1 (good result) or -1 (bad result). */
  value: 1 | -1;
  /** When the label was given, ISO 8601. */
  createdAt: string;
  /** The model the search ran with; null for labels given before it was kept. */
  modelId: string | null;
}

/** Opens the configured label store, exports, and closes it. Resolves to the number of labels. */
export async function runLabelsExport(
  config: Config,
  options: LabelsExportOptions,
  terminal: Terminal,
  logger: Logger,
): Promise<number> {
  // The core (the store, the model, the worker pool) loads when the command runs, not for --help.
  const { openLabelStore } = await import('../../findimage.js');
  const labels = await openLabelStore(config, logger);
  try {
    return await exportLabels(labels, options, terminal);
  } finally {
    await labels.close();
  }
}

/** Writes the labels as JSON lines, oldest first, and says how many on stderr. */
export async function exportLabels(labels: LabelStore, options: LabelsExportOptions, terminal: Terminal): Promise<number> {
  const exported = await exportedLabels(labels, options.tenant);
  const lines = exported.map((label) => JSON.stringify(label));
  const whose = options.tenant === undefined ? 'every tenant' : `tenant ${options.tenant}`;
  if (options.output === undefined) {
    for (const line of lines) terminal.out(line);
    terminal.err(`Exported ${countOf(lines.length)} of ${whose}.`);
    return lines.length;
  }
  const path = resolve(options.output);
  try {
    await writeFile(path, lines.map((line) => `${line}\n`).join(''));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A path the user gave: a bad command line (exit 2), not a store failure.
    throw new FindimageError(
      'config_invalid',
      `Cannot write the export to ${path} (${reason}). Give --output a file in a folder that exists and can be written.`,
      { cause: error, details: { path } },
    );
  }
  terminal.err(`Exported ${countOf(lines.length)} of ${whose} to ${path}.`);
  return lines.length;
}

/** The labels of one tenant, or of all, with the query text from the query log where it is kept. */
async function exportedLabels(labels: LabelStore, tenant: string | undefined): Promise<ExportedLabel[]> {
  const queryTexts = new Map<string, string>();
  const key = (t: string, queryId: string) => `${t}\u0000${queryId}`;
  let found: Label[];
  if (tenant === undefined) {
    // Only exportAll crosses tenants; it also brings every query, so no lookup per label.
    const all = await labels.exportAll();
    for (const query of all.queries) queryTexts.set(key(query.tenant, query.queryId), query.text);
    found = all.labels;
  } else {
    found = await labels.listLabels({ tenant });
    for (const queryId of new Set(found.map((l) => l.queryId))) {
      const query = await labels.getQuery(tenant, queryId);
      if (query !== undefined) queryTexts.set(key(tenant, queryId), query.text);
    }
  }
  return found.map((label) => ({
    tenant: label.tenant,
    queryId: label.queryId,
    queryText: queryTexts.get(key(label.tenant, label.queryId)) ?? label.queryText,
    imageId: label.imageId,
    user: label.user,
    value: label.value,
    createdAt: label.createdAt.toISOString(),
    modelId: label.modelId ?? null,
  }));
}

function countOf(n: number): string {
  return n === 1 ? '1 label' : `${n} labels`;
}
