// Point ids as Qdrant reads, prints and orders them: an unsigned integer or a UUID (any of the
// spellings Rust's uuid crate accepts), printed as lowercase hyphenated text, integers first.
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeQdrantError } from './fake-qdrant-error.js';

/** A parsed id: integers keep their value; UUIDs are kept in canonical lowercase form. */
export type FakePointId = { kind: 'num'; value: number } | { kind: 'uuid'; value: string };

const HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIMPLE = /^[0-9a-f]{32}$/i;

/** The 32 hex digits of a UUID in any accepted spelling, or null. */
function uuidDigits(text: string): string | null {
  let inner = text;
  if (/^urn:uuid:/i.test(inner)) inner = inner.slice('urn:uuid:'.length);
  else if (inner.startsWith('{') && inner.endsWith('}')) inner = inner.slice(1, -1);
  if (HYPHENATED.test(inner)) return inner.replaceAll('-', '').toLowerCase();
  if (SIMPLE.test(inner) && inner === text) return inner.toLowerCase();
  return null;
}

/** Reads an id the way Qdrant deserialises ExtendedPointId; a 400 like Qdrant's otherwise. */
export function parsePointId(raw: unknown): FakePointId {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) {
    return { kind: 'num', value: raw };
  }
  const h = typeof raw === 'string' ? uuidDigits(raw) : null;
  if (h !== null) {
    return {
      kind: 'uuid',
      value: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    };
  }
  throw new FakeQdrantError(
    400,
    `Format error in JSON body: value ${JSON.stringify(raw)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

/** The key a point is stored under: one string per distinct id. */
export function pointKey(id: FakePointId): string {
  return id.kind === 'num' ? `n:${id.value}` : `u:${id.value}`;
}

/** The id as Qdrant prints it in responses. */
export function printPointId(id: FakePointId): Schemas['ExtendedPointId'] {
  return id.value;
}

/** Qdrant's order: integers ascending, then UUIDs by their bytes (= lowercase hex order). */
export function comparePointIds(a: FakePointId, b: FakePointId): number {
  if (a.kind !== b.kind) return a.kind === 'num' ? -1 : 1;
  if (a.kind === 'num' && b.kind === 'num') return a.value - b.value;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}
