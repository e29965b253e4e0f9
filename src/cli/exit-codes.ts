// Exit codes of the findimage command, one per kind of failure a script may want to tell apart.
import type { ErrorCode } from '../core/errors.js';

export const EXIT_OK = 0;
/** Something unexpected; the message says what. */
export const EXIT_FAILURE = 1;
/** Bad command line or setting. */
export const EXIT_USAGE = 2;
/** The model is missing, corrupt or could not be downloaded. */
export const EXIT_MODEL = 3;
/** The store cannot be opened or reached. */
export const EXIT_STORE = 4;
/** The input (image or query) was refused. */
export const EXIT_INPUT = 5;
/** `findimage doctor` found a check that failed (warnings alone exit 0). */
export const EXIT_CHECKS_FAILED = 6;

export function exitCodeFor(code: ErrorCode): number {
  if (code === 'config_invalid') return EXIT_USAGE;
  if (code === 'checks_failed') return EXIT_CHECKS_FAILED;
  if (code.startsWith('model_')) return EXIT_MODEL;
  if (code.startsWith('store_')) return EXIT_STORE;
  if (code.startsWith('image_') || code === 'query_invalid' || code === 'not_found') return EXIT_INPUT;
  return EXIT_FAILURE;
}
