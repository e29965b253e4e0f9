// How a new Qdrant collection is laid out over a cluster: how many shards, how many copies of
// each shard, and how many copies must apply a write before it succeeds (QDRANT_SHARDS,
// QDRANT_REPLICAS, QDRANT_WRITE_CONSISTENCY). Qdrant fixes these when a collection is created,
// so they are sent only then; an existing collection keeps its own, and a difference is logged.
import type { Schemas } from '@qdrant/js-client-rest';
import type { Logger } from '../../../logger.js';

/** The cluster settings of a collection findimage creates. Unset fields leave Qdrant's defaults. */
export interface ClusterLayout {
  /**
   * Shards of a new collection (`shard_number`). Unset: Qdrant's default, one shard on a single
   * server and one per node in a cluster (counted when the collection is created).
   */
  shards?: number;
  /** Copies of each shard (`replication_factor`); Qdrant's default is 1, so a node's loss loses data. */
  replicas?: number;
  /** Copies that must apply a write for it to succeed (`write_consistency_factor`); Qdrant's default is 1. */
  writeConsistency?: number;
}

/** Just the layout fields of a larger options object (a store's options extend ClusterLayout). */
export function layoutOf(options: ClusterLayout): ClusterLayout {
  return { shards: options.shards, replicas: options.replicas, writeConsistency: options.writeConsistency };
}

/** The fields of a CreateCollection body that carry a layout; only the ones set. */
export type ClusterParams = Pick<Schemas['CreateCollection'], 'shard_number' | 'replication_factor' | 'write_consistency_factor'>;

/** The CreateCollection fields for a layout: each field set in it, and nothing else. */
export function clusterParams(layout: ClusterLayout): ClusterParams {
  const params: ClusterParams = {};
  if (layout.shards !== undefined) params.shard_number = layout.shards;
  if (layout.replicas !== undefined) params.replication_factor = layout.replicas;
  if (layout.writeConsistency !== undefined) params.write_consistency_factor = layout.writeConsistency;
  return params;
}

/** A setting on which an existing collection differs from the configured layout. */
export interface LayoutDifference {
  /** Qdrant's name of the collection parameter ("replication_factor"). */
  param: keyof ClusterParams;
  /** What the collection has (null when Qdrant did not say). */
  found: number | null;
  /** What the configuration asks for. */
  wanted: number;
}

/** Where an existing collection's params differ from the layout's set fields. */
export function layoutDifferences(params: Schemas['CollectionParams'] | undefined, layout: ClusterLayout): LayoutDifference[] {
  const wanted = clusterParams(layout);
  const differences: LayoutDifference[] = [];
  for (const param of ['shard_number', 'replication_factor', 'write_consistency_factor'] as const) {
    const want = wanted[param];
    if (want === undefined || want === null) continue;
    const found = params?.[param];
    if (found !== want) differences.push({ param, found: typeof found === 'number' ? found : null, wanted: want });
  }
  return differences;
}

/**
 * Logs, at info, that an existing collection keeps a layout other than the configured one:
 * Qdrant fixes shards at creation and findimage never changes a collection it did not create
 * now. Moving to the new layout is a re-index (or Qdrant's own shard and replica operations).
 */
export function noteKeptLayout(
  logger: Logger,
  collection: string,
  params: Schemas['CollectionParams'] | undefined,
  layout: ClusterLayout,
): void {
  const differences = layoutDifferences(params, layout);
  if (differences.length === 0) return;
  logger.info(
    { collection, differences },
    'QDRANT_SHARDS, QDRANT_REPLICAS and QDRANT_WRITE_CONSISTENCY apply to new collections; this one keeps its own ' +
      '(findimage reindex builds a new one, or change it with Qdrant\'s cluster API)',
  );
}
