// Turns a PointFilter into a row test over the in-memory columns, with the semantics documented
// on PointFilter in vector-store.ts. Strings are compared as codes, dates as epoch milliseconds.
// A row matches when its point-level fields do and ONE of its shares meets scope and share
// together; image-shares.ts states the same rule for one share object.
import type { RowSlots, ShareColumns } from './share-arena.js';
import { StringCodes, UNKNOWN_CODE } from './string-codes.js';
import type { PointFilter } from './vector-store.js';

/** The filterable fields of every row, one typed array per field, indexed by row. */
export interface FilterColumns extends RowSlots {
  /** Code of the payload's tenant. */
  tenant: Uint32Array;
  /** Code of the payload's source. */
  source: Uint32Array;
  /** The payload's createdAt as epoch milliseconds. */
  createdAt: Float64Array;
  /** Every row's shares, at the slots shareStart/shareCount give. */
  shares: ShareColumns;
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
  readonly #sources: Uint8Array | null;
  readonly #after: number;
  readonly #before: number;
  readonly #excludedRows: ReadonlySet<number>;
  /** Whether a row needs a share meeting the conditions below (scope or share given). */
  readonly #needsShare: boolean;
  readonly #scope: Uint8Array | null;
  readonly #includePublic: boolean;
  readonly #conversations: Uint8Array | null;
  readonly #uploaders: Uint8Array | null;
  readonly #messageId: number | null;
  readonly #fileId: number | null;
  /** Whether `after` or `before` was given (a row's date is read only then). */
  readonly #datesGiven: boolean;
  /**
   * True when every share of a listed conversation (or a public share, with includePublic) is
   * sure to meet scope and share together: scope alone, or share naming only conversations.
   * A row taken from those conversations' lists then needs only its point fields tested.
   */
  readonly listedRowsMeetShares: boolean;

  /**
   * `codes` code tenants, sources, conversations and uploaders, `idCodes` message and file ids.
   * `excludedRows` are the rows of `filter.excludeIds` that exist; the caller maps ids to rows
   * because only it knows where each id lives.
   */
  constructor(
    filter: PointFilter,
    columns: FilterColumns,
    codes: StringCodes,
    idCodes: StringCodes,
    excludedRows: ReadonlySet<number>,
  ) {
    const { scope, share } = filter;
    this.#columns = columns;
    this.#tenant = codes.lookup(filter.tenant);
    this.#sources = filter.sources === undefined ? null : codeTable(filter.sources, codes);
    this.#after = filter.after === undefined ? -Infinity : filter.after.getTime();
    this.#before = filter.before === undefined ? Infinity : filter.before.getTime();
    this.#excludedRows = excludedRows;
    this.#needsShare = scope !== undefined || share !== undefined;
    this.#scope = scope === undefined ? null : codeTable(scope.conversations, codes);
    this.#includePublic = scope?.includePublic === true;
    this.#conversations =
      share?.conversations === undefined ? null : codeTable(share.conversations, codes);
    this.#uploaders = share?.uploaders === undefined ? null : codeTable(share.uploaders, codes);
    this.#messageId = share?.messageId === undefined ? null : idCodes.lookup(share.messageId);
    this.#fileId = share?.fileId === undefined ? null : idCodes.lookup(share.fileId);
    this.#datesGiven = filter.after !== undefined || filter.before !== undefined;
    const shareNamesOnlyConversations =
      share !== undefined &&
      share.conversations !== undefined &&
      share.uploaders === undefined &&
      share.messageId === undefined &&
      share.fileId === undefined;
    this.listedRowsMeetShares =
      (scope !== undefined && share === undefined) ||
      (scope === undefined && shareNamesOnlyConversations);
  }

  /** True when no row can match (the tenant has never been seen), so a scan can be skipped. */
  get matchesNothing(): boolean {
    return this.#tenant === UNKNOWN_CODE;
  }

  /** Whether row `row` passes every part of the filter. */
  matches(row: number): boolean {
    if (!this.matchesPointFields(row)) return false;
    if (!this.#needsShare) return true;
    const c = this.#columns;
    const start = c.shareStart[row] as number;
    const end = start + (c.shareCount[row] as number);
    for (let slot = start; slot < end; slot++) {
      if (this.#shareMeets(slot)) return true;
    }
    return false;
  }

  /**
   * Whether row `row` passes the point-level parts of the filter (tenant, sources, dates,
   * excluded ids), shares aside. Only for rows whose shares are known to meet the filter: see
   * listedRowsMeetShares.
   */
  matchesPointFields(row: number): boolean {
    const c = this.#columns;
    if (c.tenant[row] !== this.#tenant) return false;
    if (this.#sources !== null && !inTable(this.#sources, c.source[row] as number)) return false;
    if (this.#datesGiven) {
      const createdAt = c.createdAt[row] as number;
      if (createdAt < this.#after || createdAt >= this.#before) return false;
    }
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

  /** Whether the share in `slot` meets the scope and every share field. */
  #shareMeets(slot: number): boolean {
    const s = this.#columns.shares;
    const conversation = s.conversation[slot] as number;
    if (
      this.#scope !== null &&
      !inTable(this.#scope, conversation) &&
      !(this.#includePublic && s.isPublic[slot] === 1)
    ) {
      return false;
    }
    if (this.#conversations !== null && !inTable(this.#conversations, conversation)) return false;
    if (this.#uploaders !== null && !inTable(this.#uploaders, s.uploader[slot] as number))
      return false;
    if (this.#messageId !== null && s.messageId[slot] !== this.#messageId) return false;
    if (this.#fileId !== null && s.fileId[slot] !== this.#fileId) return false;
    return true;
  }
}
