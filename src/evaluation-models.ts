// How `findimage eval --dataset` and the web app's "Evaluate models" open a model for a dataset
// evaluation: the registry's (or a registered) model, loaded as configured but embedding queries
// as given, with an empty embedded store in the run's scratch folder. The composition root's part
// of core's evaluateDataset, which knows no configuration and no model runtime.
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { NO_TEMPLATE, type OpenEvaluationModel } from './core/evaluation/dataset-evaluation.js';
import type { ModelChoice } from './core/evaluation/evaluation-runs.js';
import { familyOf } from './core/models/model-family.js';
import { ModelLocator } from './core/models/model-locator.js';
import { MODEL_REGISTRY } from './core/models/model-registry.js';
import { findModelSpec, loadRegisteredModels } from './core/models/registered-models.js';
import { openSqliteVectorStore } from './core/store/sqlite-vector-store.js';
import { embeddedStorePath, openEmbedding } from './findimage.js';

/** Opens models as `config` says, each with an empty store in the scratch folder it is given. */
export function evaluationModelOpener(config: Config, logger: Logger): OpenEvaluationModel {
  return async (modelId, scratchDir) => {
    const model = findModelSpec(modelId, config.dataDir);
    // Only the scratch folder is written: the embedded store there, never Qdrant or FINDIMAGE_DATA.
    const scratchConfig: Config = { ...config, dataDir: scratchDir, qdrant: undefined, promptTemplates: [NO_TEMPLATE] };
    const embedding = await openEmbedding({ config: scratchConfig, logger, model });
    let store;
    try {
      store = await openSqliteVectorStore({ path: embeddedStorePath(scratchDir, model.id), dimension: model.dimension, logger: logger.child({ component: 'store' }) });
    } catch (error) {
      await embedding.embedder.close();
      throw error;
    }
    const opened = store;
    return {
      embedder: embedding.embedder,
      prepareImage: (bytes) => embedding.prepareImage(bytes),
      normalizeQuery: familyOf(model).normalizeQuery,
      store: opened,
      close: async () => {
        await opened.close();
        await embedding.embedder.close();
      },
    };
  };
}

/** Every model findimage knows (built in and registered), and whether its files are on this machine. */
export async function evaluationModelChoices(config: Config, logger: Logger): Promise<ModelChoice[]> {
  const locator = new ModelLocator({ modelDir: config.modelDir, cacheDir: config.cacheDir, baseUrl: config.modelBaseUrl, logger, allowDownload: false });
  const choices: ModelChoice[] = [];
  for (const spec of [...MODEL_REGISTRY, ...loadRegisteredModels(config.dataDir)]) {
    const status = await locator.status(spec);
    choices.push({ id: spec.id, description: spec.description, onThisMachine: status.location !== 'missing', configured: spec.id === config.model });
  }
  return choices;
}
