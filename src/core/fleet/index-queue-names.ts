// The names of the fleet's index queue in Redis, shared by those who add jobs, the workers and
// `findimage fleet status`: one BullMQ queue per model, since a worker embeds with one model.

/** BullMQ's key prefix for findimage's queues (every key findimage writes starts with "findimage:"). */
export const QUEUE_PREFIX = 'findimage';

/** The index queue of a model's images. */
export function indexQueueName(modelId: string): string {
  return `index-${modelId}`;
}
