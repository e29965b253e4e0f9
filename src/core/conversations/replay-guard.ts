// Remembers the platform request ids it has seen lately, so a replayed button press or slash
// command (Slack retries a request it thinks failed) is acted on once, not twice.

/**
 * Requests remembered. Platforms retry within seconds to a few minutes, so the last ten thousand
 * requests cover every retry of a busy workspace; each key is a short string.
 */
export const REMEMBERED_REQUESTS = 10_000;

/** Remembers which platform requests were acted on, here or (in a fleet) on any replica. */
export interface ReplayMemory {
  /**
   * True the first time `key` is seen (act on it), false for a replay (do nothing). Never
   * throws: a memory that cannot reach its store answers from this process's own memory.
   */
  firstTime(key: string): Promise<boolean>;
}

/** A ReplayMemory in this process: enough for one replica, and the fleet's fallback. */
export class ReplayGuard implements ReplayMemory {
  readonly #seen = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = REMEMBERED_REQUESTS) {
    this.#capacity = capacity;
  }

  async firstTime(key: string): Promise<boolean> {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}
