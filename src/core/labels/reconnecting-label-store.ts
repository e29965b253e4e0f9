// A LabelStore in Qdrant that may not be reachable yet (serve started while Qdrant was down):
// calls fail with a transient "unavailable" error until the background connection succeeds.
import type { Logger } from 'pino';
import { Reconnector } from '../store/reconnector.js';
import type { Label, LabelFilter, LabelKey, LabelStore, LabelStoreContents, QueryRecord, ResultMessage } from './label-store.js';

export interface ReconnectingLabelStoreOptions {
  open: () => Promise<LabelStore>;
  /** Named in messages ("Qdrant at http://qdrant:6333"). */
  description: string;
  logger: Logger;
  retryDelayMs?: number;
}

export class ReconnectingLabelStore implements LabelStore {
  readonly #connection: Reconnector<LabelStore>;

  constructor(options: ReconnectingLabelStoreOptions) {
    this.#connection = new Reconnector({
      ...options,
      unavailableMessage: `The label store (${options.description}) is not reachable yet; findimage keeps trying. Reactions given meanwhile are not recorded.`,
    });
  }

  /** Resolves once connected; never rejects. */
  whenConnected(): Promise<void> {
    return this.#connection.whenConnected();
  }

  async recordQuery(query: QueryRecord): Promise<void> {
    return this.#connection.current().recordQuery(query);
  }
  async getQuery(tenant: string, queryId: string): Promise<QueryRecord | undefined> {
    return this.#connection.current().getQuery(tenant, queryId);
  }
  async recordResultMessage(message: ResultMessage): Promise<void> {
    return this.#connection.current().recordResultMessage(message);
  }
  async findResultMessages(tenant: string, conversation: string, messageId: string): Promise<ResultMessage[]> {
    return this.#connection.current().findResultMessages(tenant, conversation, messageId);
  }
  async resultMessagesForQuery(tenant: string, queryId: string): Promise<ResultMessage[]> {
    return this.#connection.current().resultMessagesForQuery(tenant, queryId);
  }
  async addLabel(label: Omit<Label, 'createdAt'> & { createdAt?: Date }): Promise<Label> {
    return this.#connection.current().addLabel(label);
  }
  async removeLabel(key: LabelKey): Promise<boolean> {
    return this.#connection.current().removeLabel(key);
  }
  async listLabels(filter: LabelFilter): Promise<Label[]> {
    return this.#connection.current().listLabels(filter);
  }
  async exportAll(): Promise<LabelStoreContents> {
    return this.#connection.current().exportAll();
  }
  close(): Promise<void> {
    return this.#connection.close();
  }
}
