// What a row of the vector matrix is made of, apart from its codes: the fields a point is
// filtered on, the typed-array columns holding them, and the id of each row with the map back
// from id to row (built lazily after a restore, since a reopen that only answers queries never
// looks an id up).
import type { CodeRows } from './code-rows.js';
import type { MatrixArrays } from './matrix-snapshot.js';
import type { FilterColumns } from './point-filter.js';
import type { ShareColumns, ShareFields } from './share-arena.js';

/** The filterable fields of one point, as the matrix keeps them. */
export interface RowFields {
  /** Tenant of the point. */
  tenant: string;
  /** Source of the point ("local", "slack", ...). */
  source: string;
  /** createdAt as epoch milliseconds. */
  createdAtMs: number;
  /** The point's shares, in payload order (an ImageShare[] will do). */
  shares: readonly ShareFields[];
}

/** The per-row columns; the shares live in the arena. */
export type RowColumns = Omit<FilterColumns, 'shares'> & {
  /** SQLite rowid of each row's point (where its float32 vector is), or -1 when unknown. */
  rowid: Float64Array;
};

/** One result of VectorMatrix.nearest(). */
export interface MatrixHit {
  /** Id of the point. */
  id: string;
  /** Dot product with the query (cosine similarity for unit vectors). */
  score: number;
}

/** A row whose float32 vector a search needs: its point id and where SQLite keeps it. */
export interface RowRef {
  /** Point id. */
  id: string;
  /** SQLite rowid last seen for the point, or -1 when unknown. */
  rowid: number;
}

/**
 * Reads the float32 vectors of these points from the store of record, in the order given;
 * undefined for a point that is gone.
 */
export type VectorReader = (rows: readonly RowRef[]) => (Float32Array | undefined)[];

/** Views of the first `slots` slots of share columns. */
export function cutShares(s: ShareColumns, slots: number): ShareColumns {
  return {
    conversation: s.conversation.subarray(0, slots),
    isPublic: s.isPublic.subarray(0, slots),
    uploader: s.uploader.subarray(0, slots),
    messageId: s.messageId.subarray(0, slots),
    fileId: s.fileId.subarray(0, slots),
  };
}

/** The whole columns under views made by cutShares (the arena takes whole columns). */
export function wholeShares(s: ShareColumns): ShareColumns {
  return {
    conversation: new Uint32Array(s.conversation.buffer),
    isPublic: new Uint8Array(s.isPublic.buffer),
    uploader: new Uint32Array(s.uploader.buffer),
    messageId: new Uint32Array(s.messageId.buffer),
    fileId: new Uint32Array(s.fileId.buffer),
  };
}

/** Zeroed per-row columns for `capacity` rows. */
export function allocateRowColumns(capacity: number): RowColumns {
  return {
    tenant: new Uint32Array(capacity),
    source: new Uint32Array(capacity),
    createdAt: new Float64Array(capacity),
    shareStart: new Uint32Array(capacity),
    shareCount: new Uint32Array(capacity),
    rowid: new Float64Array(capacity),
  };
}

/** `old`'s columns copied into new ones of `capacity` rows (which must not be fewer). */
export function grownRowColumns(old: RowColumns, capacity: number): RowColumns {
  const columns = allocateRowColumns(capacity);
  for (const key of Object.keys(columns) as (keyof RowColumns)[]) {
    (columns[key] as Float64Array).set(old[key] as Float64Array);
  }
  return columns;
}

/** Views of the per-row arrays over the first `size` rows, with these shares and lists. */
export function arraysOver(
  r: CodeRows,
  c: RowColumns,
  size: number,
  shares: ShareColumns,
  listOf: Int32Array,
): MatrixArrays {
  const cut = <T extends Float64Array | Uint32Array | Float32Array>(a: T): T =>
    a.subarray(0, size) as T;
  return {
    codes: r.codeBytes(size),
    scales: r.scaleValues(size),
    norm: cut(r.norm),
    residual: cut(r.residual),
    rowid: cut(c.rowid),
    tenant: cut(c.tenant),
    source: cut(c.source),
    createdAt: cut(c.createdAt),
    shareStart: cut(c.shareStart),
    shareCount: cut(c.shareCount),
    shares,
    listOf,
  };
}

/**
 * The point id of each row and the row of each id. After restore() the map is built on first
 * use (a write, a lookup by id, an exclusion), not at open: at 1M rows it took most of a second.
 */
export class RowIds {
  #ids: string[] = [];
  readonly #rowOf = new Map<string, number>();
  /** Whether #rowOf still has to be built from #ids (after a restore). */
  #pending = false;

  /** The id of every row, by row; valid until the next change. */
  get ids(): readonly string[] {
    return this.#ids;
  }

  /** The row of `id`, if it has one. */
  rowOf(id: string): number | undefined {
    return this.#map().get(id);
  }

  /** Gives row `row` (a new one, just past the last) to `id`. */
  add(id: string, row: number): void {
    this.#map().set(id, row);
    this.#ids[row] = id;
  }

  /** Forgets `id` at `row`, moving the last row's id into `row` (as the matrix moves rows). */
  remove(id: string, row: number): void {
    const map = this.#map();
    const last = this.#ids.length - 1;
    if (row !== last) {
      const moved = this.#ids[last] as string;
      this.#ids[row] = moved;
      map.set(moved, row);
    }
    this.#ids.pop();
    map.delete(id);
  }

  /**
   * Reorders the ids as the matrix reorders its rows (row i takes row order[i]'s id), updating
   * only the moved rows' entries: a regroup at each save of a bulk load would otherwise make the
   * next write rebuild the whole map (about 100 rebuilds over a 5M load).
   */
  permute(order: Int32Array): void {
    const before = this.#ids;
    const ids = Array.from(order, (row) => before[row] as string);
    this.#ids = ids;
    if (this.#pending) return;
    for (let row = 0; row < ids.length; row++) {
      if (order[row] !== row) this.#rowOf.set(ids[row] as string, row);
    }
  }

  /** Takes `ids` as the ids of rows 0, 1, 2, ...; the map is built when first needed. */
  restore(ids: string[]): void {
    this.#ids = ids;
    this.#rowOf.clear();
    this.#pending = true;
  }

  /** Forgets every row. */
  clear(): void {
    this.#ids = [];
    this.#rowOf.clear();
    this.#pending = false;
  }

  #map(): Map<string, number> {
    if (this.#pending) {
      this.#pending = false;
      const ids = this.#ids;
      for (let row = 0; row < ids.length; row++) this.#rowOf.set(ids[row] as string, row);
    }
    return this.#rowOf;
  }
}
