// Decides whether a file on disk is exactly the model file the registry pins: size every time,
// sha256 once (then remembered in VerificationStamps until the file changes).
import { stat } from 'node:fs/promises';
import { sha256OfFile } from './file-digest.js';
import type { ModelFile } from './model-spec.js';
import type { VerificationStamps } from './verification-stamps.js';

/** What a check found. */
export type FileCheck =
  | { state: 'ok' }
  | { state: 'missing' }
  | { state: 'wrong-size'; actualSize: number }
  | { state: 'wrong-hash'; actualSha256: string };

export interface ModelFileVerifierOptions {
  /** Where hashes already checked are remembered. */
  stamps: VerificationStamps;
}

/** Checks files against their ModelFile pins. */
export class ModelFileVerifier {
  private readonly stamps: VerificationStamps;

  constructor(options: ModelFileVerifierOptions) {
    this.stamps = options.stamps;
  }

  /** True when a regular file exists at `path` (a folder or a broken link counts as missing). */
  async exists(path: string): Promise<boolean> {
    const info = await stat(path).catch(() => undefined);
    return info?.isFile() === true;
  }

  /** Size check, then a sha256 check unless this exact file was hashed before. */
  async check(path: string, file: ModelFile): Promise<FileCheck> {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile()) return { state: 'missing' };
    if (info.size !== file.size) return { state: 'wrong-size', actualSize: info.size };
    if (await this.stamps.isVerified(path, file.sha256)) return { state: 'ok' };
    const actualSha256 = await sha256OfFile(path);
    if (actualSha256 !== file.sha256) return { state: 'wrong-hash', actualSha256 };
    await this.stamps.record(path, file.sha256);
    return { state: 'ok' };
  }

  /** Remembers that `path` was just checked (used after a download already hashed it). */
  async remember(path: string, file: ModelFile): Promise<void> {
    await this.stamps.record(path, file.sha256);
  }
}

/** A short human description of a failed check, for error messages. */
export function describeMismatch(check: FileCheck, file: ModelFile): string {
  switch (check.state) {
    case 'wrong-size':
      return `expected ${file.size} bytes, found ${check.actualSize}`;
    case 'wrong-hash':
      return `expected sha256 ${file.sha256}, found ${check.actualSha256} (sizes match: ${file.size} bytes)`;
    case 'missing':
      return 'the file is missing';
    case 'ok':
      return 'the file matches';
  }
}
