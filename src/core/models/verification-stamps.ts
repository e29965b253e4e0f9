// Remembers which model files were already hashed, so a 350 MB file is checked by sha256 once and
// by size on every start. A stamp is keyed by the file's absolute path and holds the size, mtime
// and inode seen when the hash matched; touching or replacing the file invalidates it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';

/** Stamps live in the cache, never in FINDIMAGE_MODEL_DIR (which may be read-only or shared). */
const STAMP_FOLDER = 'verified';

interface Stamp {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

export interface VerificationStampsOptions {
  /** The model cache folder; stamps go to `<cacheDir>/verified/`. */
  cacheDir: string;
  /** Warned when a stamp cannot be written. */
  logger: Logger;
}

/** Records and looks up "this exact file on disk had this sha256". */
export class VerificationStamps {
  private readonly dir: string;
  private readonly logger: Logger;

  constructor(options: VerificationStampsOptions) {
    this.dir = join(options.cacheDir, STAMP_FOLDER);
    this.logger = options.logger;
  }

  /** True when `path` was hashed to `sha256` and has not changed (size, mtime, inode) since. */
  async isVerified(path: string, sha256: string): Promise<boolean> {
    const absolute = resolve(path);
    let stamp: Stamp;
    try {
      stamp = JSON.parse(await readFile(this.stampPath(absolute), 'utf8')) as Stamp;
    } catch {
      return false;
    }
    const now = await stat(absolute).catch(() => undefined);
    return (
      now !== undefined &&
      stamp.path === absolute &&
      stamp.sha256 === sha256 &&
      stamp.size === now.size &&
      stamp.mtimeMs === now.mtimeMs &&
      stamp.ino === now.ino
    );
  }

  /** Records that `path`, as it is now, hashed to `sha256`. A failure to write only costs a re-hash. */
  async record(path: string, sha256: string): Promise<void> {
    const absolute = resolve(path);
    try {
      const now = await stat(absolute);
      const stamp: Stamp = { path: absolute, size: now.size, mtimeMs: now.mtimeMs, ino: now.ino, sha256 };
      await mkdir(this.dir, { recursive: true });
      const target = this.stampPath(absolute);
      const temporary = `${target}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(stamp));
      await rename(temporary, target);
    } catch (error) {
      this.logger.warn({ err: error, path: absolute }, 'could not record a model file as verified; it will be hashed again next start');
    }
  }

  private stampPath(absolute: string): string {
    return join(this.dir, `${createHash('sha256').update(absolute).digest('hex')}.json`);
  }
}
