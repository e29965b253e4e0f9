// Whether this replica can serve: the model is loaded and the store answers. /readyz answers with
// it and /metrics reports it as findimage_ready, so the probe and the gauge can never disagree.
import { asFindimageError } from '../core/errors.js';
import { withTimeout } from './answer-deadline.js';
import type { CoreHolder } from './core-holder.js';

/** How long the check waits for the store before calling it down. */
const STORE_CHECK_TIMEOUT_MS = 2_000;
/** How long the check waits for the fleet's Redis before saying it is down. */
const REDIS_CHECK_TIMEOUT_MS = 1_000;

/** The outcome of a readiness check. */
export type Readiness =
  /** Loaded, and the store answers. */
  | { status: 'ready'; model: string }
  /** Searches work, but something uploads need is down (the fleet's Redis): still ready. */
  | { status: 'degraded'; model: string; down: string[]; reason: string }
  /** Not able to search: still loading, failed to start, or the store does not answer. */
  | { status: 'not_ready'; reason: string };

/** Checks the core, the store and (in a fleet) Redis, each within its deadline. */
export async function checkReadiness(core: CoreHolder): Promise<Readiness> {
  const current = core.current;
  if (current.state !== 'ready') {
    return { status: 'not_ready', reason: current.state === 'loading' ? 'the model is still loading' : 'findimage failed to start' };
  }
  try {
    await withTimeout(current.findimage.store.stats(), STORE_CHECK_TIMEOUT_MS);
  } catch (error) {
    return { status: 'not_ready', reason: `the store does not answer: ${asFindimageError(error).message}` };
  }
  // A replica whose Redis is away still searches (and keeps uploads in its own queue until
  // Redis is back), so it stays ready, and says what is down.
  const fleet = current.findimage.fleet;
  if (fleet !== undefined) {
    try {
      await withTimeout(fleet.ping(), REDIS_CHECK_TIMEOUT_MS);
    } catch (error) {
      const reason = `${asFindimageError(error).message}: searches work; uploads wait in this replica's queue until it is back`;
      return { status: 'degraded', model: current.findimage.model.id, down: ['redis'], reason };
    }
  }
  return { status: 'ready', model: current.findimage.model.id };
}
