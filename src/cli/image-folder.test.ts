// listFolderImages on a real folder of awkward entries: links followed once and loops reported,
// names that are not UTF-8 kept as bytes, huge files and pipes refused from stat, nothing silent.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFolderImages, type FolderListing } from './image-folder.js';

describe('listFolderImages', () => {
  let dir: string;
  let pics: string;
  let listing: FolderListing;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'findimage-folder-'));
    pics = join(dir, 'pics');
    await mkdir(join(pics, 'trip'), { recursive: true });
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(pics, 'a.png'), 'a');
    await writeFile(join(pics, 'trip', 'b.jpg'), 'b');
    await writeFile(join(pics, 'notes.txt'), 'not an image');
    await writeFile(join(pics, '.hidden.png'), 'hidden');
    await writeFile(join(dir, 'elsewhere', 'c.webp'), 'c');
    // Not UTF-8: a Latin-1 "café.jpg", made through a Buffer path.
    await writeFile(Buffer.from([...Buffer.from(`${pics}/caf`), 0xe9, ...Buffer.from('.jpg')]), 'latin1');
    await symlink(join(pics, 'a.png'), join(pics, 'z-link-to-a.png'));
    await link(join(pics, 'trip', 'b.jpg'), join(pics, 'trip', 'hard-b.jpg'));
    await symlink(join(dir, 'elsewhere'), join(pics, 'linked-folder'));
    await symlink(pics, join(pics, 'trip', 'loop'));
    await symlink(join(dir, 'gone.png'), join(pics, 'dangling.png'));
    await symlink('self.png', join(pics, 'self.png'));
    execFileSync('truncate', ['-s', '3G', join(pics, 'scan.tif')]);
    execFileSync('mkfifo', [join(pics, 'pipe.jpg')]);
    listing = await listFolderImages(pics);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists each real image file once, following links to files and folders', () => {
    expect(listing.images.map((i) => i.shown)).toEqual([
      'a.png',
      'caf\\xe9.jpg',
      'linked-folder/c.webp',
      'trip/b.jpg',
    ]);
    expect(listing.ignored).toBe(1);
  });

  it('keeps a name that is not UTF-8 as bytes to read, and shows it escaped', () => {
    const latin1 = listing.images.find((i) => i.shown === 'caf\\xe9.jpg');
    expect(latin1?.path).toEqual(Buffer.from([...Buffer.from(`${pics}/caf`), 0xe9, ...Buffer.from('.jpg')]));
    expect(latin1?.text).toBe(`${pics}/caf\\xe9.jpg`);
  });

  it('reports every entry it does not index, with the reason', () => {
    const reasons = Object.fromEntries(listing.skipped.map((s) => [s.path, s.reason]));
    expect(reasons).toEqual({
      'dangling.png': 'a symbolic link that was not followed: it points to nothing (the target is missing)',
      'pipe.jpg': 'not a regular file (a pipe, socket or device), so it was not read',
      'scan.tif': 'The file is 3072.0 MB; findimage reads images up to 50 MB.',
      'self.png': 'a symbolic link that was not followed: it loops back on itself',
      'trip/loop/': 'a link back to a folder above it (a loop), so not followed',
      'trip/hard-b.jpg': 'the same file as trip/b.jpg (a hard link), indexed once',
      'z-link-to-a.png': 'the same file as a.png (reached again through a link), indexed once',
    });
  });

  it('refuses a path that is not a folder, naming it', async () => {
    await expect(listFolderImages(join(pics, 'a.png'))).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('is not a folder') });
    await expect(listFolderImages(join(dir, 'nope'))).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('no such file') });
  });
});
