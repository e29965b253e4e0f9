// Checks every VectorStore implementation runs before touching storage, so that SQLite and Qdrant
// refuse the same bad points, vectors, filters and page sizes with the same errors.
import { InvalidQueryError, StoreError } from '../errors.js';
import type { ImageShare, PointFilter, PointInput, PointScope, ShareFilter } from './vector-store.js';

/**
 * Most hits one query may ask for (offset + limit). A query keeps that many candidates in memory
 * and fetches their payloads; a chat reply shows at most a few dozen, so 10,000 is generous.
 */
export const MAX_QUERY_WINDOW = 10_000;

/** Most points one scroll page may return: a page carries full vectors (2 KB each at 512-d). */
export const MAX_SCROLL_PAGE = 10_000;

/**
 * Refuses a vector of the wrong length or with a NaN or infinite element. Such a vector comes
 * from a bug or a model change, never from a user, so the message says what was expected.
 */
export function checkVector(vector: Float32Array, dimension: number, what: string): void {
  if (!(vector instanceof Float32Array)) {
    throw new StoreError('vector_invalid', `${what} must be a Float32Array.`);
  }
  if (vector.length !== dimension) {
    throw new StoreError(
      'vector_invalid',
      `${what} has ${vector.length} numbers but this store holds ${dimension}-dimension vectors. ` +
        'The model probably changed: index into a store made for this model.',
      { details: { length: vector.length, dimension } },
    );
  }
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new StoreError('vector_invalid', `${what} has a non-finite number at position ${i}.`, {
        details: { position: i },
      });
    }
  }
}

/**
 * Refuses shares that a store could not filter on: not a list, a share without a conversation,
 * an isPublic that is not a boolean, or a sharedAt that is not a date. `what` names the owner
 * ("Point <id>") for the message.
 */
export function checkShares(shares: readonly ImageShare[], what: string): void {
  if (!Array.isArray(shares)) {
    throw new StoreError('vector_invalid', `${what} has no list of shares in its payload.`);
  }
  for (const share of shares) {
    if (typeof share?.conversation !== 'string' || share.conversation === '') {
      throw new StoreError('vector_invalid', `${what} has a share without a conversation.`);
    }
    if (typeof share.isPublic !== 'boolean') {
      throw new StoreError(
        'vector_invalid',
        `${what} has a share in ${share.conversation} that does not say whether it is public.`,
      );
    }
    if (typeof share.sharedAt !== 'string' || !Number.isFinite(Date.parse(share.sharedAt))) {
      throw new StoreError(
        'vector_invalid',
        `${what} has a share in ${share.conversation} whose sharedAt "${String(share.sharedAt)}" ` +
          'is not an ISO 8601 date.',
      );
    }
  }
}

/**
 * Refuses a batch with an empty id, a bad vector, or a payload without tenant, source, modelId,
 * a valid createdAt or a valid list of shares (the fields every store indexes or counts by).
 */
export function checkPoints(points: readonly PointInput[], dimension: number): void {
  for (const point of points) {
    if (typeof point.id !== 'string' || point.id === '') {
      throw new StoreError('vector_invalid', 'Every point needs a non-empty string id.');
    }
    checkVector(point.vector, dimension, `The vector of point ${point.id}`);
    const { tenant, source, modelId, createdAt } = point.payload;
    for (const [name, value] of [
      ['tenant', tenant],
      ['source', source],
      ['modelId', modelId],
    ] as const) {
      if (typeof value !== 'string' || value === '') {
        throw new StoreError('vector_invalid', `Point ${point.id} has no ${name} in its payload.`);
      }
    }
    if (!Number.isFinite(Date.parse(createdAt))) {
      throw new StoreError(
        'vector_invalid',
        `Point ${point.id} has createdAt "${createdAt}", which is not an ISO 8601 date.`,
      );
    }
    checkShares(point.payload.shares, `Point ${point.id}`);
  }
}

/** Refuses a filter without a tenant (a scope bug that would otherwise leak) or with bad dates. */
export function checkFilter(filter: PointFilter): void {
  if (typeof filter?.tenant !== 'string' || filter.tenant === '') {
    throw new InvalidQueryError('Every search or delete needs a tenant scope; none was given.');
  }
  for (const key of ['after', 'before'] as const) {
    const date = filter[key];
    if (date !== undefined && !(date instanceof Date && Number.isFinite(date.getTime()))) {
      throw new InvalidQueryError(`The "${key}" date of the filter is not a valid date.`);
    }
  }
}

/**
 * Refuses a get() or delete() scope without a tenant, and returns it as the PointFilter the
 * store applies: only tenant and scope, whatever else the object carries (withVector).
 */
export function pointScopeFilter(scope: PointScope): PointFilter {
  checkFilter(scope);
  return scope.scope === undefined ? { tenant: scope.tenant } : { tenant: scope.tenant, scope: scope.scope };
}

/**
 * Refuses a removeShares() filter without a `share` part: "take every share off" is never
 * what a deleted message or channel means, and deleteByFilter() exists for whole points.
 */
export function checkShareRemoval(filter: PointFilter): asserts filter is PointFilter & {
  share: ShareFilter;
} {
  checkFilter(filter);
  if (typeof filter.share !== 'object' || filter.share === null) {
    throw new InvalidQueryError('Removing shares needs a share filter (message, file or channel).');
  }
}

/**
 * Refuses a setSharesPublic() call without a tenant or conversation: changing the flag of every
 * share of a tenant (or of every tenant) is never what one conversation's change means.
 */
export function checkPrivacyChange(tenant: string, conversation: string, isPublic: boolean): void {
  checkFilter({ tenant });
  if (typeof conversation !== 'string' || conversation === '') {
    throw new InvalidQueryError('Changing whether shares are public needs the conversation they are in; none was given.');
  }
  if (typeof isPublic !== 'boolean') {
    throw new InvalidQueryError('Whether the shares are public must be true or false.');
  }
}

/** Refuses a limit or offset that is not a whole number in range. */
export function checkQueryWindow(limit: number, offset: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidQueryError(
      `A query limit must be a whole number of at least 1, not ${limit}.`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InvalidQueryError(
      `A query offset must be a whole number of at least 0, not ${offset}.`,
    );
  }
  if (limit + offset > MAX_QUERY_WINDOW) {
    throw new InvalidQueryError(
      `A query may reach at most ${MAX_QUERY_WINDOW} hits deep (offset ${offset} + limit ${limit}).`,
    );
  }
}

/** Refuses a scroll page size that is not a whole number in range. */
export function checkScrollLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SCROLL_PAGE) {
    throw new InvalidQueryError(
      `A scroll page must hold between 1 and ${MAX_SCROLL_PAGE} points, not ${limit}.`,
    );
  }
}
