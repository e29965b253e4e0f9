// Content claims: before an image is embedded, its point id is claimed in a small SQLite table
// that every findimage process on this data folder shares, so two processes indexing the same
// images (two `findimage index` runs, or one beside the bot) never embed one image twice. A
// claim left by a process that died is taken over, so kill -9 never blocks a later run.
import { isProcessAlive } from '../process-liveness.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite/open-database.js';

/** Claims on images being embedded now; ImageIndexer takes one before it embeds. */
export interface ContentClaims {
  /**
   * Waits until no other holder is embedding the image `id`, then claims it. The holder
   * checks the store again (the other may have finished it) and releases the claim when done.
   */
  claim(id: string): Promise<ContentClaim>;
  /**
   * Claims the image `id` at once if no other holder is embedding it, else returns undefined
   * without waiting (ImageIndexer then knows this image will be late for the current batch).
   */
  tryClaim?(id: string): ContentClaim | undefined;
  /** Claims taken so far by this process (for /metrics), where the claims count them. */
  readonly claimsTaken?: number;
}

/** A claim held on one image. */
export interface ContentClaim {
  /** Gives the claim up (after the image was stored, or when embedding failed). */
  release(): void;
}

/**
 * The claims file of a model's store under FINDIMAGE_DATA. Claims are per model: the same image
 * has the same point id in every model's index, and each index embeds it once.
 */
export function contentClaimsPath(dataDir: string, modelId: string): string {
  return join(dataDir, 'claims', `${modelId}.sqlite`);
}

/** How often a waiting process looks again at a claim another process holds. */
export const CLAIM_POLL_MS = 25;

/**
 * A claim older than this is taken over even if its process seems alive (its pid may have been
 * reused). Embedding one image takes well under a second; at worst a takeover costs one
 * embedding done twice, never a wrong result.
 */
export const STALE_CLAIM_MS = 2 * 60_000;

interface ClaimRow {
  holder: string;
  pid: number;
  host: string;
  claimed_at: number;
}

/** Holders open in this process, so a claim with our pid but an unknown holder is known dead. */
const liveHolders = new Set<string>();

export interface SqliteContentClaimsOptions {
  /** The claims file, under FINDIMAGE_DATA, one per store (model). */
  path: string;
  /** Milliseconds between looks at a claim held elsewhere (default CLAIM_POLL_MS). */
  pollMs?: number;
}

/** ContentClaims in a SQLite file shared by the processes of one host. */
export class SqliteContentClaims implements ContentClaims {
  readonly #db: Database.Database;
  readonly #holder = randomUUID();
  readonly #host = hostname();
  readonly #pollMs: number;
  readonly #tryClaim: (id: string) => boolean;
  readonly #release: Database.Statement<[string, string]>;

  constructor(options: SqliteContentClaimsOptions) {
    this.#pollMs = options.pollMs ?? CLAIM_POLL_MS;
    // A claim lives for one embedding, and a claim lost to a power cut only costs one image
    // embedded twice: no fsync per claim.
    this.#db = openDatabase(options.path, { what: 'indexing claims', durability: 'rebuildable' });
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS claims (
         id TEXT PRIMARY KEY,
         holder TEXT NOT NULL,
         pid INTEGER NOT NULL,
         host TEXT NOT NULL,
         claimed_at INTEGER NOT NULL
       )`,
    );
    const read = this.#db.prepare<[string], ClaimRow>('SELECT holder, pid, host, claimed_at FROM claims WHERE id = ?');
    const write = this.#db.prepare<[string, string, number, string, number]>(
      'INSERT OR REPLACE INTO claims (id, holder, pid, host, claimed_at) VALUES (?, ?, ?, ?, ?)',
    );
    // IMMEDIATE: the write lock is taken before the read, so two processes cannot both see
    // the id unclaimed and both claim it.
    const tryClaim = this.#db.transaction((id: string): boolean => {
      const row = read.get(id);
      if (row !== undefined && !this.#isAbandoned(row)) return false;
      write.run(id, this.#holder, process.pid, this.#host, Date.now());
      return true;
    });
    this.#tryClaim = (id) => tryClaim.immediate(id);
    this.#release = this.#db.prepare('DELETE FROM claims WHERE id = ? AND holder = ?');
    liveHolders.add(this.#holder);
  }

  async claim(id: string): Promise<ContentClaim> {
    while (!this.#tryClaim(id)) {
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
    }
    return this.#held(id);
  }

  tryClaim(id: string): ContentClaim | undefined {
    return this.#tryClaim(id) ? this.#held(id) : undefined;
  }

  #held(id: string): ContentClaim {
    let held = true;
    return {
      release: () => {
        if (!held || !this.#db.open) return;
        held = false;
        this.#release.run(id, this.#holder);
      },
    };
  }

  /** Closes the file; claims still held are released. */
  close(): void {
    liveHolders.delete(this.#holder);
    if (!this.#db.open) return;
    this.#db.prepare('DELETE FROM claims WHERE holder = ?').run(this.#holder);
    this.#db.close();
  }

  /** True when the claim's process is gone (or the claim is too old to trust). */
  #isAbandoned(row: ClaimRow): boolean {
    if (Date.now() - row.claimed_at > STALE_CLAIM_MS) return true;
    if (row.host !== this.#host) return false;
    if (row.pid === process.pid) return !liveHolders.has(row.holder);
    return !isProcessAlive(row.pid);
  }
}
