// A bounded first-in-first-out queue of waiting tasks, one per priority lane (after piscina's
// ArrayTaskQueue). It only stores; the pool decides what a full queue means for the caller.

export class TaskQueue<T> {
  readonly capacity: number;
  #items: T[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Tasks waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Whether push() would accept another task. */
  get hasRoom(): boolean {
    return this.#items.length < this.capacity;
  }

  /** The oldest task, left in place. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** The oldest matching task, left in place. */
  find(match: (item: T) => boolean): T | undefined {
    return this.#items.find(match);
  }

  /** Appends a task; false (and nothing stored) when the queue is at capacity. */
  push(item: T): boolean {
    if (!this.hasRoom) return false;
    this.#items.push(item);
    return true;
  }

  /**
   * Puts tasks back at the front, in the given order, even past capacity: they were admitted
   * once already (a crashed worker's batch coming back for its retry).
   */
  requeueFront(items: readonly T[]): void {
    this.#items.unshift(...items);
  }

  /** Removes one task; false when it was not here (already taken). */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item);
    if (index === -1) return false;
    this.#items.splice(index, 1);
    return true;
  }

  /** How many waiting tasks match. */
  count(match: (item: T) => boolean): number {
    let n = 0;
    for (const item of this.#items) if (match(item)) n++;
    return n;
  }

  /** Removes and returns up to `max` matching tasks, oldest first. */
  take(match: (item: T) => boolean, max: number): T[] {
    const taken: T[] = [];
    const kept: T[] = [];
    for (const item of this.#items) {
      if (taken.length < max && match(item)) taken.push(item);
      else kept.push(item);
    }
    this.#items = kept;
    return taken;
  }

  /** Removes and returns every task. */
  drain(): T[] {
    const all = this.#items;
    this.#items = [];
    return all;
  }
}
