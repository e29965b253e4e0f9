// Runs `findimage doctor`: composes the checks that fit the config (each adapter's own, from
// src/core/doctor, the stores, src/gpu-worker, src/bots and src/web), runs them with their time
// limits, prints one line each (or JSON), and fails with exit 6 when any check failed.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { fail, type Check } from '../../core/doctor/check.js';
import { ChecksFailedError, formatOutcome, runChecks, type DoctorReport } from '../../core/doctor/doctor-report.js';
import { modelFilesCheck } from '../../core/doctor/model-files-check.js';
import { sqliteIntegrityCheck } from '../../core/doctor/sqlite-integrity-check.js';
import { FindimageError } from '../../core/errors.js';
import { redisCheck } from '../../core/fleet/redis-doctor.js';
import { ModelLocator } from '../../core/models/model-locator.js';
import type { ModelSpec } from '../../core/models/model-spec.js';
import { findModelSpec } from '../../core/models/registered-models.js';
import { VerificationStamps } from '../../core/models/verification-stamps.js';
import type { Terminal } from '../terminal.js';

export interface DoctorOptions {
  /** Print JSON instead of lines. */
  json: boolean;
  /** Hash every model file again, whatever its verification stamp says. */
  fullHash: boolean;
}

/** The checks that fit `config`, in the order they are printed. */
export async function doctorChecks(config: Config, options: Pick<DoctorOptions, 'fullHash'>, logger: Logger): Promise<Check[]> {
  let spec: ModelSpec | undefined;
  const checks: Check[] = [];
  try {
    spec = findModelSpec(config.model, config.dataDir);
    const locator = new ModelLocator({ modelDir: config.modelDir, cacheDir: config.cacheDir, baseUrl: config.modelBaseUrl, logger, allowDownload: false });
    checks.push(modelFilesCheck({ spec, locator, stamps: new VerificationStamps({ cacheDir: config.cacheDir, logger }), fullHash: options.fullHash }));
  } catch (error) {
    // An unknown FINDIMAGE_MODEL is a finding like any other: the other checks still run.
    if (!(error instanceof FindimageError)) throw error;
    const found = error;
    checks.push({ name: 'model files', run: async () => fail(found.message, 'Set FINDIMAGE_MODEL to a model that "findimage model list" shows.') });
  }
  // ONNX Runtime, the Qdrant client and each platform's SDK load only when their checks run: a
  // Slack-only host never loads discord.js.
  const { onnxRuntimeChecks } = await import('../../gpu-worker/onnx-runtime-doctor.js');
  checks.push(...onnxRuntimeChecks({ device: config.device }));
  if (config.qdrant === undefined) {
    checks.push(sqliteIntegrityCheck({ dataDir: config.dataDir }));
  } else {
    const { qdrantChecks } = await import('../../core/store/qdrant/qdrant-doctor.js');
    checks.push(...qdrantChecks({ url: config.qdrant.url, apiKey: config.qdrant.apiKey, modelId: spec?.id ?? config.model, dimension: spec?.dimension, logger }));
    // Labels and queues stay in SQLite files beside a Qdrant store.
    checks.push(sqliteIntegrityCheck({ dataDir: config.dataDir }));
  }
  if (config.fleet !== undefined) checks.push(redisCheck({ url: config.fleet.redisUrl }));
  if (config.slack !== undefined) {
    const { slackChecks } = await import('../../bots/slack/slack-doctor.js');
    checks.push(...slackChecks({ config: config.slack, logger }));
  }
  if (config.discord !== undefined) {
    const { discordChecks } = await import('../../bots/discord/discord-doctor.js');
    checks.push(...discordChecks({ config: config.discord }));
  }
  const { webAccessCheck } = await import('../../web/web-doctor.js');
  checks.push(webAccessCheck({ host: config.web.host, port: config.web.port, hasToken: config.web.token !== undefined, behindProxy: config.web.trustProxy !== undefined }));
  return checks;
}

/** Runs the checks and prints them; throws ChecksFailedError (exit 6) when any failed. */
export async function runDoctor(config: Config, options: DoctorOptions, terminal: Terminal, logger: Logger): Promise<DoctorReport> {
  const report = await runChecks(await doctorChecks(config, options, logger));
  if (options.json) {
    terminal.out(JSON.stringify({ status: report.status, checks: report.outcomes }));
  } else {
    for (const outcome of report.outcomes) terminal.out(formatOutcome(outcome));
  }
  const failed = report.outcomes.filter((o) => o.status === 'fail').map((o) => o.name);
  if (failed.length > 0) throw new ChecksFailedError(failed, report.outcomes.length);
  return report;
}

