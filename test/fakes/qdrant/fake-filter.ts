// Qdrant's filter semantics for the fake: must (all), should (at least one, so an empty list
// matches nothing), must_not (none), match value/any, numeric and datetime ranges, has_id,
// is_empty, is_null and nested (the inner filter holds for at least one element of the array,
// keys relative to the element). A filter is compiled once, so a malformed one fails even on no
// points.
import type { Schemas } from '@qdrant/js-client-rest';
import { FakeQdrantError, formatError } from './fake-qdrant-error.js';
import { parsePointId, pointKey, type FakePointId } from './fake-point-id.js';

/** What a filter looks at: the point's id and its payload. */
export interface FilterablePoint {
  id: FakePointId;
  payload: Record<string, unknown>;
}

export type PointPredicate = (point: FilterablePoint) => boolean;

type Condition = Schemas['Condition'];
type ConditionList = Schemas['Filter']['must'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every value at a payload path ("a", "a.b", "a[].b"), "[]" spreading an array's elements. A
 * key finds nothing inside an array (Qdrant reads "a.b" of an array "a" as absent).
 */
function lookupAll(payload: Record<string, unknown>, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const part of key.split('.')) {
    const flatten = part.endsWith('[]');
    const name = flatten ? part.slice(0, -2) : part;
    const next: unknown[] = [];
    for (const item of current) {
      if (!isObject(item) || !(name in item)) continue;
      const value = item[name];
      // As Qdrant's JSON paths: "[]" spreads an array and finds nothing in any other value.
      if (!flatten) next.push(value);
      else if (Array.isArray(value)) next.push(...value);
    }
    current = next;
  }
  return current;
}

/** The value at a payload path ("a", "a.b", "a[].b"); undefined when absent. */
export function lookup(payload: Record<string, unknown>, key: string): unknown {
  const found = lookupAll(payload, key);
  if (found.length === 0) return undefined;
  return found.length === 1 ? found[0] : found;
}

/** Values a condition tests: an array's elements (an array matches if any element does). */
function valuesAt(payload: Record<string, unknown>, key: string): unknown[] {
  const value = lookup(payload, key);
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== null);
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Epoch milliseconds of a datetime string in the forms Qdrant accepts (RFC 3339, with or without
 * time zone, or a bare date); a missing zone means UTC, as in Qdrant. NaN when not a datetime.
 */
export function parseDatetime(text: string): number {
  const m = DATETIME.exec(text.trim());
  if (m === null) return NaN;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const ms = frac === '' ? '' : `.${frac.padEnd(3, '0').slice(0, 3)}`;
  const offset = zone === undefined || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${offset}`);
}

type Bound = 'lt' | 'gt' | 'gte' | 'lte';
const BOUNDS: readonly Bound[] = ['lt', 'gt', 'gte', 'lte'];

function compileRange(key: string, raw: unknown): PointPredicate {
  if (!isObject(raw)) throw formatError(`range of "${key}" must be an object`);
  const range = raw as Schemas['Range'] | Schemas['DatetimeRange'];
  const given = BOUNDS.filter((b) => range[b] !== undefined && range[b] !== null);
  const allNumbers = given.every((b) => typeof range[b] === 'number');
  const allStrings = given.every((b) => typeof range[b] === 'string');
  if (!allNumbers && !allStrings) {
    throw formatError('data did not match any variant of untagged enum RangeInterface');
  }
  const isDatetime = given.length > 0 && allStrings;
  const limits = new Map<Bound, number>();
  for (const b of given) {
    const value = range[b];
    const n = typeof value === 'string' ? parseDatetime(value) : Number(value);
    if (!Number.isFinite(n)) {
      throw formatError(`data did not match any variant of untagged enum RangeInterface`);
    }
    limits.set(b, n);
  }
  const inRange = (n: number): boolean =>
    (!limits.has('lt') || n < (limits.get('lt') as number)) &&
    (!limits.has('gt') || n > (limits.get('gt') as number)) &&
    (!limits.has('gte') || n >= (limits.get('gte') as number)) &&
    (!limits.has('lte') || n <= (limits.get('lte') as number));
  return (point) =>
    valuesAt(point.payload, key).some((v) => {
      if (isDatetime) return typeof v === 'string' && inRange(parseDatetime(v));
      return typeof v === 'number' && inRange(v);
    });
}

function compileMatch(key: string, raw: unknown): PointPredicate {
  if (!isObject(raw)) throw formatError(`match of "${key}" must be an object`);
  if ('value' in raw) {
    const { value } = raw as Schemas['MatchValue'];
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw formatError('data did not match any variant of untagged enum ValueVariants');
    }
    return (point) => valuesAt(point.payload, key).some((v) => v === value);
  }
  if ('any' in raw) {
    const { any } = raw as Schemas['MatchAny'];
    const list: readonly unknown[] = Array.isArray(any) ? any : [];
    if (!Array.isArray(any) || !(list.every((v) => typeof v === 'string') || list.every((v) => typeof v === 'number'))) {
      throw formatError('data did not match any variant of untagged enum AnyVariants');
    }
    const allowed = new Set<unknown>(list);
    return (point) => valuesAt(point.payload, key).some((v) => allowed.has(v));
  }
  throw new FakeQdrantError(
    400,
    `The fake Qdrant implements match "value" and "any" only, not ${JSON.stringify(Object.keys(raw))}`,
  );
}

function compileFieldCondition(raw: Record<string, unknown>): PointPredicate {
  const field = raw as unknown as Schemas['FieldCondition'];
  if (typeof field.key !== 'string' || field.key === '') throw formatError('"key" must be a string');
  const key = field.key;
  const parts: PointPredicate[] = [];
  if (field.match !== undefined && field.match !== null) parts.push(compileMatch(key, field.match));
  if (field.range !== undefined && field.range !== null) parts.push(compileRange(key, field.range));
  if (field.is_empty === true || field.is_empty === false) {
    const want = field.is_empty;
    parts.push((point) => isEmptyAt(point.payload, key) === want);
  }
  if (field.is_null === true || field.is_null === false) {
    const want = field.is_null;
    parts.push((point) => (lookup(point.payload, key) === null) === want);
  }
  for (const unsupported of ['geo_bounding_box', 'geo_radius', 'geo_polygon', 'values_count'] as const) {
    if (field[unsupported] !== undefined && field[unsupported] !== null) {
      throw new FakeQdrantError(400, `The fake Qdrant does not implement "${unsupported}" conditions`);
    }
  }
  if (parts.length !== 1) {
    throw new FakeQdrantError(
      422,
      `Validation error in JSON body: field condition on "${key}" must have exactly one condition, found ${parts.length}`,
    );
  }
  return parts[0] as PointPredicate;
}

/** Qdrant's is_empty: the field is missing, null or an empty array ([null] is not empty). */
function isEmptyAt(payload: Record<string, unknown>, key: string): boolean {
  const value = lookup(payload, key);
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}

function payloadField(raw: unknown, what: string): string {
  if (!isObject(raw) || typeof raw.key !== 'string') throw formatError(`${what} needs {"key": string}`);
  return raw.key;
}

/**
 * The elements of the array at a nested condition's key ("a", "a[]" or "a.b"): Qdrant reads
 * the key as "<key>[]", so a value that is not an array has no elements and never matches.
 */
function elementsAt(payload: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const path = key.endsWith('[]') ? key.slice(0, -2) : key;
  return lookupAll(payload, path).flatMap((value) => (Array.isArray(value) ? value.filter(isObject) : []));
}

/**
 * Qdrant's nested condition: true when ONE element of the array meets the whole inner filter,
 * so conditions on two fields cannot be met by two different elements. has_id means nothing
 * for an element, and Qdrant refuses it there.
 */
function compileNested(raw: unknown): PointPredicate {
  if (!isObject(raw)) throw formatError('"nested" must be an object');
  const nested = raw as unknown as Schemas['Nested'];
  if (typeof nested.key !== 'string' || nested.key === '') throw formatError('"nested.key" must be a string');
  if (!isObject(nested.filter)) throw formatError('missing field `filter`');
  const key = nested.key;
  const inner = compileFilter(nested.filter, true);
  return (point) => elementsAt(point.payload, key).some((element) => inner({ id: point.id, payload: element }));
}

function compileCondition(raw: unknown, insideNested: boolean): PointPredicate {
  if (!isObject(raw)) throw formatError('data did not match any variant of untagged enum Condition');
  if ('key' in raw) return compileFieldCondition(raw);
  if ('nested' in raw) return compileNested(raw.nested);
  if ('has_id' in raw) {
    if (insideNested) {
      throw new FakeQdrantError(400, 'Bad request: HasId condition is not supported inside nested filter, use it in the outer filter');
    }
    const { has_id } = raw as Schemas['HasIdCondition'];
    if (!Array.isArray(has_id)) throw formatError('"has_id" must be a list of point ids');
    const keys = new Set(has_id.map((id) => pointKey(parsePointId(id))));
    return (point) => keys.has(pointKey(point.id));
  }
  if ('is_empty' in raw) {
    const key = payloadField((raw as Schemas['IsEmptyCondition']).is_empty, 'is_empty');
    return (point) => isEmptyAt(point.payload, key);
  }
  if ('is_null' in raw) {
    const key = payloadField((raw as Schemas['IsNullCondition']).is_null, 'is_null');
    return (point) => lookup(point.payload, key) === null;
  }
  if ('has_vector' in raw) {
    throw new FakeQdrantError(400, 'The fake Qdrant does not implement has_vector conditions');
  }
  return compileFilter(raw as Schemas['Filter'], insideNested);
}

/** A Filter's clause is one condition or a list of them; null or absent means no clause. */
function compileList(raw: ConditionList, insideNested: boolean): PointPredicate[] | null {
  if (raw === undefined || raw === null) return null;
  const list: unknown[] = Array.isArray(raw) ? raw : [raw as Condition];
  return list.map((c) => compileCondition(c, insideNested));
}

/**
 * Compiles a Filter (or nothing, which matches every point) into a predicate. `insideNested`
 * is set for a nested condition's filter, which tests one array element as its payload.
 */
export function compileFilter(
  raw: Schemas['Filter'] | null | undefined | Record<string, unknown>,
  insideNested = false,
): PointPredicate {
  if (raw === undefined || raw === null) return () => true;
  if (!isObject(raw)) throw formatError('"filter" must be an object');
  const filter = raw as Schemas['Filter'];
  if (filter.min_should !== undefined && filter.min_should !== null) {
    throw new FakeQdrantError(400, 'The fake Qdrant does not implement min_should');
  }
  const must = compileList(filter.must, insideNested);
  const should = compileList(filter.should, insideNested);
  const mustNot = compileList(filter.must_not, insideNested);
  return (point) =>
    (must === null || must.every((c) => c(point))) &&
    // Qdrant: a present but empty `should` matches nothing (`iter().any` over no conditions).
    (should === null || should.some((c) => c(point))) &&
    (mustNot === null || mustNot.every((c) => !c(point)));
}
