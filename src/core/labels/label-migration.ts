// Copies everything a LabelStore holds into another (embedded to Qdrant and back), so moving
// the vectors does not leave a team's labels and query history behind. Safe to run twice:
// every record is keyed, and a label already present is kept.
import type { LabelStore } from './label-store.js';

export interface LabelCopyResult {
  queries: number;
  resultMessages: number;
  labels: number;
}

export async function copyLabels(from: LabelStore, to: LabelStore): Promise<LabelCopyResult> {
  const contents = await from.exportAll();
  for (const query of contents.queries) await to.recordQuery(query);
  for (const message of contents.resultMessages) await to.recordResultMessage(message);
  for (const label of contents.labels) await to.addLabel(label);
  return {
    queries: contents.queries.length,
    resultMessages: contents.resultMessages.length,
    labels: contents.labels.length,
  };
}
