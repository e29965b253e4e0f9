// Small integer codes for the strings the store filters on (tenants, channels, uploaders, ids),
// so that the in-memory scan compares numbers in typed arrays instead of strings in objects.

/** The code of a field a point does not have (no channel, no uploader). */
export const ABSENT_CODE = 0;

/** The code returned for a string no point has ever had: it matches no row. */
export const UNKNOWN_CODE = 0xffff_ffff;

/**
 * Hands out codes 1, 2, 3, ... in first-seen order and never forgets one: a code stays valid
 * for as long as the process runs, even after every point using it is deleted. The table is
 * rebuilt from the database at every open, so it holds at most the strings seen since then.
 */
export class StringCodes {
  readonly #codes = new Map<string, number>();
  /**
   * A saved table not yet turned into the map: read from the index block at open and expanded
   * on first use, so a table only deletions consult (message and file ids) costs nothing until then.
   */
  #pending: (() => readonly string[]) | null = null;

  /** How many strings have a code. */
  get size(): number {
    return this.#table().size;
  }

  /** The code of `value`, handing out a new one if needed; ABSENT_CODE for undefined. */
  intern(value: string | undefined): number {
    if (value === undefined) return ABSENT_CODE;
    const codes = this.#table();
    let code = codes.get(value);
    if (code === undefined) {
      code = codes.size + 1;
      codes.set(value, code);
    }
    return code;
  }

  /** The code of `value` if it has one, else UNKNOWN_CODE; never hands out a new code. */
  lookup(value: string): number {
    return this.#table().get(value) ?? UNKNOWN_CODE;
  }

  /** Every string with a code, in code order (code 1 first), for the saved index. */
  values(): string[] {
    return [...this.#table().keys()];
  }

  /** Forgets every code, then gives `values` codes 1, 2, 3, ... in order (a saved index). */
  restore(values: readonly string[]): void {
    this.restoreLater(() => values);
    this.#table();
  }

  /**
   * Like restore(), but `load` is called (and the table built) only when a code is first asked
   * for; a table read from the index block is thus parsed and hashed on first use, not at open.
   */
  restoreLater(load: () => readonly string[]): void {
    this.#codes.clear();
    this.#pending = load;
  }

  /** Forgets every code (used when the store reloads from disk). */
  clear(): void {
    this.#codes.clear();
    this.#pending = null;
  }

  #table(): Map<string, number> {
    const load = this.#pending;
    if (load !== null) {
      this.#pending = null;
      const codes = this.#codes;
      for (const value of load()) if (!codes.has(value)) codes.set(value, codes.size + 1);
    }
    return this.#codes;
  }
}
