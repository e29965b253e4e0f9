// Finds the installed findimage package's root folder, so that bundled models (models/tiny-test)
// are found the same way from src/ under tsx and from dist/ after a build.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FindimageError } from '../errors.js';

const PACKAGE_NAME = 'findimage';

let cached: string | undefined;

/** Absolute path of the folder holding findimage's package.json. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readsAsFindimage(manifest)) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new FindimageError(
        'internal',
        `Cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}; the installation looks incomplete. Reinstall findimage.`,
      );
    }
    dir = parent;
  }
}

function readsAsFindimage(manifest: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
    return parsed.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
