// Gathers a tenant's labels into judged queries: each text query that people reacted to, with
// the net verdict on each image (thumbs-up minus thumbs-down across users).
import type { LabelStore, QueryRecord } from '../labels/label-store.js';

/** A query people judged, and the net verdict per image: +1 relevant, -1 not (ties dropped). */
export interface LabelledQuery {
  query: QueryRecord;
  labels: Map<string, number>;
}

/** Every text query of the tenant that has at least one net verdict, oldest label first. */
export async function labelledQueries(labelStore: LabelStore, tenant: string): Promise<LabelledQuery[]> {
  const byQuery = new Map<string, Map<string, number>>();
  for (const label of await labelStore.listLabels({ tenant })) {
    const votes = byQuery.get(label.queryId) ?? new Map<string, number>();
    votes.set(label.imageId, (votes.get(label.imageId) ?? 0) + label.value);
    byQuery.set(label.queryId, votes);
  }
  const result: LabelledQuery[] = [];
  for (const [queryId, votes] of byQuery) {
    const query = await labelStore.getQuery(tenant, queryId);
    if (query === undefined || query.kind !== 'text') continue;
    const labels = new Map<string, number>();
    for (const [imageId, net] of votes) if (net !== 0) labels.set(imageId, Math.sign(net));
    if (labels.size > 0) result.push({ query, labels });
  }
  return result;
}

/** The form in which two query texts count as the same question. */
export function sameQuestionKey(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}
