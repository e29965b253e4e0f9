// Where the fleet's index jobs live in Redis: the BullMQ prefix and the queue name per model, so
// that the queue itself (fleet-indexing.ts), the workers and `findimage fleet status` agree on them.

/** BullMQ's key prefix for findimage's queues: every key starts with `findimage:` (KEY_PREFIX). */
export const QUEUE_PREFIX = 'findimage';

/**
 * The index queue of one model. One queue per model, because a job is embedded by the model its
 * queue names: during a reindex the old and the new model's jobs never mix, and a worker started
 * with another FINDIMAGE_MODEL takes none of them.
 */
export function indexQueueName(modelId: string): string {
  return `index-${modelId}`;
}
