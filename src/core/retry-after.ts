// Reads an HTTP Retry-After header: Qdrant and the chat platforms' file hosts both send one with
// a 429 or 503, and findimage waits what it asks for before trying again.

/** Seconds (or an HTTP date) from a Retry-After header, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
