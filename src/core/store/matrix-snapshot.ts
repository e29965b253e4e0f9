// The in-memory state of a VectorMatrix as plain typed arrays and strings: what the saved index
// file holds, so that reopening a store copies arrays instead of re-reading every row of SQLite.
import type { ShareColumns } from './share-arena.js';

/** Every per-row and per-slot array of a matrix, over its rows and used slots only. */
export interface MatrixArrays {
  /** int8 codes, `stride` bytes per row. */
  codes: Uint8Array;
  /** Scale of each row's codes. */
  scales: Float32Array;
  /** ‖v‖ of each row. */
  norm: Float32Array;
  /** ‖v - scale·codes‖ of each row. */
  residual: Float32Array;
  /** SQLite rowid of each row. */
  rowid: Float64Array;
  /** Tenant code of each row. */
  tenant: Uint32Array;
  /** Source code of each row. */
  source: Uint32Array;
  /** createdAt of each row, epoch ms. */
  createdAt: Float64Array;
  /** First share slot of each row. */
  shareStart: Uint32Array;
  /** Share count of each row. */
  shareCount: Uint32Array;
  /** The share slots. */
  shares: ShareColumns;
  /** List of each row in the partition index (-1: none); empty when there is no index. */
  listOf: Int32Array;
}

/** The rest of a matrix's state. */
export interface MatrixExtras {
  /** Row count. */
  rows: number;
  /** Share slots in use (live or freed). */
  slots: number;
  /** Interned tenants, sources, conversations and uploaders, in code order. */
  strings: readonly string[];
  /**
   * The interned message and file ids, in code order; a function so that a restore parses them
   * only when one is first needed (a write, or a filter on an id), not at open.
   */
  shareIds: () => readonly string[];
  /** Point id of each row. */
  ids: string[];
  /** Partition centroids (lists x dimension), or empty without an index. */
  centroids: Float32Array;
  /** Rows when the index was trained (0 without one). */
  trainedAt: number;
}

/** The arrays in the order the file holds them (with the extras' arrays after). */
export function arraysInOrder(arrays: MatrixArrays): ArrayBufferView[] {
  const s = arrays.shares;
  return [
    arrays.codes,
    arrays.scales,
    arrays.norm,
    arrays.residual,
    arrays.rowid,
    arrays.tenant,
    arrays.source,
    arrays.createdAt,
    arrays.shareStart,
    arrays.shareCount,
    s.conversation,
    s.isPublic,
    s.uploader,
    s.messageId,
    s.fileId,
    arrays.listOf,
  ];
}
