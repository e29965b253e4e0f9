// readImageFile on real files: a file over the limit is refused from its stat with nothing read
// (measured by the kernel's count of bytes this process read), and every way a path can fail is
// a typed error whose message names the path.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FindimageError, InvalidImageError } from '../errors.js';
import { readImageFile } from './image-files.js';

/** Bytes this process has read through read(2) and friends, from /proc/self/io. */
async function bytesReadSoFar(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1]);
}

const MB = 1024 * 1024;

describe('readImageFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-image-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a 600 MB file from its size without reading it', async () => {
    const big = join(dir, 'big.jpg');
    // Sparse: costs no disk, but reading it whole would read 600 MB of zeros.
    execFileSync('truncate', ['-s', '600M', big]);
    const before = await bytesReadSoFar();
    const error = await readImageFile(big, 'big.jpg', 50 * MB).catch((e: unknown) => e);
    const read = (await bytesReadSoFar()) - before;
    expect(error).toBeInstanceOf(InvalidImageError);
    expect((error as InvalidImageError).code).toBe('image_too_large');
    expect((error as Error).message).toBe('The file is 600.0 MB; findimage reads images up to 50 MB.');
    // Reading /proc/self/io itself counts a few kB; the file would be 600 MB.
    expect(read).toBeLessThan(MB);
  });

  it('reads a file within the limit whole, and never more than the limit', async () => {
    const path = join(dir, 'small.jpg');
    await writeFile(path, Buffer.alloc(1000, 7));
    const file = await readImageFile(path, 'small.jpg', 1000);
    expect(file.bytes).toEqual(Buffer.alloc(1000, 7));
    await expect(readImageFile(path, 'small.jpg', 999)).rejects.toMatchObject({ code: 'image_too_large' });
  });

  it('names what is wrong with a path that is not a readable image file', async () => {
    await mkdir(join(dir, 'folder.jpg'));
    await symlink('loop.jpg', join(dir, 'loop.jpg'));
    execFileSync('mkfifo', [join(dir, 'pipe.jpg')]);
    const failures = await Promise.all(
      ['missing.jpg', 'folder.jpg', 'loop.jpg', 'pipe.jpg'].map((name) =>
        readImageFile(join(dir, name), name).then(
          () => undefined,
          (e: unknown) => e as FindimageError,
        ),
      ),
    );
    expect(failures.map((f) => f instanceof FindimageError && f.code)).toEqual(['not_found', 'not_found', 'not_found', 'not_found']);
    expect(failures.map((f) => f?.message)).toEqual([
      'missing.jpg: there is no such file.',
      'folder.jpg is a folder, not an image file.',
      'loop.jpg: it is a symbolic link that loops back on itself.',
      'pipe.jpg is not a regular file (a pipe, socket or device), so it was not read.',
    ]);
  });
});
