// Turns a PointFilter into a row test over the in-memory columns, with the semantics documented
// on PointFilter in vector-store.ts. Strings are compared as codes, dates as epoch milliseconds.
import { StringCodes, UNKNOWN_CODE } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

/** The filterable fields of every row, one typed array per field, indexed by row. */
export interface FilterColumns {
  /** Code of the payload's tenant. */
  tenant: Uint32Array;
  /** Code of the payload's source. */
  source: Uint32Array;
  /** Code of the payload's channel, or ABSENT_CODE. */
  channel: Uint32Array;
  /** 1 when the payload says the channel is public, else 0. */
  channelIsPublic: Uint8Array;
  /** Code of the payload's uploader, or ABSENT_CODE. */
  uploader: Uint32Array;
  /** Code of the payload's message id, or ABSENT_CODE. */
  messageId: Uint32Array;
  /** Code of the payload's file id, or ABSENT_CODE. */
  fileId: Uint32Array;
  /** The payload's createdAt as epoch milliseconds. */
  createdAt: Float64Array;
}

/**
 * A lookup table over codes: `table[code] === 1` for the codes of the given strings. Strings no
 * point has ever had are left out, so an empty table (length 0) matches nothing.
 */
function codeTable(values: readonly string[], codes: StringCodes): Uint8Array {
  const known = values.map((v) => codes.lookup(v)).filter((c) => c !== UNKNOWN_CODE);
  const table = new Uint8Array(known.length === 0 ? 0 : Math.max(...known) + 1);
  for (const code of known) table[code] = 1;
  return table;
}

function inTable(table: Uint8Array, code: number): boolean {
  return code < table.length && table[code] === 1;
}

/** A compiled filter; build one per call, since codes and columns change with every write. */
export class RowFilter {
  readonly #columns: FilterColumns;
  readonly #tenant: number;
  readonly #channels: Uint8Array | null;
  readonly #includePublic: boolean;
  readonly #uploaders: Uint8Array | null;
  readonly #sources: Uint8Array | null;
  readonly #messageId: number | null;
  readonly #fileId: number | null;
  readonly #after: number;
  readonly #before: number;
  readonly #excludedRows: ReadonlySet<number>;

  /**
   * `excludedRows` are the rows of `filter.excludeIds` that exist; the caller maps ids to rows
   * because only it knows where each id lives.
   */
  constructor(
    filter: PointFilter,
    columns: FilterColumns,
    codes: StringCodes,
    excludedRows: ReadonlySet<number>,
  ) {
    this.#columns = columns;
    this.#tenant = codes.lookup(filter.tenant);
    this.#channels = filter.channels === undefined ? null : codeTable(filter.channels, codes);
    this.#includePublic = filter.includePublic === true;
    this.#uploaders = filter.uploaders === undefined ? null : codeTable(filter.uploaders, codes);
    this.#sources = filter.sources === undefined ? null : codeTable(filter.sources, codes);
    this.#messageId = filter.messageId === undefined ? null : codes.lookup(filter.messageId);
    this.#fileId = filter.fileId === undefined ? null : codes.lookup(filter.fileId);
    this.#after = filter.after === undefined ? -Infinity : filter.after.getTime();
    this.#before = filter.before === undefined ? Infinity : filter.before.getTime();
    this.#excludedRows = excludedRows;
  }

  /** True when no row can match (the tenant has never been seen), so a scan can be skipped. */
  get matchesNothing(): boolean {
    return this.#tenant === UNKNOWN_CODE;
  }

  /** Whether row `row` passes every part of the filter. */
  matches(row: number): boolean {
    const c = this.#columns;
    if (c.tenant[row] !== this.#tenant) return false;
    if (this.#channels !== null) {
      const inChannel = inTable(this.#channels, c.channel[row] as number);
      if (!inChannel && !(this.#includePublic && c.channelIsPublic[row] === 1)) return false;
    }
    if (this.#uploaders !== null && !inTable(this.#uploaders, c.uploader[row] as number))
      return false;
    if (this.#sources !== null && !inTable(this.#sources, c.source[row] as number)) return false;
    if (this.#messageId !== null && c.messageId[row] !== this.#messageId) return false;
    if (this.#fileId !== null && c.fileId[row] !== this.#fileId) return false;
    const createdAt = c.createdAt[row] as number;
    if (createdAt < this.#after || createdAt >= this.#before) return false;
    if (this.#excludedRows.size > 0 && this.#excludedRows.has(row)) return false;
    return true;
  }

  /** Writes the matching rows among 0..rowCount-1 into `out`, in row order; returns how many. */
  collect(rowCount: number, out: Int32Array): number {
    if (this.matchesNothing) return 0;
    let found = 0;
    for (let row = 0; row < rowCount; row++) {
      if (this.matches(row)) out[found++] = row;
    }
    return found;
  }
}
