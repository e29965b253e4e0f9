// A vector store as the upload queue sees it during an outage, for tests: switched down, every
// call fails with the transient StoreError a Qdrant outage gives; single methods can fail alone;
// writes can be held mid-way (an upload being written) until the test releases them.
import { StoreError } from '../errors.js';
import type { PointInput, VectorStore } from '../store/vector-store.js';

export class SwitchableStore {
  /** While true, every call but close() fails as if the store were unreachable. */
  down = false;
  /** Methods that fail as if down while the others work. */
  readonly failing = new Set<keyof VectorStore>();
  /** Calls refused, by method. */
  readonly refused = new Map<string, number>();
  /** Calls let through, by method. */
  readonly made = new Map<string, number>();
  /** Writes held so far. */
  heldWrites = 0;
  /** The store to hand to the code under test. */
  readonly store: VectorStore;
  /** While set, matching writes wait for `until`. */
  #held: { until: Promise<void>; messageId: string | undefined; method: keyof VectorStore } | undefined;

  constructor(real: VectorStore) {
    this.store = new Proxy(real, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'close') return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          if (this.down || this.failing.has(property as keyof VectorStore)) {
            this.refused.set(String(property), this.refusedCalls(property as keyof VectorStore) + 1);
            throw new StoreError('store_unavailable', 'The vector store is unreachable.');
          }
          this.made.set(String(property), (this.made.get(String(property)) ?? 0) + 1);
          const held = this.#held;
          if (held !== undefined && property === held.method && (property !== 'upsert' || writesMessage(args[0] as PointInput[], held.messageId))) {
            this.heldWrites++;
            await held.until;
          }
          return method.apply(target, args);
        };
      },
    });
  }

  /**
   * Makes writes wait until the returned function is called: every upsert, or only those of images
   * shared in `messageId`; or, with `method`, every call of that method (a share update mid-way).
   */
  holdWrites(messageId?: string, method: keyof VectorStore = 'upsert'): () => void {
    let release: () => void = () => undefined;
    this.#held = { until: new Promise((resolve) => (release = resolve)), messageId, method };
    return () => {
      this.#held = undefined;
      release();
    };
  }

  /** How many calls of `method` were refused. */
  refusedCalls(method: keyof VectorStore): number {
    return this.refused.get(method) ?? 0;
  }
}

function writesMessage(points: readonly PointInput[], messageId: string | undefined): boolean {
  return messageId === undefined || points.some((p) => p.payload.shares.some((s) => s.messageId === messageId));
}
