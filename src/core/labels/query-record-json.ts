// How a QueryRecord is written as JSON by every LabelStore: dates as ISO strings, so a record
// read back equals the one saved.
import type { SearchFilters } from '../search/search-service.js';
import type { QueryRecord } from './label-store.js';

/** A QueryRecord with its dates as ISO strings. */
type StoredQuery = Omit<QueryRecord, 'filters' | 'createdAt'> & {
  filters: { channels?: string[]; uploaders?: string[]; after?: string; before?: string };
  createdAt: string;
};

export function queryToJson(query: QueryRecord): string {
  const stored: StoredQuery = {
    ...query,
    negativeTerms: [...query.negativeTerms],
    filters: filtersToJson(query.filters),
    createdAt: query.createdAt.toISOString(),
  };
  return JSON.stringify(stored);
}

export function queryFromJson(json: string): QueryRecord {
  const stored = JSON.parse(json) as StoredQuery;
  return { ...stored, filters: filtersFromJson(stored.filters), createdAt: new Date(stored.createdAt) };
}

function filtersToJson(filters: SearchFilters): StoredQuery['filters'] {
  const stored: StoredQuery['filters'] = {};
  if (filters.channels !== undefined) stored.channels = [...filters.channels];
  if (filters.uploaders !== undefined) stored.uploaders = [...filters.uploaders];
  if (filters.after !== undefined) stored.after = filters.after.toISOString();
  if (filters.before !== undefined) stored.before = filters.before.toISOString();
  return stored;
}

function filtersFromJson(stored: StoredQuery['filters']): SearchFilters {
  const filters: SearchFilters = {};
  if (stored.channels !== undefined) filters.channels = stored.channels;
  if (stored.uploaders !== undefined) filters.uploaders = stored.uploaders;
  if (stored.after !== undefined) filters.after = new Date(stored.after);
  if (stored.before !== undefined) filters.before = new Date(stored.before);
  return filters;
}
