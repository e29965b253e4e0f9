// Runs `findimage doctor`: composes the checks that fit the config (each adapter's own, from
// src/core/doctor, the stores, src/gpu-worker, src/bots and src/web), runs them with their time
// limits, prints one line each (or JSON), and fails with exit 6 when any check failed.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { blockedBy, fail, type Check } from '../../core/doctor/check.js';
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

/**
 * Loads the checks that need a library which may fail to load: ONNX Runtime's native binding,
 * the Qdrant client, the Slack and Discord SDKs. Each loads only when its part is configured (a
 * Slack-only host never loads discord.js); tests pass one that throws.
 */
export interface DoctorModules {
  /** The ONNX Runtime and CUDA checks (loads onnxruntime-node). */
  onnxRuntime(): Promise<typeof import('../../gpu-worker/onnx-runtime-doctor.js')>;
  /** The Qdrant checks (loads @qdrant/js-client-rest). */
  qdrant(): Promise<typeof import('../../core/store/qdrant/qdrant-doctor.js')>;
  /** The Slack checks (loads @slack/bolt). */
  slack(): Promise<typeof import('../../bots/slack/slack-doctor.js')>;
  /** The Discord checks (loads discord.js). */
  discord(): Promise<typeof import('../../bots/discord/discord-doctor.js')>;
}

const DOCTOR_MODULES: DoctorModules = {
  onnxRuntime: () => import('../../gpu-worker/onnx-runtime-doctor.js'),
  qdrant: () => import('../../core/store/qdrant/qdrant-doctor.js'),
  slack: () => import('../../bots/slack/slack-doctor.js'),
  discord: () => import('../../bots/discord/discord-doctor.js'),
};

/** What to say when a part's library cannot load: its checks' names, the library, what to do. */
interface Unloadable {
  /** The names of the checks the part would have run; the first carries the reason. */
  names: readonly string[];
  /** The library, as a person knows it ("ONNX Runtime"). */
  library: string;
  /** What to do about it. */
  action: string;
}

/**
 * The checks `make` builds from the module `load` brings, or, when it cannot load (a native
 * binding built for another platform, a package missing from node_modules), one failed line per
 * check saying so: the other parts are still checked, and the command exits 6, not 1.
 */
async function loadedChecks<M>(load: () => Promise<M>, make: (module: M) => Check[], unloadable: Unloadable): Promise<Check[]> {
  let module: M;
  try {
    module = await load();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const [first = unloadable.library, ...rest] = unloadable.names;
    return [
      { name: first, run: async () => fail(`${unloadable.library} cannot load: ${reason}`, unloadable.action) },
      ...rest.map((name): Check => ({ name, run: async () => blockedBy(first, `not checked: ${unloadable.library} cannot load`) })),
    ];
  }
  return make(module);
}

/** "Reinstall ..." for a package that cannot load. */
function reinstall(pkg: string): string {
  return `Reinstall findimage's dependencies on this machine (npm ci) so that ${pkg} matches its platform and Node.js, then run findimage doctor again.`;
}

export interface DoctorOptions {
  /** Print JSON instead of lines. */
  json: boolean;
  /** Hash every model file again, whatever its verification stamp says. */
  fullHash: boolean;
}

/** The checks that fit `config`, in the order they are printed. */
async function doctorChecks(config: Config, options: Pick<DoctorOptions, 'fullHash'>, logger: Logger, modules: DoctorModules = DOCTOR_MODULES): Promise<Check[]> {
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
  // ONNX Runtime, the Qdrant client and each platform's SDK load only when their checks are
  // made, and a library that cannot load is its checks' failed line, not a crash.
  checks.push(
    ...(await loadedChecks(modules.onnxRuntime, (m) => m.onnxRuntimeChecks({ device: config.device }), {
      names: ['onnx runtime', 'cuda'],
      library: 'ONNX Runtime',
      action: `${reinstall('onnxruntime-node')} For CUDA, see the README's "GPU".`,
    })),
  );
  if (config.qdrant !== undefined) {
    const { url, apiKey } = config.qdrant;
    checks.push(
      ...(await loadedChecks(modules.qdrant, (m) => m.qdrantChecks({ url, apiKey, modelId: spec?.id ?? config.model, dimension: spec?.dimension, logger }), {
        names: ['qdrant server', 'qdrant collection', 'qdrant payload indexes', 'qdrant alias'],
        library: 'the Qdrant client',
        action: reinstall('@qdrant/js-client-rest'),
      })),
    );
  }
  // The embedded store, or beside a Qdrant store the labels and queues, are SQLite files.
  checks.push(sqliteIntegrityCheck({ dataDir: config.dataDir }));
  if (config.fleet !== undefined) checks.push(redisCheck({ url: config.fleet.redisUrl }));
  const slack = config.slack;
  if (slack !== undefined) {
    checks.push(
      ...(await loadedChecks(modules.slack, (m) => m.slackChecks({ config: slack, logger }), {
        names: ['slack token', 'slack scopes', 'slack transport'],
        library: 'the Slack SDK',
        action: reinstall('@slack/bolt'),
      })),
    );
  }
  const discord = config.discord;
  if (discord !== undefined) {
    checks.push(
      ...(await loadedChecks(modules.discord, (m) => m.discordChecks({ config: discord }), {
        names: ['discord token', 'discord intents', 'discord permissions'],
        library: 'discord.js',
        action: reinstall('discord.js'),
      })),
    );
  }
  const { webAccessCheck } = await import('../../web/web-doctor.js');
  checks.push(webAccessCheck({ host: config.web.host, port: config.web.port, hasToken: config.web.token !== undefined, behindProxy: config.web.trustProxy !== undefined }));
  return checks;
}

/** Runs the checks and prints them; throws ChecksFailedError (exit 6) when any failed. */
export async function runDoctor(config: Config, options: DoctorOptions, terminal: Terminal, logger: Logger, modules: DoctorModules = DOCTOR_MODULES): Promise<DoctorReport> {
  const report = await runChecks(await doctorChecks(config, options, logger, modules));
  if (options.json) {
    terminal.out(JSON.stringify({ status: report.status, checks: report.outcomes }));
  } else {
    for (const outcome of report.outcomes) terminal.out(formatOutcome(outcome));
  }
  const failed = report.outcomes.filter((o) => o.status === 'fail').map((o) => o.name);
  if (failed.length > 0) throw new ChecksFailedError(failed, report.outcomes.length);
  return report;
}

